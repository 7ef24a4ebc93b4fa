package index

import (
	"slices"
	"testing"
)

// TestTextFields pins what a query word without a field searches now that
// the index keeps no composite field: any of the title, body and comments,
// with phrases inside one field, and TermShare counting items, not fields.
func TestTextFields(t *testing.T) {
	x := testIndex(t,
		"crypto/tls: resumption fails|nothing else|",            // 1
		"net/http: proxy hangs|a session resumption bug|",       // 2
		"cmd/go: vendor|work|we saw resumption twice",           // 3
		"crypto/tls: session|resumption, in two fields|",        // 4
		"os: one word resumption|and resumption|and resumption", // 5
		"net: dial|ticket*|",                                    // 6
	)
	tests := []struct {
		query string
		want  []int
	}{
		{"resumption", []int{1, 2, 3, 4, 5}},
		{"title:resumption", []int{1, 5}},
		{"body:resumption", []int{2, 4, 5}},
		{"comments:resumption", []int{3, 5}},
		{`"session resumption"`, []int{2}}, // 4 has the words in two fields: no phrase
		{"+resumption -vendor", []int{1, 2, 4, 5}},
		{"resumpt*", []int{1, 2, 3, 4, 5}},
		{"sesion~1", []int{2, 4}},
		{"proxy dial", []int{2, 6}},
	}
	for _, tt := range tests {
		if got := numbers(t, x, Request{Query: tt.query}); !slices.Equal(got, tt.want) {
			t.Errorf("search %q = %v, want %v", tt.query, got, tt.want)
		}
	}
	// The title counts more, and so does being found in more fields.
	res, err := x.Search(t.Context(), Request{Query: "resumption"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Hits[0].Number != 5 || res.Hits[1].Number != 1 {
		t.Errorf("search resumption ranks %d, %d first; want 5 (in every field), then 1 (in the title)", res.Hits[0].Number, res.Hits[1].Number)
	}
	// Highlighting finds the words in whichever field holds them.
	res, err = x.Search(t.Context(), Request{Query: "twice", Highlight: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 1 || res.Hits[0].Snippet.Text() != "we saw resumption «twice»" || !slices.Equal(res.Hits[0].Terms["comments"], []string{"twice"}) {
		t.Errorf("search twice: %+v", res.Hits)
	}
	for term, want := range map[string]float64{"resumpt": 5.0 / 6, "session": 2.0 / 6, "vendor": 1.0 / 6, "nowher": 0} {
		if got, err := x.TermShare(term); err != nil || got != want {
			t.Errorf("TermShare(%q) = %v, %v; want %v", term, got, err, want)
		}
	}
}
