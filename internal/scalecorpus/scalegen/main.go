// Scalegen writes a scale corpus: the real Go tracker corpus multiplied
// under new IDs (see package scalecorpus), for measuring reciprocal on
// years of history.
//
//	go run ./internal/scalecorpus/scalegen -items 300000 -o /tmp/scale-300k.jsonl.gz
//	reciprocal --data /tmp/scale import /tmp/scale-300k.jsonl.gz
//
// Write corpora outside the repository: they are hundreds of megabytes.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/reciprocal-access/reciprocal/internal/scalecorpus"
)

func main() {
	items := flag.Int("items", 100_000, "number of items (issues, changes, vulnerabilities); issues get about 10 comments each")
	corpus := flag.String("corpus", "../shared/corpus", "directory of the real corpus")
	out := flag.String("o", "", "output file (.jsonl or .jsonl.gz)")
	seed := flag.Uint64("seed", 0, "seed of the pseudo-random choices")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 || *items <= 0 {
		fmt.Fprintln(os.Stderr, "usage: scalegen -items N [-corpus DIR] [-seed S] -o FILE")
		os.Exit(2)
	}
	c, err := scalecorpus.Load(*corpus)
	if err != nil {
		fmt.Fprintf(os.Stderr, "scalegen: %v\n", err)
		os.Exit(1)
	}
	st, err := c.WriteFile(*out, scalecorpus.Options{Items: *items, Seed: *seed})
	if err != nil {
		fmt.Fprintf(os.Stderr, "scalegen: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d items (%d issues, %d changes, %d vulnerabilities) and %d comments: %d objects, %d bytes before compression\n",
		*out, st.Items(), st.Issues, st.Changes, st.Vulns, st.Comments, st.Objects(), st.Bytes)
}
