package index

import (
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/bleve/v2/search/highlight"
	"github.com/blevesearch/bleve/v2/search/highlight/format/plain"
	simplefrag "github.com/blevesearch/bleve/v2/search/highlight/fragmenter/simple"
	simplehl "github.com/blevesearch/bleve/v2/search/highlight/highlighter/simple"

	"github.com/reciprocal-access/reciprocal/index/pkgpath"
)

// docType is the Bleve type of every indexed document.
const docType = "item"

// Field names of the index. Text fields are analyzed by the Go-aware
// analyzer (analysis.go); the others are keywords matched exactly.
const (
	FieldTitle    = "title"
	FieldBody     = "body"
	FieldComments = "comments"
	FieldSource   = "source"
	FieldRepo     = "repo"
	FieldNumber   = "number"
	FieldKind     = "kind"
	FieldState    = "state"
	FieldStage    = "stage"
	FieldLabels   = "labels"
	FieldPackages = "packages" // the packages the item names
	FieldPkgTree  = "pkgtree"  // those packages and all their ancestors, for "touches P or a sub-package"
	FieldMentions = "mentions" // packages the item's text mentions, and their ancestors
	FieldAliases  = "aliases"
	FieldAuthor   = "author"
	FieldCreated  = "created"
	FieldUpdated  = "updated"
	FieldURL      = "url"
	FieldRoutine  = "routine"  // why the item is a routine change, or absent
	FieldOwnFiles = "ownfiles" // files of a change that its title names (OwnFiles)
)

// Markers around highlighted terms in snippets. They are control characters
// that are removed from indexed text, so tracker text cannot forge them.
const (
	markStart = "\x01"
	markEnd   = "\x02"
)

// highlighterName is the Bleve highlighter that produces snippets with the
// markers above.
const highlighterName = "reciprocal"

func init() {
	registry.RegisterHighlighter(highlighterName, func(map[string]interface{}, *registry.Cache) (highlight.Highlighter, error) {
		return simplehl.NewHighlighter(simplefrag.NewFragmenter(200), plain.NewFragmentFormatter(markStart, markEnd), " … "), nil
	})
}

