package scalecorpus_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/reciprocal-access/reciprocal/internal/scalecorpus"
	"github.com/reciprocal-access/reciprocal/watcher"
	"github.com/reciprocal-access/reciprocal/watcher/store"
)

func load(t *testing.T) *scalecorpus.Corpus {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(dir, "issues.jsonl.gz")); err != nil {
		t.Skip("../shared/corpus is absent")
	}
	c, err := scalecorpus.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The same options give the same bytes; the mix is Go's; every object
// imports under a new ID, and the store holds exactly what was generated.
func TestGenerate(t *testing.T) {
	c := load(t)
	var a, b bytes.Buffer
	st, err := c.Generate(&a, scalecorpus.Options{Items: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Generate(&b, scalecorpus.Options{Items: 1000}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two runs with the same options differ")
	}
	var other bytes.Buffer
	c.Generate(&other, scalecorpus.Options{Items: 1000, Seed: 1})
	if bytes.Equal(a.Bytes(), other.Bytes()) {
		t.Error("another seed gives the same corpus")
	}
	if st.Items() != 1000 || st.Issues != 240 || st.Vulns != 10 || st.Changes != 750 {
		t.Errorf("mix %+v, want 240 issues, 750 changes, 10 vulnerabilities", st)
	}
	if per := float64(st.Comments) / float64(st.Issues); per < 8 || per > 12 {
		t.Errorf("%.1f comments per issue, want about %d", per, scalecorpus.MeanComments)
	}
	if n := bytes.Count(a.Bytes(), []byte("\n")); n != st.Objects() {
		t.Errorf("%d lines for %d objects", n, st.Objects())
	}

	d, err := watcher.OpenData(t.TempDir(), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res, err := d.Import(context.Background(), "scale.jsonl", bytes.NewReader(a.Bytes()), watcher.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for shape, c := range res.Counts {
		if c.Updated != 0 || c.Unchanged != 0 {
			t.Errorf("%s: %+v: generated IDs collide", shape, *c)
		}
	}
	var counts store.Counts
	d.Store.View(func(tx *store.Tx) error { counts, err = tx.Counts(); return err })
	if counts.Total() != st.Items() || counts.Comments != st.Comments {
		t.Errorf("store holds %+v, generated %+v", counts, st)
	}
}
