package github

import (
	"github.com/reciprocal-access/reciprocal/configs"
	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/source"
)

// Kind names the source: the Source of its stored records and items, the
// value of 'sync --source'.
const Kind = "github"

// Descriptor describes GitHub repositories as a source: one Source per
// [[github]] entry; issues and pull requests are items and their comments
// are stored beside them.
var Descriptor = &source.Descriptor{
	Kind:      Kind,
	Section:   "[[github]]",
	Objects:   "a GitHub issue or comment",
	Config:    section.Section(),
	Build:     build,
	Normalize: func(rec source.Record, _ source.Env) (index.Item, error) { return Normalize(rec.Raw, rec.Comments) },
	Comments:  true,
	IDForm:    "owner/repo#N (GitHub)",
	ParseID:   parseID,
	Links:     links,
	Shapes: []source.Shape{
		{
			Name:   ShapeIssue,
			Detect: func(m source.Members) bool { return m.Has("number", "html_url") },
			Parse: func(raw []byte, _ source.Env) (source.Object, error) {
				it, err := Normalize(raw, nil)
				return source.Object{ID: it.ID}, err
			},
		},
		{
			Name:   ShapeComment,
			Detect: func(m source.Members) bool { return m.Has("issue_url") && !m.Has("number") },
			Parse: func(raw []byte, _ source.Env) (source.Object, error) {
				c, err := ParseComment(raw)
				if err != nil {
					return source.Object{}, err
				}
				id, err := c.IssueRef()
				return source.Object{ID: id, Comment: true, CommentID: c.ID}, err
			},
		},
	},
}

// Shapes of GitHub objects in JSON Lines files.
const (
	ShapeIssue   = "github"         // an issue or pull request
	ShapeComment = "github-comment" // an issue comment
)

func build(cfg *configs.Config, opts source.BuildOptions) ([]source.Source, error) {
	o := source.OptionsFor(opts, Kind, WithHTTPClient, WithToken(""))
	return source.BuildEach(Configured(cfg), func(c Config) (*Source, error) { return NewSource(c, o...) })
}
