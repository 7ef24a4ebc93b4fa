package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/internal/outfile"
	"github.com/reciprocal-access/reciprocal/notify/report"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// app is the state shared by the subcommands: global flags and streams.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	configFlag string
	dataFlag   string

	exitCode int // set by commands that succeed but want a non-zero status

	cfg *configs.Config // loaded by config()

	srcOpts sourceOptions // how sources are built (the demo points them at its servers)

	// clock is the one clock of every command: the real time, or
	// RECIPROCAL_NOW (see clockFromEnv); tests and the demo (its simulated
	// days) set their own.
	clock func() time.Time
}

// now returns the current time on the commands' clock.
func (a *app) now() time.Time { return a.clock() }

// nowEnv names the environment variable that stops the clock.
const nowEnv = "RECIPROCAL_NOW"

// clockFromEnv returns the commands' clock: the real time, or the time
// RECIPROCAL_NOW says (RFC 3339, or a day, meaning its midnight UTC), for
// tests and demonstrations. A value it cannot read is an error, never a
// silent fall back to the real time.
func clockFromEnv() (func() time.Time, error) {
	s := os.Getenv(nowEnv)
	if s == "" {
		return time.Now, nil
	}
	for _, layout := range []string{time.RFC3339, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return func() time.Time { return t }, nil
		}
	}
	return nil, withHint(fmt.Errorf("%s=%q: want a time like 2026-09-01T09:00:00Z (RFC 3339) or a day like 2026-09-01", nowEnv, s),
		"unset "+nowEnv+" to use the real time")
}

// configPath returns the configuration file to read and whether the user
// named it explicitly (so that its absence is an error).
func (a *app) configPath() (path string, explicit bool) {
	if a.configFlag != "" {
		return a.configFlag, true
	}
	if p := os.Getenv("RECIPROCAL_CONFIG"); p != "" {
		return p, true
	}
	return filepath.Join(xdgDir("XDG_CONFIG_HOME", ".config"), "reciprocal", "reciprocal.toml"), false
}

// config loads the configuration; without a file it uses the defaults.
func (a *app) config() (*configs.Config, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	path, explicit := a.configPath()
	cfg, err := configs.Load(path)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		// No file: the defaults, with the client profiles where 'reciprocal
		// init' would put them, beside the configuration file.
		cfg = configs.Default()
		cfg.Clients = filepath.Join(filepath.Dir(path), configs.DefaultClients)
	case errors.Is(err, fs.ErrNotExist):
		return nil, withHint(fmt.Errorf("config: %s does not exist", path), "run 'reciprocal init' to write one, or drop --config to use the defaults")
	default:
		return nil, withHint(fmt.Errorf("config: %w", err), "fix the file and run 'reciprocal check-config'")
	}
	a.cfg = cfg
	return cfg, nil
}

// dataDir returns the data directory: --data, $RECIPROCAL_DATA, data_dir in
// the configuration, or $XDG_DATA_HOME/reciprocal.
func (a *app) dataDir() (string, error) {
	if a.dataFlag != "" {
		return a.dataFlag, nil
	}
	if d := os.Getenv("RECIPROCAL_DATA"); d != "" {
		return d, nil
	}
	cfg, err := a.config()
	if err != nil {
		return "", err
	}
	if cfg.DataDir != "" {
		return configs.ExpandHome(cfg.DataDir), nil
	}
	return filepath.Join(xdgDir("XDG_DATA_HOME", filepath.Join(".local", "share")), "reciprocal"), nil
}

func xdgDir(env, fallback string) string {
	if d := os.Getenv(env); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return fallback
	}
	return filepath.Join(home, fallback)
}

// normalizer returns the item normalizer for the configured servers.
func (a *app) normalizer() *watcher.Normalizer {
	n := &watcher.Normalizer{Hosts: map[string]string{}}
	if cfg, err := a.config(); err == nil {
		n.Hosts = watcher.Sources.Hosts(cfg)
	}
	for label, u := range a.srcOpts.links {
		n.Hosts[label] = u
	}
	return n
}

