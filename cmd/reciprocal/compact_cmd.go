package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() {
	commands = append(commands, (*app).compactCommand)
}

func (a *app) compactCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "compact",
		Short: "Give back the disk space the store and the index keep after large updates",
		Long: `Compact rewrites the store file without the free pages it has gathered
(bbolt never shrinks its file: every updated item leaves its old pages
behind for reuse) and merges the search index into one segment, dropping
the old versions of updated items. Run it after a first sync or a large
import that updated many items, or when 'reciprocal status' shows a store
much larger than its items warrant. It takes the data directory for itself
while it runs, as any writer does; an interrupted compact leaves the store
as it was.`,
		Example: "  reciprocal compact",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := a.openData(true)
			if err != nil {
				return err
			}
			defer d.Close()
			r, err := d.Compact(cmd.Context())
			if err != nil {
				return fmt.Errorf("compact: %w", err)
			}
			fmt.Fprintf(a.stdout, "store: %s → %s\n", bytesize(r.StoreBefore), bytesize(r.StoreAfter))
			fmt.Fprintf(a.stdout, "index: %s → %s\n", bytesize(r.IndexBefore), bytesize(r.IndexAfter))
			return nil
		},
	}
}
