package github

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/watcher/source"
	"github.com/reciprocal-access/reciprocal/watcher/topic"
)

var (
	// "[1.26 backport]" at the end of a backport issue's title.
	backportTitle = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)\[\d+\.\d+ backport\]`) })
	// "@x requested issue #76489 to be considered for backport".
	backportParent = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)issue #(\d+)`) })
)

// linkedIssue is what links reads of an issue: only JSON that decodes is
// asked of it, so that a record the normalizer refuses still links.
type linkedIssue struct {
	Title       string          `json:"title"`
	Body        string          `json:"body"`
	User        User            `json:"user"`
	PullRequest json.RawMessage `json:"pull_request"`
}

// links derives the links of an issue or pull request (see package topic):
// a backport issue opened by gopherbot names its parent in its body, and a
// pull request links like a CL (GitHub mirrors them to Gerrit). An issue's
// own mentions of other issues are not links.
func links(rec source.Record) ([]topic.Link, error) {
	var is linkedIssue
	if err := json.Unmarshal(rec.Raw, &is); err != nil {
		return nil, err
	}
	repo := rec.ID
	if i := strings.LastIndexByte(repo, '#'); i >= 0 {
		repo = repo[:i]
	}
	var out []topic.Link
	if strings.EqualFold(is.User.Login, "gopherbot") && backportTitle().MatchString(is.Title) {
		if m := backportParent().FindStringSubmatch(is.Body); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n > 0 {
				out = append(out, topic.Link{To: index.GitHubID(repo, n), Kind: topic.LinkBackport})
			}
		}
	}
	if len(is.PullRequest) > 0 && string(is.PullRequest) != "null" {
		out = append(out, topic.MessageLinks(is.Title+"\n"+is.Body, repo)...)
	}
	return out, nil
}
