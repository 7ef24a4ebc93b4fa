package gerrit

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
)

// A change as GET /changes/?o=CURRENT_REVISION&o=CURRENT_COMMIT&o=CURRENT_FILES&o=MESSAGES
// serves it (one element of the array, after the )]}' guard).
const sshChangeJSON = `{"id":"crypto~master~I0b1f5c2d7e8a9b0c1d2e3f405162738495a6b7c8","project":"crypto","branch":"master","hashtags":[],"change_id":"I0b1f5c2d7e8a9b0c1d2e3f405162738495a6b7c8","subject":"ssh/agent: reject keys with oversized comments","status":"MERGED","created":"2024-03-04 10:11:12.000000000","updated":"2024-03-06 16:00:01.000000000","submitted":"2024-03-06 16:00:00.000000000","insertions":40,"deletions":3,"_number":569876,"owner":{"_account_id":5976,"name":"Nicola Murino"},"current_revision":"3f1c2b9d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c","revisions":{"3f1c2b9d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c":{"kind":"REWORK","_number":3,"created":"2024-03-05 09:00:00.000000000","ref":"refs/changes/76/569876/3","commit":{"parents":[{"commit":"aa11"}],"author":{"name":"Nicola Murino","date":"2024-03-04 10:11:12.000000000"},"subject":"ssh/agent: reject keys with oversized comments","message":"ssh/agent: reject keys with oversized comments\n\nA comment longer than 64 KiB made the agent allocate without bound.\n\nFixes golang/go#66000\n\nChange-Id: I0b1f5c2d7e8a9b0c1d2e3f405162738495a6b7c8\n"},"files":{"ssh/agent/client.go":{"lines_inserted":20,"lines_deleted":2},"ssh/agent/client_test.go":{"lines_inserted":20},"ssh/testdata/keys.go":{"lines_inserted":1}}}},"messages":[{"id":"m1","author":{"_account_id":5976,"name":"Nicola Murino"},"date":"2024-03-04 10:11:12.000000000","message":"Uploaded patch set 1.","_revision_number":1},{"id":"m2","author":{"_account_id":1,"name":"Filippo Valsorda"},"date":"2024-03-06 15:00:00.000000000","message":"Patch Set 3: Code-Review+2","_revision_number":3},{"id":"m3","author":{"_account_id":1000,"name":"Gopher Robot"},"date":"2024-03-06 16:00:00.000000000","message":"Change has been successfully merged","_revision_number":3}]}`

func TestNormalizeChange(t *testing.T) {
	it, err := Normalize("https://go-review.googlesource.com", []byte(sshChangeJSON))
	if err != nil {
		t.Fatal(err)
	}
	if it.ID != "go-review:crypto/569876" || it.Source != Kind || it.Kind != index.KindChange {
		t.Errorf("ID, source, kind = %s, %s, %s", it.ID, it.Source, it.Kind)
	}
	if it.State != index.StateMerged {
		t.Errorf("State = %q", it.State)
	}
	if it.URL != "https://go-review.googlesource.com/c/crypto/+/569876" {
		t.Errorf("URL = %q", it.URL)
	}
	if !slices.Equal(it.Files, []string{"ssh/agent/client.go", "ssh/agent/client_test.go", "ssh/testdata/keys.go"}) {
		t.Errorf("Files = %v", it.Files)
	}
	if !slices.Equal(it.Packages, []string{"golang.org/x/crypto/ssh", "golang.org/x/crypto/ssh/agent"}) {
		t.Errorf("Packages = %v", it.Packages)
	}
	if !strings.Contains(it.Body, "allocate without bound") || !strings.HasPrefix(it.Comments, "Nicola Murino: Uploaded patch set 1.") {
		t.Errorf("Body %q / Comments %q", it.Body, it.Comments)
	}
	if want := time.Date(2024, 3, 6, 16, 0, 0, 0, time.UTC); !it.Closed.Equal(want) {
		t.Errorf("Closed = %v, want %v", it.Closed, want)
	}
	if want := time.Date(2024, 3, 6, 16, 0, 1, 0, time.UTC); !it.Updated.Equal(want) {
		t.Errorf("Updated = %v, want %v", it.Updated, want)
	}
}

func TestNormalizeChangeInProjectGo(t *testing.T) {
	raw := `{"id":"go~master~I1","project":"go","branch":"master","change_id":"I1","subject":"crypto/tls: rotate session ticket keys","status":"NEW","created":"2024-01-02 03:04:05.000000000","updated":"2024-01-02 03:04:05.000000000","_number":555000,"owner":{"name":"A"},"current_revision":"r1","revisions":{"r1":{"_number":1,"commit":{"message":"crypto/tls: rotate session ticket keys\n"},"files":{"/COMMIT_MSG":{},"src/crypto/tls/ticket.go":{},"src/crypto/tls/testdata/Client-TLSv13-Resume":{},"doc/next/6-stdlib/99-minor/crypto/tls/1.md":{}}}}}`
	it, err := Normalize("https://go-review.googlesource.com/", []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if it.State != index.StateNew {
		t.Errorf("State = %q", it.State)
	}
	if !slices.Equal(it.Packages, []string{"crypto/tls"}) {
		t.Errorf("Packages = %v", it.Packages)
	}
	if slices.Contains(it.Files, "/COMMIT_MSG") {
		t.Error("/COMMIT_MSG listed as a file")
	}
	if !it.Closed.IsZero() {
		t.Error("open change has a close time")
	}
}

func TestNormalizeChangeRejects(t *testing.T) {
	for _, bad := range []string{
		`{"project":"go","updated":"2024-01-02 03:04:05.000000000"}`,
		`{"_number":1,"updated":"2024-01-02 03:04:05.000000000"}`,
		`{"_number":1,"project":"go","updated":"2024-01-02T03:04:05Z"}`,
		`{"_number":1,"project":"go"}`,
		`[]`,
	} {
		if _, err := Normalize("https://go-review.googlesource.com", []byte(bad)); err == nil {
			t.Errorf("Normalize(%s) succeeded", bad)
		}
	}
}