// openData opens the data directory for reading or writing. An index built
// with another text analysis is rebuilt by a writer, which says so on
// stderr; a reader warns that results may be wrong and says what to run.
//
// An index that lags the store is caught up by a writer before the command
// runs; a reader, which cannot, says how far behind it is.
func (a *app) openData(write bool) (*watcher.Data, error) {
	d, err := a.openDataAsIs(write)
	if err != nil {
		return nil, err
	}
	if !d.Index.Stale() {
		if write {
			n, err := d.IndexPending(context.Background())
			if err != nil {
				d.Close()
				return nil, err
			}
			if n > 0 {
				fmt.Fprintf(a.stderr, "reciprocal: the index was behind the store: indexed %d items\n", n)
			}
		} else {
			a.warnIndexLag(d)
		}
		return d, nil
	}
	stale := &index.StaleError{Version: d.Index.Analysis()}
	if !write {
		fmt.Fprintf(a.stderr, "reciprocal: warning: %v: results may miss items\nhint: run 'reciprocal reindex'\n", stale)
		return d, nil
	}
	fmt.Fprintf(a.stderr, "reciprocal: %v: rebuilding the index from the store\n", stale)
	n, err := d.Reindex(context.Background())
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("rebuild the index: %w", err)
	}
	fmt.Fprintf(a.stderr, "reciprocal: rebuilt the index: %d items\n", n)
	return d, nil
}

// openDataAsIs opens the data directory for reading or writing, whatever
// the index's text analysis.
func (a *app) openDataAsIs(write bool) (*watcher.Data, error) {
	dir, err := a.dataDir()
	if err != nil {
		return nil, err
	}
	return a.dataError(watcher.OpenData(dir, !write, a.normalizer()))
}

// openStore opens only the store of the data directory, for reindex and
// status, which must work whatever state the index is in.
func (a *app) openStore(write bool) (*watcher.Data, error) {
	dir, err := a.dataDir()
	if err != nil {
		return nil, err
	}
	return a.dataError(watcher.OpenStore(dir, !write, a.normalizer()))
}

// dataError adds the hint that fits an error opening the data directory.
func (a *app) dataError(d *watcher.Data, err error) (*watcher.Data, error) {
	var locked *store.ErrLocked
	var busy *store.ErrBusy
	switch {
	case err == nil:
		return d, nil
	case errors.Is(err, index.ErrDamaged), errors.Is(err, index.ErrMissing):
		return nil, withHint(err, "the index is derived from the store: 'reciprocal reindex' rebuilds it and loses nothing")
	case errors.As(err, &locked):
		return nil, withHint(err, "wait for it to finish, or stop it; reciprocal allows one writer per data directory (searches and other reads work meanwhile)")
	case errors.As(err, &busy), errors.Is(err, index.ErrBusy):
		return nil, withHint(err, "another reciprocal kept the data files open that long; try again")
	case errors.Is(err, store.ErrNoStore):
		return nil, withHint(err, "run 'reciprocal sync' to fetch from the trackers, 'reciprocal import FILE' to load JSON Lines, or 'reciprocal demo' to try it out")
	}
	return nil, err
}

// reports returns the report builder over d (nil when there is no data
// yet). Without profiles (they are invalid) it returns their error, unless
// lenient, when the reports that can go on without them say so instead.
func (a *app) reports(d *watcher.Data, lenient bool) (*report.Env, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	profiles, err := a.profiles()
	if err != nil && !lenient {
		return nil, err
	}
	return &report.Env{Data: d, Config: cfg, Profiles: profiles, ProfilesErr: err, Now: a.clock}, nil
}

// version returns the module version from the build information.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v + " " + info.GoVersion
}

// writeOutput writes a file the user named with -o or --out: never a file
// of the data directory (a usage error), always through a temporary file
// renamed into place, so a failure leaves no partial file.
func (a *app) writeOutput(flag, path string, fn func(io.Writer) error) error {
	if err := a.checkOutput(flag, path); err != nil {
		return err
	}
	dir, err := a.dataDir()
	if err != nil {
		return err
	}
	return outfile.Write(dir, path, fn)
}

// checkOutput refuses an output path inside the data directory; commands
// call it before doing any work.
func (a *app) checkOutput(flag, path string) error {
	dir, err := a.dataDir()
	if err != nil {
		return err
	}
	if _, err := outfile.Check(dir, path); errors.Is(err, outfile.ErrInDataDir) {
		return usagef("%s %s: would overwrite reciprocal's own data; write it outside the data directory", flag, err)
	} else if err != nil {
		return fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return nil
}
