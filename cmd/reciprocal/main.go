// Command reciprocal watches the Go issue tracker, Gerrit and the Go
// vulnerability database for work that touches what your clients told you
// they need, and tells you whom to consult before the decision is made.
//
// Run "reciprocal demo" to see it work offline, "reciprocal help" for the
// commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

func main() {
	// A soft limit on the Go heap: near it the garbage collector works
	// harder instead of letting a long run (a first import of years of
	// history, a reindex) grow past what a small server has. The work
	// itself is bounded by batch sizes; this trims the collector's slack.
	// GOMEMLIMIT, if set, wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	quickReads = true
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// memoryLimit is the default soft limit of the Go heap.
const memoryLimit = 256 << 20

// quickReads turns the garbage collector off for the commands annotated
// quick (search, show, status): they live for milliseconds and allocate far
// less than the memory limit, at which the collector still runs, so
// collecting during them only adds time (about 15% of a whole-process
// search). Only main sets it: tests run many commands in one process.
var quickReads bool

// annotQuick marks a command as a quick read (see quickReads).
const annotQuick = "quick"

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// run runs the command line args and returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	setupLogging(stderr)
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	clock, err := clockFromEnv()
	if err != nil {
		return a.fail(nil, err)
	}
	a.clock = clock
	return a.run(ctx, args)
}

// run runs the command line args on the app's clock and streams and returns
// the exit code.
func (a *app) run(ctx context.Context, args []string) int {
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return a.exitCode
	}
	return a.fail(cmd, err)
}

// fail says what went wrong with the command cmd (nil before one ran) and
// returns the exit code.
func (a *app) fail(cmd *cobra.Command, err error) int {
	stderr := a.stderr
	var ue *usageError
	if errors.As(err, &ue) || isCobraUsageError(err) {
		fmt.Fprintf(stderr, "reciprocal: %v\n", err)
		if cmd != nil {
			fmt.Fprintf(stderr, "usage: %s\n", cmd.UseLine())
			fmt.Fprintf(stderr, "run '%s --help' for more\n", cmd.CommandPath())
		}
		return exitUsage
	}
	var se *silentError
	if errors.As(err, &se) {
		return se.code
	}
	fmt.Fprintf(stderr, "reciprocal: %s\n", uniqueLines(err.Error()))
	var h hinted
	if errors.As(err, &h) && h.Hint() != "" {
		fmt.Fprintf(stderr, "hint: %s\n", h.Hint())
	} else if hint := hintFor(err); hint != "" {
		fmt.Fprintf(stderr, "hint: %s\n", hint)
	}
	return exitFail
}

// uniqueLines drops the repeated lines of a message: steps of one command
// that fail on the same cause (every step of a sync on a damaged store)
// join the same error several times, and once is enough to read.
func uniqueLines(msg string) string {
	lines := strings.Split(msg, "\n")
	seen := make(map[string]bool, len(lines))
	out := lines[:0]
	for _, l := range lines {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// setupLogging sends slog's structured lines to stderr: long operations
// log their progress there when stderr is not a terminal (cron, systemd);
// on a terminal they show a progress line instead and only warnings are
// logged. $RECIPROCAL_LOG (debug, info, warn, error) overrides the level.
func setupLogging(stderr io.Writer) {
	level := slog.LevelInfo
	if isTerminal(stderr) {
		level = slog.LevelWarn
	}
	if v := os.Getenv("RECIPROCAL_LOG"); v != "" {
		level.UnmarshalText([]byte(v))
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})))
}

// rootCommand builds the command tree.
func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "reciprocal",
		Short: "Consult your clients before the Go project decides what touches them",
		Long: `reciprocal watches the Go issue tracker, Go's Gerrit and the Go vulnerability
database, indexes everything locally, matches each new or changed item against
your clients' recorded concerns, queues consult prompts and mails you a daily
briefing.

Start with 'reciprocal demo' to see the whole loop offline.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{err} })
	root.PersistentPreRun = func(c *cobra.Command, _ []string) {
		if quickReads && c.Annotations[annotQuick] != "" {
			debug.SetGCPercent(-1)
		}
	}
	root.PersistentFlags().StringVar(&a.configFlag, "config", "", "configuration file (default $RECIPROCAL_CONFIG or $XDG_CONFIG_HOME/reciprocal/reciprocal.toml)")
	root.PersistentFlags().StringVar(&a.dataFlag, "data", "", "data directory (default $RECIPROCAL_DATA, data_dir in the config, or $XDG_DATA_HOME/reciprocal)")
	for _, mk := range commands {
		root.AddCommand(mk(a))
	}
	return root
}

// commands are the constructors of the subcommands; each file of this
// package adds its own in an init function.
var commands []func(*app) *cobra.Command

// A usageError is a mistake in how a command was called (exit status 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return &usageError{fmt.Errorf(format, args...)} }

// isCobraUsageError recognizes the argument errors cobra produces.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"accepts ", "requires at least", "requires at most", "unknown command", "unknown flag", "unknown shorthand", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

// A silentError ends the command with an exit code, having already said why.
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// hinted is an error that carries a hint for the user about what to do.
type hinted interface{ Hint() string }

// hintError adds a hint line to an error.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }
func (e *hintError) Hint() string  { return e.hint }

func withHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hintError{err: err, hint: hint}
}

// hintFor returns the hint for errors that can surface from any command.
func hintFor(err error) string {
	switch {
	case errors.Is(err, store.ErrDamaged):
		return "export what can still be read with 'reciprocal export -o salvage.jsonl', then start a new data directory from it: 'reciprocal --data NEWDIR import --skip-bad salvage.jsonl' (the next sync fetches again what was lost)"
	case errors.Is(err, store.ErrReadOnly):
		return "search, show, export, status and the other reads work on it; to sync, match or change the queue, copy it to a writable place (cp -a DIR NEWDIR) and use --data NEWDIR"
	case errors.Is(err, index.ErrDamaged), errors.Is(err, index.ErrMissing):
		return "the index is derived from the store: 'reciprocal reindex' rebuilds it and loses nothing"
	}
	return ""
}
