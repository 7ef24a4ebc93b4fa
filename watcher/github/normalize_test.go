package github

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
)

// A proposal as GET /repos/golang/go/issues serves it (trimmed of members
// reciprocal does not read, which the decoder ignores anyway).
const proposalJSON = `{"url":"https://api.github.com/repos/golang/go/issues/60105","repository_url":"https://api.github.com/repos/golang/go","html_url":"https://github.com/golang/go/issues/60105","id":1705213540,"node_id":"I_kwDOAWBuPM5lo4hk","number":60105,"title":"proposal: crypto/tls: control the content of session tickets","user":{"login":"FiloSottile","id":1225294,"type":"User"},"labels":[{"id":236419,"name":"Proposal","color":"ededed","default":false},{"id":5238436019,"name":"Proposal-Crypto","color":"ededed","default":false},{"id":1004475497,"name":"Proposal-Accepted","color":"ededed","default":false}],"state":"closed","locked":false,"assignee":null,"milestone":{"title":"Go1.21"},"comments":3,"created_at":"2023-05-10T09:12:33Z","updated_at":"2023-06-21T18:05:10Z","closed_at":"2023-06-21T18:05:10Z","author_association":"MEMBER","body":"Applications should be able to store their own state in session tickets.\n\n` + "```go\\nfunc (c *Config) EncryptTicket(cs ConnectionState, ss *SessionState) ([]byte, error)\\n```" + `","state_reason":"completed"}`

var proposalComments = []string{
	`{"url":"https://api.github.com/repos/golang/go/issues/comments/1548450000","html_url":"https://github.com/golang/go/issues/60105#issuecomment-1548450000","issue_url":"https://api.github.com/repos/golang/go/issues/60105","id":1548450000,"user":{"login":"rsc"},"created_at":"2023-05-17T17:52:12Z","updated_at":"2023-05-17T17:52:12Z","body":"This proposal has been added to the [active column](https://go.dev/s/proposal-status#active) of the proposals project\nand will now be reviewed at the weekly proposal review meetings.\n— rsc for the proposal review group"}`,
	`{"url":"https://api.github.com/repos/golang/go/issues/comments/1580000000","html_url":"https://github.com/golang/go/issues/60105#issuecomment-1580000000","issue_url":"https://api.github.com/repos/golang/go/issues/60105","id":1580000000,"user":{"login":"rsc"},"created_at":"2023-06-07T17:10:00Z","updated_at":"2023-06-07T17:10:00Z","body":"Based on the discussion above, this proposal seems like a **likely accept**.\n— rsc for the proposal review group"}`,
	`{"url":"https://api.github.com/repos/golang/go/issues/comments/1600000000","html_url":"https://github.com/golang/go/issues/60105#issuecomment-1600000000","issue_url":"https://api.github.com/repos/golang/go/issues/60105","id":1600000000,"user":{"login":"rsc"},"created_at":"2023-06-21T18:05:00Z","updated_at":"2023-06-21T18:05:00Z","body":"No change in consensus, so **accepted**. 🎉\nThis issue now tracks the work of implementing the proposal.\n— rsc for the proposal review group"}`,
}

func raws(s []string) [][]byte {
	out := make([][]byte, len(s))
	for i, v := range s {
		out[i] = []byte(v)
	}
	return out
}

