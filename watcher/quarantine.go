package watcher

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/reciprocal-access/reciprocal/watcher/store"
)

// bucketQuarantine holds the stored records that cannot be normalized:
//
//	quarantine  item ID → JSON of Quarantined
//
// A record lands here when indexing fails to normalize it (a tracker served
// a shape this version does not understand, or an older version stored
// something this one rejects). Its raw JSON stays in the store, untouched;
// the index skips it and moves on. The entry is cleared when a later write
// of the item (or a reindex by a newer version) normalizes.
const bucketQuarantine = "quarantine"

// Quarantined is a stored record that cannot be normalized, with the error.
type Quarantined struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Seq    uint64 `json:"seq"`
	Err    string `json:"error"`
}

// quarantine records bad and clears the entries of cleared, in one
// transaction.
func (d *Data) quarantine(bad []Quarantined, cleared []string) error {
	if len(bad) == 0 && len(cleared) == 0 {
		return nil
	}
	return d.Store.Update(func(tx *store.Tx) error {
		b, err := tx.Bucket(bucketQuarantine)
		if err != nil {
			return err
		}
		for _, id := range cleared {
			if err := b.Delete([]byte(id)); err != nil {
				return err
			}
		}
		for _, q := range bad {
			v, err := json.Marshal(q)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(q.ID), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// Quarantine lists the quarantined records, by item ID.
func (d *Data) Quarantine() ([]Quarantined, error) {
	var out []Quarantined
	err := d.Store.View(func(tx *store.Tx) error {
		b, err := tx.Bucket(bucketQuarantine)
		if err != nil || b == nil {
			return err
		}
		return b.ForEach(func(k, v []byte) error {
			var q Quarantined
			if err := json.Unmarshal(v, &q); err != nil {
				return fmt.Errorf("quarantine entry %q: %w", k, err)
			}
			out = append(out, q)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}
