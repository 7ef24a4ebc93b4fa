package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/watcher/github"
)

func init() {
	commands = append(commands, (*app).initCommand)
}

func (a *app) initCommand() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "init [--dir DIR]",
		Short: "Write a commented configuration and an example client profile",
		Long: `Init writes reciprocal.toml and clients/example.toml into the configuration
directory ($XDG_CONFIG_HOME/reciprocal, or --dir). It never overwrites a file
that exists. It also says whether it found a GitHub token, and where (never
the token itself).`,
		Example: "  reciprocal init\n  reciprocal init --dir ./reciprocal-config",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				path, _ := a.configPath()
				dir = filepath.Dir(path)
			}
			cfgPath := filepath.Join(dir, "reciprocal.toml")
			clientPath := filepath.Join(dir, "clients", "example.toml")
			var existing []string
			for _, p := range []string{cfgPath, clientPath} {
				if _, err := os.Stat(p); err == nil {
					existing = append(existing, p)
				} else if !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
			if len(existing) > 0 {
				verb := "already exists"
				if len(existing) > 1 {
					verb = "already exist"
				}
				return withHint(fmt.Errorf("init: %s %s; nothing was written", strings.Join(existing, " and "), verb),
					"edit the existing files, or move them away and run 'reciprocal init' again")
			}
			if err := os.MkdirAll(filepath.Dir(clientPath), 0o755); err != nil {
				return fmt.Errorf("init: %w", err)
			}
			for _, f := range []struct {
				path string
				data []byte
			}{{cfgPath, configs.ExampleConfig}, {clientPath, configs.StarterClient}} {
				// O_EXCL: never overwrite, even if the file appeared meanwhile.
				out, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
				if err != nil {
					return fmt.Errorf("init: %w", err)
				}
				_, err = out.Write(f.data)
				if cerr := out.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return fmt.Errorf("init: %w", err)
				}
				fmt.Fprintf(a.stdout, "wrote %s\n", f.path)
			}

			origin := github.FindToken(cmd.Context(), github.Config{TokenEnv: github.DefaultTokenEnv, APIURL: github.DefaultAPIURL})
			if origin.Authenticated() {
				fmt.Fprintf(a.stdout, "GitHub token: found in %s (it is read when syncing, never stored or printed)\n", origin)
			} else {
				fmt.Fprintf(a.stdout, "GitHub token: none found. Set $%s or run 'gh auth login': unauthenticated, GitHub allows 60 requests an hour.\n", github.DefaultTokenEnv)
			}

			flag := ""
			if def, _ := a.configPath(); filepath.Clean(def) != filepath.Clean(cfgPath) {
				flag = " --config " + cfgPath
			}
			fmt.Fprintf(a.stdout, `
Next:
  1. edit %s (sources, [smtp], time zone) and %s (your first client)
  2. reciprocal%s check-config     # validate, and see what each concern matches
  3. reciprocal%s run              # sync, match and send the first briefing
`, cfgPath, clientPath, flag, flag)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "directory to write into (default: the configuration directory)")
	return c
}