func TestNormalizeProposal(t *testing.T) {
	it, err := Normalize([]byte(proposalJSON), raws(proposalComments))
	if err != nil {
		t.Fatal(err)
	}
	check := func(field, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", field, got, want)
		}
	}
	check("ID", it.ID, "golang/go#60105")
	check("Source", it.Source, Kind)
	check("Repo", it.Repo, "golang/go")
	check("Kind", it.Kind, index.KindProposal)
	check("State", it.State, index.StateClosed)
	check("Stage", it.Stage, index.StageAccepted)
	check("Author", it.Author, "FiloSottile")
	check("URL", it.URL, "https://github.com/golang/go/issues/60105")
	if it.Number != 60105 {
		t.Errorf("Number = %d", it.Number)
	}
	if !slices.Equal(it.Packages, []string{"crypto/tls"}) {
		t.Errorf("Packages = %v", it.Packages)
	}
	if !slices.Equal(it.Labels, []string{"Proposal", "Proposal-Crypto", "Proposal-Accepted"}) {
		t.Errorf("Labels = %v", it.Labels)
	}
	var stages []string
	for _, s := range it.Stages {
		stages = append(stages, s.Stage)
	}
	// The label agrees with the last comment, so it adds no step.
	if !slices.Equal(stages, []string{"active", "likely-accept", "accepted"}) {
		t.Errorf("stage history = %v", stages)
	}
	if want := time.Date(2023, 6, 7, 17, 10, 0, 0, time.UTC); !it.Stages[1].At.Equal(want) {
		t.Errorf("likely-accept at %v, want %v", it.Stages[1].At, want)
	}
	if !strings.Contains(it.Comments, "rsc: No change in consensus") {
		t.Errorf("comments text lacks the author and body: %q", it.Comments)
	}
	if !it.Closed.Equal(time.Date(2023, 6, 21, 18, 5, 10, 0, time.UTC)) {
		t.Errorf("Closed = %v", it.Closed)
	}
}

func TestNormalizeKinds(t *testing.T) {
	tests := []struct {
		name, json         string
		kind, state, stage string
		packages           []string
	}{
		{
			name: "issue",
			json: `{"number":65000,"title":"net/http, net/http/httptest: flaky TestServerShutdown","state":"open","html_url":"https://github.com/golang/go/issues/65000","repository_url":"https://api.github.com/repos/golang/go","created_at":"2024-01-08T10:00:00Z","updated_at":"2024-01-09T10:00:00Z","closed_at":null,"user":{"login":"gopherbot"},"labels":[{"name":"NeedsInvestigation"}]}`,
			kind: "issue", state: "open",
			packages: []string{"net/http", "net/http/httptest"},
		},
		{
			name: "pull request",
			json: `{"number":65001,"title":"x/crypto/ssh: support rsa-sha2-512 host keys","state":"closed","html_url":"https://github.com/golang/go/pull/65001","url":"https://api.github.com/repos/golang/go/issues/65001","created_at":"2024-01-08T10:00:00Z","updated_at":"2024-01-10T10:00:00Z","closed_at":"2024-01-10T10:00:00Z","user":{"login":"someone"},"labels":[],"pull_request":{"url":"https://api.github.com/repos/golang/go/pulls/65001","merged_at":null}}`,
			kind: "pull", state: "closed",
			packages: []string{"golang.org/x/crypto/ssh"},
		},
		{
			name: "proposal by title, in review",
			json: `{"number":65002,"title":"proposal: crypto/rsa: add DecryptPKCS1v15SessionKey fast path","state":"open","html_url":"https://github.com/golang/go/issues/65002","repository_url":"https://api.github.com/repos/golang/go","created_at":"2024-01-08T10:00:00Z","updated_at":"2024-01-10T10:00:00Z","user":{"login":"someone"},"labels":[{"name":"Proposal-FinalCommentPeriod"}]}`,
			kind: "proposal", state: "open", stage: "final-comment",
			packages: []string{"crypto/rsa"},
		},
		{
			name: "new proposal, no signal yet",
			json: `{"number":65003,"title":"proposal: spec: allow type parameters on methods","state":"open","html_url":"https://github.com/golang/go/issues/65003","repository_url":"https://api.github.com/repos/golang/go","created_at":"2024-01-08T10:00:00Z","updated_at":"2024-01-10T10:00:00Z","user":{"login":"someone"},"labels":[{"name":"Proposal"}]}`,
			kind: "proposal", state: "open", stage: "incoming",
		},
		{
			name: "plain English title",
			json: `{"number":65004,"title":"Go 1.22 release notes are missing a section","state":"open","html_url":"https://github.com/golang/go/issues/65004","repository_url":"https://api.github.com/repos/golang/go","created_at":"2024-01-08T10:00:00Z","updated_at":"2024-01-10T10:00:00Z","user":{"login":"someone"},"labels":[]}`,
			kind: "issue", state: "open",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, err := Normalize([]byte(tt.json), nil)
			if err != nil {
				t.Fatal(err)
			}
			if it.Kind != tt.kind || it.State != tt.state || it.Stage != tt.stage {
				t.Errorf("kind, state, stage = %q, %q, %q; want %q, %q, %q", it.Kind, it.State, it.Stage, tt.kind, tt.state, tt.stage)
			}
			if !slices.Equal(it.Packages, tt.packages) {
				t.Errorf("Packages = %v, want %v", it.Packages, tt.packages)
			}
		})
	}
}