// doc is the document Bleve indexes for an Item.
type doc struct {
	Title    string    `json:"title"`
	Body     string    `json:"body"`
	Comments string    `json:"comments"`
	Source   string    `json:"source"`
	Repo     string    `json:"repo"`
	Number   float64   `json:"number"`
	Kind     string    `json:"kind"`
	State    string    `json:"state"`
	Stage    string    `json:"stage"`
	Labels   []string  `json:"labels"`
	Packages []string  `json:"packages"`
	PkgTree  []string  `json:"pkgtree"`
	Mentions []string  `json:"mentions"`
	Aliases  []string  `json:"aliases"`
	Author   string    `json:"author"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	URL      string    `json:"url"`
	Routine  string    `json:"routine,omitempty"`
	OwnFiles []string  `json:"ownfiles,omitempty"`
}

func (doc) BleveType() string { return docType }

var stripMarks = strings.NewReplacer(markStart, "", markEnd, "")

func newDoc(it *Item) doc {
	if len(it.Title) > MaxTitle || len(it.Body) > MaxBody || len(it.Comments) > MaxComments {
		b := *it
		b.Bound()
		it = &b
	}
	var tree []string
	for _, p := range it.Packages {
		tree = append(tree, pkgpath.Ancestors(p)...)
	}
	var mentions []string
	for _, p := range pkgpath.InText(it.Title + "\n" + it.Body + "\n" + it.Comments) {
		mentions = append(mentions, pkgpath.Ancestors(p)...)
	}
	return doc{
		Title:    stripMarks.Replace(it.Title),
		Body:     stripMarks.Replace(it.Body),
		Comments: stripMarks.Replace(it.Comments),
		Source:   it.Source,
		Repo:     it.Repo,
		Number:   float64(it.Number),
		Kind:     it.Kind,
		State:    it.State,
		Stage:    it.Stage,
		Labels:   it.Labels,
		Packages: it.Packages,
		PkgTree:  dedup(tree),
		Mentions: dedup(mentions),
		Aliases:  it.Aliases,
		Author:   it.Author,
		Created:  it.Created,
		Updated:  it.Updated,
		URL:      it.URL,
		Routine:  it.Routine,
		OwnFiles: OwnFiles(it),
	}
}

func dedup(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// newMapping returns the explicit index mapping: Go-aware analysis for the
// text fields, keywords for the facets, dates and a number. There is no
// composite "_all" field: a query word without a field searches each text
// field (see textFields). Dynamic mapping is off, so a field that is not
// listed here is not indexed.
func newMapping() mapping.IndexMapping {
	text := func(store bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = AnalyzerName
		f.Store = store
		f.IncludeTermVectors = true // positions, for phrases and highlighting
		f.IncludeInAll = false      // see textFields
		// No doc values: nothing sorts or facets by a text field, and
		// they are each document's terms once more, built with every
		// segment and rewritten with every merge.
		f.DocValues = false
		return f
	}
	kw := func(store bool) *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = store
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = false
		return f
	}
	date := func() *mapping.FieldMapping {
		f := bleve.NewDateTimeFieldMapping()
		f.Store = true
		f.IncludeInAll = false
		f.DocValues = true // sorting by date
		return f
	}
	// The number is read from its stored value and never searched:
	// indexed, a number is 16 terms of each document (prefix-coded
	// for range queries), unique to it at the finest precision.
	num := bleve.NewNumericFieldMapping()
	num.Index = false
	num.Store = true
	num.IncludeInAll = false
	num.DocValues = false

	url := bleve.NewTextFieldMapping()
	url.Index = false
	url.Store = true
	url.IncludeInAll = false

	dm := bleve.NewDocumentStaticMapping()
	// No composite "_all" field: a disabled mapping at its name keeps
	// Bleve from adding one to every document, empty (every field is
	// excluded from it) but still processed with each segment.
	dm.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	dm.AddFieldMappingsAt(FieldTitle, text(true))
	dm.AddFieldMappingsAt(FieldBody, text(true))
	dm.AddFieldMappingsAt(FieldComments, text(true))
	dm.AddFieldMappingsAt(FieldSource, kw(true))
	dm.AddFieldMappingsAt(FieldRepo, kw(true))
	dm.AddFieldMappingsAt(FieldNumber, num)
	dm.AddFieldMappingsAt(FieldKind, kw(true))
	dm.AddFieldMappingsAt(FieldState, kw(true))
	dm.AddFieldMappingsAt(FieldStage, kw(true))
	dm.AddFieldMappingsAt(FieldLabels, kw(true))
	dm.AddFieldMappingsAt(FieldPackages, kw(true))
	dm.AddFieldMappingsAt(FieldPkgTree, kw(false))
	dm.AddFieldMappingsAt(FieldMentions, kw(true))
	dm.AddFieldMappingsAt(FieldAliases, kw(true))
	dm.AddFieldMappingsAt(FieldAuthor, kw(true))
	// Created is not indexed: nothing searches, sorts or shows it from
	// the index (see num).
	dm.AddFieldMappingsAt(FieldUpdated, date())
	dm.AddFieldMappingsAt(FieldURL, url)
	dm.AddFieldMappingsAt(FieldRoutine, kw(true))
	dm.AddFieldMappingsAt(FieldOwnFiles, kw(true))

	im := bleve.NewIndexMapping()
	im.DefaultMapping = bleve.NewDocumentDisabledMapping()
	im.AddDocumentMapping(docType, dm)
	im.TypeField = "_type"
	im.DefaultAnalyzer = AnalyzerName
	im.DefaultField = "_all" // holds nothing: every text query names its fields (anyText)
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	return im
}
