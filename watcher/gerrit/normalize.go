package gerrit

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/index/pkgpath"
)

// TimeLayout is the layout of Gerrit timestamps, which are always UTC.
const TimeLayout = "2006-01-02 15:04:05.000000000"

// Time is a Gerrit timestamp.
type Time struct{ time.Time }

// UnmarshalJSON parses Gerrit's "2006-01-02 15:04:05.000000000" form.
func (t *Time) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("gerrit time %s: not a string", b)
	}
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	v, err := time.ParseInLocation(TimeLayout, s, time.UTC)
	if err != nil {
		return fmt.Errorf("gerrit time %q: want %q", s, TimeLayout)
	}
	t.Time = v
	return nil
}

// A Change is the part of a Gerrit ChangeInfo that reciprocal reads.
type Change struct {
	ID              string              `json:"id"`
	Project         string              `json:"project"`
	Branch          string              `json:"branch"`
	ChangeID        string              `json:"change_id"`
	Subject         string              `json:"subject"`
	Status          string              `json:"status"`
	Created         Time                `json:"created"`
	Updated         Time                `json:"updated"`
	Submitted       Time                `json:"submitted"`
	Number          int                 `json:"_number"`
	Owner           Account             `json:"owner"`
	CurrentRevision string              `json:"current_revision"`
	Revisions       map[string]Revision `json:"revisions"`
	Messages        []Message           `json:"messages"`
	Hashtags        []string            `json:"hashtags"`
	MoreChanges     bool                `json:"_more_changes"`
}

// An Account is a Gerrit user.
type Account struct {
	Name     string `json:"name"`
	Username string `json:"username"`
}

// A Revision is one patch set.
type Revision struct {
	Number int `json:"_number"`
	Commit struct {
		Message string `json:"message"`
	} `json:"commit"`
	Files map[string]json.RawMessage `json:"files"`
}

// A Message is a change message (review comments, votes, status changes).
type Message struct {
	ID      string  `json:"id"`
	Author  Account `json:"author"`
	Date    Time    `json:"date"`
	Message string  `json:"message"`
}

// ParseChange decodes a ChangeInfo object and checks the fields reciprocal
// depends on.
func ParseChange(raw []byte) (*Change, error) {
	var c Change
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("gerrit: change: %w", err)
	}
	if c.Number <= 0 || c.Project == "" {
		return nil, fmt.Errorf("gerrit: change object has no _number or project")
	}
	if c.Updated.IsZero() {
		return nil, fmt.Errorf("gerrit: change %d: no updated time", c.Number)
	}
	return &c, nil
}

// Normalize turns a raw ChangeInfo of the Gerrit server at baseURL
// (https://go-review.googlesource.com) into an item.
func Normalize(baseURL string, raw []byte) (index.Item, error) {
	c, err := ParseChange(raw)
	if err != nil {
		return index.Item{}, err
	}
	it := index.Item{
		ID:      ID(baseURL, c.Project, c.Number),
		Source:  Kind,
		Repo:    c.Project,
		Number:  c.Number,
		Kind:    index.KindChange,
		Title:   c.Subject,
		State:   strings.ToLower(c.Status),
		Author:  c.Owner.Name,
		Created: c.Created.Time,
		Updated: c.Updated.Time,
		URL:     strings.TrimSuffix(baseURL, "/") + "/c/" + c.Project + "/+/" + strconv.Itoa(c.Number),
		Labels:  c.Hashtags,
	}
	if it.Author == "" {
		it.Author = c.Owner.Username
	}
	switch it.State {
	case index.StateMerged:
		it.Closed = c.Submitted.Time
		if it.Closed.IsZero() {
			it.Closed = it.Updated
		}
	case index.StateAbandoned:
		it.Closed = it.Updated
	}
	if rev, ok := c.Revisions[c.CurrentRevision]; ok {
		it.Body = rev.Commit.Message
		for f := range rev.Files {
			if f != "/COMMIT_MSG" && f != "/MERGE_LIST" && f != "/PATCHSET_LEVEL" {
				it.Files = append(it.Files, f)
			}
		}
		sort.Strings(it.Files)
	}
	it.Packages = union(pkgpath.FromTitleInProject(c.Project, c.Subject), pkgpath.FromFiles(c.Project, it.Files))
	var text strings.Builder
	for _, m := range c.Messages {
		if text.Len() > 0 {
			text.WriteString("\n\n")
		}
		name := m.Author.Name
		if name == "" {
			name = "Gerrit"
		}
		text.WriteString(name)
		text.WriteString(": ")
		text.WriteString(m.Message)
	}
	it.Comments = text.String()
	return it, nil
}

func union(a, b []string) []string {
	out := append(append([]string(nil), a...), b...)
	sort.Strings(out)
	return slices.Compact(out)
}
