package gerrit

import (
	"encoding/json"
	"regexp"
	"strconv"
	"sync"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/topic"
)

var (
	// "GitHub-Pull-Request: golang/go#76459", the trailer gerritbot adds
	// to a CL it imported from a pull request.
	pullTrailer = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`(?m)^GitHub-Pull-Request:[ \t]*([\w.-]+/[\w.-]+)#(\d+)[ \t]*$`)
	})
	// design/60105-name.md in golang/proposal.
	designDoc = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^design/(\d+)-[^/]+\.md$`) })
)

// linkedChange is what links reads of a ChangeInfo: only JSON that decodes
// is asked of it, so that a record the normalizer refuses still links.
type linkedChange struct {
	Project         string              `json:"project"`
	ChangeID        string              `json:"change_id"`
	Subject         string              `json:"subject"`
	Number          int                 `json:"_number"`
	CurrentRevision string              `json:"current_revision"`
	Revisions       map[string]Revision `json:"revisions"`
}

// links derives the links of a change (see package topic): its CLNode and
// ChangeIDNode, the issues its commit message names (bare #N is a
// golang/go issue in every Go project), the pull request it was imported
// from, and, in golang/proposal, the proposal whose design doc it adds.
func links(rec source.Record) ([]topic.Link, error) {
	var ch linkedChange
	if err := json.Unmarshal(rec.Raw, &ch); err != nil {
		return nil, err
	}
	var out []topic.Link
	if ch.Number > 0 {
		out = append(out, topic.Link{To: topic.CLNode(ch.Number), Kind: topic.LinkReference})
	}
	if ch.ChangeID != "" && ch.Project != "" {
		out = append(out, topic.Link{To: topic.ChangeIDNode(ch.Project, ch.ChangeID), Kind: topic.LinkBranch})
	}
	msg := ch.Subject
	rev, ok := ch.Revisions[ch.CurrentRevision]
	if ok && rev.Commit.Message != "" {
		msg = rev.Commit.Message
	}
	out = append(out, topic.MessageLinks(msg, topic.GoRepo)...)
	for _, m := range pullTrailer().FindAllStringSubmatch(msg, -1) {
		if n, err := strconv.Atoi(m[2]); err == nil && n > 0 {
			out = append(out, topic.Link{To: index.GitHubID(m[1], n), Kind: topic.LinkImported})
		}
	}
	if ch.Project == "proposal" && ok {
		for f := range rev.Files {
			if m := designDoc().FindStringSubmatch(f); m != nil {
				if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
					out = append(out, topic.Link{To: index.GitHubID(topic.GoRepo, n), Kind: topic.LinkDesign})
				}
			}
		}
	}
	return out, nil
}
