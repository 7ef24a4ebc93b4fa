package configs

import (
	"strings"
	"testing"
	"time"
)

func TestProfileSLA(t *testing.T) {
	const head = "id = \"acme\"\nname = \"Acme\"\ntier = \"gold\"\n"
	const concern = "[[concern]]\nid = \"tls\"\nsummary = \"TLS\"\ntold = 2024-01-10\npackages = [\"crypto/tls\"]\n"
	for _, tc := range []struct {
		name, src string
		want      ClientSLA
		err       string
	}{
		{"none", head + concern, ClientSLA{}, ""},
		{"off", head + "sla = false\n" + concern, ClientSLA{Off: true}, ""},
		{"on", head + "sla = true\n" + concern, ClientSLA{}, ""},
		{"table", head + concern + "[sla]\nwindow = \"48h\"\nresponse = \"4h\"\n", ClientSLA{Window: Duration(48 * time.Hour), Response: Duration(4 * time.Hour)}, ""},
		{"unknown key", head + concern + "[sla]\nwindw = \"48h\"\n", ClientSLA{}, `acme.toml:9: client acme: unknown key "sla.windw" (want window or response)`},
		{"bad duration", head + concern + "[sla]\nresponse = \"soon\"\n", ClientSLA{}, `acme.toml:9: client acme: sla.response: bad duration "soon"`},
		{"bad type", head + "sla = 3\n" + concern, ClientSLA{}, `acme.toml:4: client acme: sla = 3: want false, or a table`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseProfile("acme.toml", []byte(tc.src))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.SLA != tc.want {
				t.Errorf("SLA = %+v, want %+v", p.SLA, tc.want)
			}
		})
	}
}
