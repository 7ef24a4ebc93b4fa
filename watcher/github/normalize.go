package github

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
	"github.com/reciprocal-access/reciprocal/index/pkgpath"
)

// Issue is the part of a GitHub REST issue object that reciprocal reads.
// Pull requests are issues with a pull_request member.
type Issue struct {
	Number        int        `json:"number"`
	Title         string     `json:"title"`
	Body          string     `json:"body"`
	State         string     `json:"state"`
	User          User       `json:"user"`
	Labels        []Label    `json:"labels"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	ClosedAt      *time.Time `json:"closed_at"`
	HTMLURL       string     `json:"html_url"`
	URL           string     `json:"url"`
	RepositoryURL string     `json:"repository_url"`
	PullRequest   *struct {
		MergedAt *time.Time `json:"merged_at"`
	} `json:"pull_request"`
}

// A Comment is the part of a GitHub issue comment object that reciprocal reads.
type Comment struct {
	ID        int64     `json:"id"`
	Body      string    `json:"body"`
	User      User      `json:"user"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	IssueURL  string    `json:"issue_url"`
	HTMLURL   string    `json:"html_url"`
}

// A User is a GitHub account.
type User struct {
	Login string `json:"login"`
}

// A Label is an issue label.
type Label struct {
	Name string `json:"name"`
}

// Repo returns the owner/name of the repository the issue belongs to.
func (is *Issue) Repo() (string, error) {
	for _, u := range []string{is.RepositoryURL, is.URL, is.HTMLURL} {
		if repo := repoFromURL(u); repo != "" {
			return repo, nil
		}
	}
	return "", fmt.Errorf("github: issue %d: no repository_url, url or html_url names its repository", is.Number)
}

// repoFromURL extracts owner/name from an API URL (…/repos/OWNER/NAME[/…])
// or a web URL (https://HOST/OWNER/NAME/issues/N).
func repoFromURL(u string) string {
	if u == "" {
		return ""
	}
	if _, rest, ok := strings.Cut(u, "/repos/"); ok {
		parts := strings.SplitN(rest, "/", 3)
		if len(parts) >= 2 && parts[0] != "" && parts[1] != "" {
			return parts[0] + "/" + parts[1]
		}
		return ""
	}
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	parts := strings.SplitN(rest, "/", 5)
	if len(parts) >= 5 && (parts[3] == "issues" || parts[3] == "pull") {
		return parts[1] + "/" + parts[2]
	}
	return ""
}

// IssueRef returns the item ID of the issue a comment belongs to.
func (c *Comment) IssueRef() (string, error) {
	repo := repoFromURL(c.IssueURL)
	i := strings.LastIndexByte(c.IssueURL, '/')
	n, err := strconv.Atoi(c.IssueURL[i+1:])
	if repo == "" || err != nil {
		return "", fmt.Errorf("github: comment %d: issue_url %q names no issue", c.ID, c.IssueURL)
	}
	return index.GitHubID(repo, n), nil
}

// ParseIssue decodes a GitHub issue object and checks the fields reciprocal
// depends on.
func ParseIssue(raw []byte) (*Issue, error) {
	var is Issue
	if err := json.Unmarshal(raw, &is); err != nil {
		return nil, fmt.Errorf("github: issue: %w", err)
	}
	if is.Number <= 0 {
		return nil, fmt.Errorf("github: issue object has no number")
	}
	if is.UpdatedAt.IsZero() {
		return nil, fmt.Errorf("github: issue %d: no updated_at", is.Number)
	}
	return &is, nil
}

// ParseComment decodes a GitHub issue comment object.
func ParseComment(raw []byte) (*Comment, error) {
	var c Comment
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("github: comment: %w", err)
	}
	if c.ID <= 0 || c.IssueURL == "" {
		return nil, fmt.Errorf("github: comment object has no id or issue_url")
	}
	return &c, nil
}

// Normalize turns a raw issue object and the raw objects of its comments
// (oldest first) into an item.
func Normalize(raw []byte, comments [][]byte) (index.Item, error) {
	is, err := ParseIssue(raw)
	if err != nil {
		return index.Item{}, err
	}
	repo, err := is.Repo()
	if err != nil {
		return index.Item{}, err
	}
	it := index.Item{
		ID:       index.GitHubID(repo, is.Number),
		Source:   Kind,
		Repo:     repo,
		Number:   is.Number,
		Kind:     index.KindIssue,
		Title:    is.Title,
		Body:     is.Body,
		State:    strings.ToLower(is.State),
		Author:   is.User.Login,
		Created:  is.CreatedAt,
		Updated:  is.UpdatedAt,
		URL:      is.HTMLURL,
		Packages: pkgpath.FromTitle(is.Title),
	}
	if it.URL == "" {
		it.URL = "https://github.com/" + repo + "/issues/" + strconv.Itoa(is.Number)
	}
	if is.ClosedAt != nil {
		it.Closed = *is.ClosedAt
	}
	for _, l := range is.Labels {
		it.Labels = append(it.Labels, l.Name)
	}
	switch {
	case is.PullRequest != nil:
		it.Kind = index.KindPull
		if is.PullRequest.MergedAt != nil {
			it.State = index.StateMerged
		}
	case IsProposal(is.Title, it.Labels):
		it.Kind = index.KindProposal
	}
	var text strings.Builder
	var stages []index.Stage
	for _, c := range comments {
		cm, err := ParseComment(c)
		if err != nil {
			return index.Item{}, fmt.Errorf("%s: %w", it.ID, err)
		}
		if text.Len() > 0 {
			text.WriteString("\n\n")
		}
		text.WriteString(cm.User.Login)
		text.WriteString(": ")
		text.WriteString(cm.Body)
		if it.Kind == index.KindProposal {
			if st := StageFromComment(cm.Body); st != "" {
				stages = append(stages, index.Stage{Stage: st, At: cm.CreatedAt, Via: "comment by " + cm.User.Login})
			}
		}
	}
	it.Comments = text.String()
	if it.Kind == index.KindProposal {
		it.Stages = stageHistory(stages, StageFromLabels(it.Labels), it.Updated)
		if n := len(it.Stages); n > 0 {
			it.Stage = it.Stages[n-1].Stage
		} else if it.State == index.StateOpen {
			it.Stage = index.StageIncoming
		}
	}
	return it, nil
}

