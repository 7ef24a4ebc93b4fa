package vulndb

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reciprocal-access/reciprocal/index"
)

// A standard library entry as vuln.go.dev/ID/GO-2024-2600.json serves it.
const stdlibEntry = `{"schema_version":"1.3.1","id":"GO-2024-2600","modified":"2024-03-08T13:10:12Z","published":"2024-03-05T20:00:00Z","aliases":["CVE-2023-45289"],"summary":"Incorrect forwarding of sensitive headers and cookies on HTTP redirect in net/http","details":"When following an HTTP redirect to a domain which is not a subdomain match or exact match of the initial domain, an http.Client does not forward sensitive headers.","affected":[{"package":{"name":"stdlib","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.21.8"},{"introduced":"1.22.0-0"},{"fixed":"1.22.1"}]}],"ecosystem_specific":{"imports":[{"path":"net/http","symbols":["Client.Do","Client.Get"]},{"path":"net/http/cookiejar","symbols":["Jar.Cookies"]}]}}],"references":[{"type":"REPORT","url":"https://go.dev/issue/65065"},{"type":"FIX","url":"https://go.dev/cl/569340"}],"credits":[{"name":"Juho Nurminen of Mattermost"}],"database_specific":{"url":"https://pkg.go.dev/vuln/GO-2024-2600","review_status":"REVIEWED"}}`

func TestNormalizeEntry(t *testing.T) {
	it, err := Normalize([]byte(stdlibEntry))
	if err != nil {
		t.Fatal(err)
	}
	if it.ID != "GO-2024-2600" || it.Kind != index.KindVuln || it.Source != Kind || it.State != index.StatePublished {
		t.Errorf("ID, kind, source, state = %s %s %s %s", it.ID, it.Kind, it.Source, it.State)
	}
	if it.Repo != "stdlib" {
		t.Errorf("Repo = %q", it.Repo)
	}
	if !slices.Equal(it.Packages, []string{"net/http", "net/http/cookiejar"}) {
		t.Errorf("Packages = %v", it.Packages)
	}
	if !slices.Equal(it.Aliases, []string{"CVE-2023-45289"}) {
		t.Errorf("Aliases = %v", it.Aliases)
	}
	if !it.Created.Equal(time.Date(2024, 3, 5, 20, 0, 0, 0, time.UTC)) || !it.Updated.Equal(time.Date(2024, 3, 8, 13, 10, 12, 0, time.UTC)) {
		t.Errorf("Created %v Updated %v", it.Created, it.Updated)
	}
	for _, want := range []string{"sensitive headers", "net/http: Client.Do, Client.Get", "CVE-2023-45289", "https://go.dev/cl/569340"} {
		if !strings.Contains(it.Body, want) {
			t.Errorf("Body lacks %q", want)
		}
	}
	if it.URL != "https://pkg.go.dev/vuln/GO-2024-2600" {
		t.Errorf("URL = %q", it.URL)
	}
}

func TestNormalizeThirdPartyAndWithdrawn(t *testing.T) {
	raw := `{"id":"GO-2022-0001","modified":"2023-01-01T00:00:00Z","published":"2022-01-01T00:00:00Z","withdrawn":"2023-01-01T00:00:00Z","details":"First line.\nSecond line.","affected":[{"package":{"name":"github.com/example/mod","ecosystem":"Go"}}]}`
	it, err := Normalize([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if it.State != index.StateWithdrawn || it.Closed.IsZero() {
		t.Errorf("state %q closed %v", it.State, it.Closed)
	}
	if it.Title != "First line." {
		t.Errorf("Title from details = %q", it.Title)
	}
	if !slices.Equal(it.Packages, []string{"github.com/example/mod"}) {
		t.Errorf("a module without import paths gives its module path: %v", it.Packages)
	}
	if it.URL != "https://pkg.go.dev/vuln/GO-2022-0001" {
		t.Errorf("URL = %q", it.URL)
	}
}

func TestNormalizeEntryRejects(t *testing.T) {
	for _, bad := range []string{`{"modified":"2023-01-01T00:00:00Z"}`, `{"id":"GO-2022-0001"}`, `{"id":"GO-2022-0001","modified":"yesterday"}`} {
		if _, err := Normalize([]byte(bad)); err == nil {
			t.Errorf("Normalize(%s) succeeded", bad)
		}
	}
}
