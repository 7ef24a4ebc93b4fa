package configs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadProfiles(t *testing.T) {
	ps, err := LoadProfiles(filepath.Join("testdata", "clients"))
	if err != nil {
		t.Fatal(err)
	}
	if got := ps.IDs(); !slices.Equal(got, []string{"acme", "globex"}) {
		t.Fatalf("clients = %v, want [acme globex]", got)
	}
	acme := ps.Client("acme")
	if acme.Name != "Acme CDN" || acme.Tier != TierGold || len(acme.Contacts) != 1 || acme.Notes == "" {
		t.Errorf("acme = %+v", acme)
	}
	if len(acme.Concerns) != 2 {
		t.Fatalf("acme has %d concerns, want 2", len(acme.Concerns))
	}
	tls := acme.Concern("tls-session-resumption")
	if tls == nil {
		t.Fatal("no concern tls-session-resumption")
	}
	if want := time.Date(2023, 5, 10, 0, 0, 0, 0, time.UTC); !tls.Told.Equal(want) || tls.Told.String() != "2023-05-10" {
		t.Errorf("told = %v, want %v", tls.Told, want)
	}
	if tls.Via != "kick-off call" || tls.Priority != PriorityHigh || tls.Query != "session ticket resumption" {
		t.Errorf("tls concern = %+v", tls)
	}
	if !slices.Equal(tls.Kinds, []string{"change", "issue", "proposal"}) {
		t.Errorf("kinds = %v", tls.Kinds)
	}
	ssh := acme.Concern("ssh-agent")
	if !slices.Equal(ssh.Packages, []string{"golang.org/x/crypto/ssh/agent"}) {
		t.Errorf("ssh packages = %v, want the normalized path once", ssh.Packages)
	}
	if ssh.Priority != PriorityNormal {
		t.Errorf("default priority = %q, want normal", ssh.Priority)
	}
	if ssh.Told.String() != "2024-01-02" {
		t.Errorf("told as a string = %v", ssh.Told)
	}
	rsa := ps.Client("globex").Concern("rsa")
	if rsa.Told.String() != "2024-02-03" {
		t.Errorf("told as a date-time = %v", rsa.Told)
	}
}

func TestDateJSON(t *testing.T) {
	d := Date{Time: time.Date(2023, 5, 10, 0, 0, 0, 0, time.UTC)}
	b, err := json.Marshal(struct{ Told Date }{d})
	if err != nil || string(b) != `{"Told":"2023-05-10"}` {
		t.Fatalf("json = %s, %v", b, err)
	}
	var back struct{ Told Date }
	if err := json.Unmarshal(b, &back); err != nil || !back.Told.Equal(d.Time) {
		t.Errorf("round trip = %v, %v", back.Told, err)
	}
}

func TestLoadProfilesMissingDir(t *testing.T) {
	ps, err := LoadProfiles(filepath.Join(t.TempDir(), "nope"))
	if err != nil || len(ps) != 0 {
		t.Fatalf("LoadProfiles(missing) = %v, %v; want none, nil", ps, err)
	}
}

const goodProfile = `id   = "acme"
name = "Acme"
tier = "gold"

[[concern]]
id       = "tls"
summary  = "TLS"
told     = 2023-05-10
packages = ["crypto/tls"]
`

func TestProfileErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		want []string // substrings of the error, in order of lines
	}{
		{"syntax", "id = \"acme\"\nname = \"Acme\ntier = \"gold\"\n",
			[]string{"p.toml:2:"}},
		{"unknown top key", strings.Replace(goodProfile, "tier", "teir", 1),
			[]string{`p.toml:3: unknown key "teir" (did you mean "tier"?)`}},
		{"unknown concern key", goodProfile + "qurey = \"x\"\n",
			[]string{`p.toml:10: unknown key "concern.qurey" (did you mean "query"?)`}},
		{"bad tier", strings.Replace(goodProfile, `"gold"`, `"bronze"`, 1),
			[]string{`p.toml:3: client acme: tier "bronze": want silver, gold or platinum`}},
		{"no tier", strings.Replace(goodProfile, "tier = \"gold\"\n", "", 1),
			[]string{`p.toml: client acme: tier is required`}},
		{"bad client id", strings.Replace(goodProfile, `"acme"`, `"Acme Corp"`, 1),
			[]string{`p.toml:1: client id "Acme Corp": use lowercase`, `like "acme-corp"`}},
		{"bad priority", goodProfile + "priority = \"urgent\"\n",
			[]string{`p.toml:10: client acme, concern tls: priority "urgent": want low, normal or high`}},
		{"bad kind", goodProfile + "kinds = [\"issue\", \"bug\"]\n",
			[]string{`p.toml:10: client acme, concern tls: kind "bug": want issue, proposal, pull, change, vuln`}},
		{"bad query", goodProfile + "query = '\"session ticket'\n",
			[]string{`p.toml:10: client acme, concern tls: query "\"session ticket": unterminated quote`}},
		{"bad package", strings.Replace(goodProfile, `"crypto/tls"`, `"crypto//tls"`, 1),
			[]string{`p.toml:9: client acme, concern tls: package "crypto//tls" is not a Go import path`}},
		{"neither packages nor query", strings.Replace(goodProfile, "packages = [\"crypto/tls\"]\n", "", 1),
			[]string{`p.toml:5: client acme, concern tls: give packages, a query, or both`}},
		{"duplicate concern", goodProfile + "\n[[concern]]\nid = \"tls\"\nsummary = \"again\"\ntold = 2024-01-01\nquery = \"tls\"\n",
			[]string{`p.toml:12: client acme, concern tls: duplicate concern id (concern #1 has it too)`}},
		{"no told", strings.Replace(goodProfile, "told     = 2023-05-10\n", "", 1),
			[]string{`p.toml:5: client acme, concern tls: told is required`}},
		{"bad told", strings.Replace(goodProfile, "2023-05-10", `"May 10"`, 1),
			[]string{`p.toml:8: client acme, concern tls: told "May 10": want a day like 2023-05-10`}},
		{"wrong type", strings.Replace(goodProfile, `["crypto/tls"]`, `"crypto/tls"`, 1),
			[]string{`p.toml:9: concern.packages: incompatible types: TOML value has type string; destination has type slice`}},
		{"no concerns", "id = \"acme\"\nname = \"Acme\"\ntier = \"gold\"\n",
			[]string{`client acme: no [[concern]]`}},
		{"second concern's line", goodProfile + "\n[[concern]]\nid = \"b\"\nsummary = \"b\"\ntold = 2024-01-01\nquery = \"x\"\npriority = \"hi\"\n",
			[]string{`p.toml:16: client acme, concern b: priority "hi"`}},
		{"unknown key and bad values together", strings.Replace(goodProfile, `"gold"`, `"tin"`, 1) + "qurey = \"x\"\nkinds = [\"bug\"]\n",
			[]string{`p.toml:3: client acme: tier "tin"`, `p.toml:10: unknown key "concern.qurey"`, `p.toml:11: client acme, concern tls: kind "bug"`}},
		{"several errors", strings.Replace(strings.Replace(goodProfile, `"gold"`, `"tin"`, 1), `"crypto/tls"`, `"../x"`, 1) + "priority = \"max\"\n",
			[]string{`tier "tin"`, `package "../x"`, `priority "max"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseProfile("p.toml", []byte(tc.file))
			if err == nil {
				t.Fatalf("no error; want %q", tc.want)
			}
			msg := err.Error()
			rest := msg
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error:\n%s\nwant it to contain (in order) %q", msg, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestDuplicateClients(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.toml", "b.toml"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(goodProfile), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := LoadProfiles(dir)
	if err == nil {
		t.Fatalf("no error; got %d profiles", len(ps))
	}
	if want := `b.toml:1: duplicate client id "acme": ` + filepath.Join(dir, "a.toml") + ` has it too`; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q\nwant %q", err, want)
	}
	if ps != nil {
		t.Errorf("got profiles with an error: %v", ps.IDs())
	}
}

func TestLoadProfilesReportsEveryFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.toml"), []byte(strings.Replace(goodProfile, "gold", "gld", 1)), 0o644)
	os.WriteFile(filepath.Join(dir, "b.toml"), []byte(strings.Replace(strings.Replace(goodProfile, "acme", "b", 1), "low", "x", 1)+"kinds = [\"cl\"]\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("not a profile"), 0o644)
	_, err := LoadProfiles(dir)
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{"a.toml:3:", "b.toml:10:"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func TestRanks(t *testing.T) {
	if !(TierRank("platinum") > TierRank("gold") && TierRank("gold") > TierRank("silver") && TierRank("silver") > TierRank("")) {
		t.Error("tier ranks out of order")
	}
	if !(PriorityRank("high") > PriorityRank("normal") && PriorityRank("normal") > PriorityRank("low")) {
		t.Error("priority ranks out of order")
	}
}