// IsProposal reports whether an issue with this title and labels is a Go
// proposal: labelled Proposal, or titled "proposal: …".
func IsProposal(title string, labels []string) bool {
	for _, l := range labels {
		if strings.EqualFold(l, "Proposal") {
			return true
		}
	}
	return len(title) >= 9 && strings.EqualFold(title[:9], "proposal:")
}

// stageLabels maps the proposal labels of golang/go to stages.
var stageLabels = map[string]string{
	"proposal-accepted":           index.StageAccepted,
	"proposal-declined":           index.StageDeclined,
	"proposal-hold":               index.StageHold,
	"proposal-finalcommentperiod": index.StageFinal,
	"proposal-likelyaccept":       index.StageLikelyAccept,
	"proposal-likelydecline":      index.StageLikelyDecline,
	"proposal-active":             index.StageActive,
}

// StageFromLabels returns the stage that an issue's labels show, or "".
func StageFromLabels(labels []string) (stage string) {
	for _, l := range labels {
		if st, ok := stageLabels[strings.ToLower(l)]; ok {
			// Accepted and declined are final and win over the rest.
			if stage == "" || st == index.StageAccepted || st == index.StageDeclined {
				stage = st
			}
		}
	}
	return stage
}

// stagePhrases are the proposal review group's standard comments, in the
// order they are tried.
var stagePhrases = []struct {
	re    *regexp.Regexp
	stage string
}{
	{regexp.MustCompile(`(?i)no change in consensus, so \**accepted`), index.StageAccepted},
	{regexp.MustCompile(`(?i)no change in consensus, so \**declined`), index.StageDeclined},
	{regexp.MustCompile(`(?i)seems like a \**likely accept`), index.StageLikelyAccept},
	{regexp.MustCompile(`(?i)seems like a \**likely decline`), index.StageLikelyDecline},
	{regexp.MustCompile(`(?i)\bthis proposal (?:has been|is) \**retracted`), index.StageRetracted},
	{regexp.MustCompile(`(?i)\b(?:placed|put) on \**hold\**`), index.StageHold},
	{regexp.MustCompile(`(?i)added to the \[?\**active\**\]? column`), index.StageActive},
	{regexp.MustCompile(`(?i)this is a \**likely accept`), index.StageLikelyAccept},
}

// StageFromComment returns the stage a review-group comment announces, or "".
func StageFromComment(body string) string {
	for _, p := range stagePhrases {
		if p.re.MatchString(body) {
			return p.stage
		}
	}
	return ""
}

// stageHistory orders the comment-derived stages and appends the label's
// stage when it says something the comments did not. A label that only
// restates an earlier or equal step of the review (Proposal-Active after a
// "likely accept", Proposal-FinalCommentPeriod, which is the week a likely
// accept or decline waits) adds nothing; hold, accepted and declined always
// count.
func stageHistory(stages []index.Stage, label string, updated time.Time) []index.Stage {
	sort.SliceStable(stages, func(i, j int) bool { return stages[i].At.Before(stages[j].At) })
	var out []index.Stage
	for _, s := range stages {
		if len(out) > 0 && out[len(out)-1].Stage == s.Stage {
			continue
		}
		out = append(out, s)
	}
	if label == "" {
		return out
	}
	if len(out) > 0 {
		last := out[len(out)-1].Stage
		if last == label || (!authoritative[label] && stageRank[label] <= stageRank[last]) {
			return out
		}
	}
	return append(out, index.Stage{Stage: label, At: updated, Via: "label"})
}

// stageRank orders the steps of a proposal review; stages of equal rank
// say the same about progress.
var stageRank = map[string]int{
	index.StageIncoming:      0,
	index.StageActive:        1,
	index.StageLikelyAccept:  2,
	index.StageLikelyDecline: 2,
	index.StageFinal:         2,
	index.StageHold:          2,
	index.StageAccepted:      3,
	index.StageDeclined:      3,
	index.StageRetracted:     3,
}

// authoritative stage labels are set by the review group to record a
// decision, whatever the comments said before.
var authoritative = map[string]bool{
	index.StageHold:     true,
	index.StageAccepted: true,
	index.StageDeclined: true,
}