func TestNormalizeRejects(t *testing.T) {
	for _, bad := range []string{
		`{"title":"no number","updated_at":"2024-01-01T00:00:00Z"}`,
		`{"number":1,"title":"no updated_at","html_url":"https://github.com/golang/go/issues/1"}`,
		`{"number":1,"updated_at":"2024-01-01T00:00:00Z","title":"no repository"}`,
		`{"number":"1"}`,
		`{"number":1,`,
	} {
		if _, err := Normalize([]byte(bad), nil); err == nil {
			t.Errorf("Normalize(%s) succeeded", bad)
		}
	}
	if _, err := Normalize([]byte(proposalJSON), [][]byte{[]byte(`{"id":1}`)}); err == nil || !strings.Contains(err.Error(), "golang/go#60105") {
		t.Errorf("bad comment: err = %v, want one naming the issue", err)
	}
}

func TestStageFromComment(t *testing.T) {
	tests := map[string]string{
		"This proposal has been added to the active column of the proposals project":    "active",
		"Based on the discussion above, this proposal seems like a **likely accept**.":  "likely-accept",
		"Based on the discussion above, this proposal seems like a **likely decline**.": "likely-decline",
		"No change in consensus, so **accepted**. 🎉":                                    "accepted",
		"No change in consensus, so **declined**.":                                      "declined",
		"Placed on hold.\n— rsc for the proposal review group":                          "hold",
		"I would accept this if it were faster.":                                        "",
		"LGTM":                                                                          "",
	}
	for body, want := range tests {
		if got := StageFromComment(body); got != want {
			t.Errorf("StageFromComment(%q) = %q, want %q", body, got, want)
		}
	}
}

func TestCommentIssueRef(t *testing.T) {
	c, err := ParseComment([]byte(proposalComments[0]))
	if err != nil {
		t.Fatal(err)
	}
	if id, err := c.IssueRef(); err != nil || id != "golang/go#60105" {
		t.Errorf("IssueRef = %q, %v", id, err)
	}
	c.IssueURL = "https://api.github.com/repos/golang/go/issues/"
	if _, err := c.IssueRef(); err == nil {
		t.Error("IssueRef accepted an issue_url without a number")
	}
}

func TestStageHistoryLabels(t *testing.T) {
	at := func(day int) time.Time { return time.Date(2024, 1, day, 0, 0, 0, 0, time.UTC) }
	comments := []index.Stage{{Stage: "active", At: at(1)}, {Stage: "likely-accept", At: at(8)}}
	tests := []struct {
		label string
		want  string
	}{
		{"", "active likely-accept"},
		{"final-comment", "active likely-accept"},     // FCP is the week of a likely accept
		{"active", "active likely-accept"},            // a lingering label says less than the comment
		{"hold", "active likely-accept hold"},         // a decision
		{"accepted", "active likely-accept accepted"}, // a decision
		{"declined", "active likely-accept declined"}, // a decision, even against the comments
	}
	for _, tt := range tests {
		var got []string
		for _, s := range stageHistory(append([]index.Stage(nil), comments...), tt.label, at(9)) {
			got = append(got, s.Stage)
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("label %q: history %v, want %s", tt.label, got, tt.want)
		}
	}
	// Without comments, the label is the whole history.
	if h := stageHistory(nil, "final-comment", at(9)); len(h) != 1 || h[0].Stage != "final-comment" || h[0].Via != "label" {
		t.Errorf("label only: %+v", h)
	}
}
