package vulndb

import (
	"encoding/json"

	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/topic"
)

// links derives the links of an OSV entry (see package topic): the Go
// issues and changes its references name by URL.
func links(rec source.Record) ([]topic.Link, error) {
	var e struct {
		References []struct {
			URL string `json:"url"`
		} `json:"references"`
	}
	if err := json.Unmarshal(rec.Raw, &e); err != nil {
		return nil, err
	}
	var out []topic.Link
	for _, r := range e.References {
		out = append(out, topic.IssueURLLinks(r.URL, topic.LinkReference)...)
		out = append(out, topic.CLURLLinks(r.URL, topic.LinkReference)...)
	}
	return out, nil
}
