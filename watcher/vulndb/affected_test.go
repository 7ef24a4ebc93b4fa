package vulndb

import (
	"reflect"
	"testing"

	"github.com/reciprocal-access/reciprocal/index"
)

func TestNormalizeAffected(t *testing.T) {
	raw := `{"id":"GO-2026-4951","modified":"2026-11-23T18:31:00Z","published":"2026-11-23T18:31:00Z","summary":"s",
"affected":[
 {"package":{"name":"stdlib","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.26.10"},{"introduced":"1.27.0-0"},{"fixed":"1.27.5"}]}],
  "ecosystem_specific":{"imports":[{"path":"crypto/tls"}]}},
 {"package":{"name":"golang.org/x/net","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0.20.0"}]}]},
 {"package":{"name":"example.com/m","ecosystem":"Go"}}]}`
	it, err := Normalize([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := []index.Affected{
		{Module: "stdlib", Packages: []string{"crypto/tls"}, Versions: "before 1.26.10; from 1.27.0-0 before 1.27.5", Fixed: []string{"1.26.10", "1.27.5"}},
		{Module: "golang.org/x/net", Versions: "from 0.20.0 with no fix yet"},
		{Module: "example.com/m", Versions: "all versions"},
	}
	if !reflect.DeepEqual(it.Affected, want) {
		t.Errorf("Affected = %+v\nwant %+v", it.Affected, want)
	}
}
