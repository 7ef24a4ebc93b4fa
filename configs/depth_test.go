package configs

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

const profileHead = "id = \"acme\"\nname = \"Acme\"\ntier = \"gold\"\n"

func inlineTables(depth int) string {
	return strings.Repeat("{a = ", depth) + "1" + strings.Repeat("}", depth)
}

func TestNestingLimit(t *testing.T) {
	deepDotted := "x." + strings.Repeat("a.", 2000) + "b = 1"
	cases := []struct {
		name string
		toml string
		line int
	}{
		{"inline tables", "notes = \"x\"\nbogus = " + inlineTables(1000), 5},
		{"arrays", "bogus = " + strings.Repeat("[", 1000) + strings.Repeat("]", 1000), 4},
		{"dotted key", deepDotted, 4},
		{"table header", "[" + strings.Repeat("a.", 40) + "b]\nx = 1", 4},
		{"inline tables across lines", "bogus = {a = {\n" + strings.Repeat("a = {", 40) + "}", 5},
		{"dotted keys in inline tables", "bogus = " + strings.Repeat("{a.a.a = ", 20) + "1" + strings.Repeat("}", 20), 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseProfile("deep.toml", []byte(profileHead+c.toml+"\n"))
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FileError", err)
			}
			want := fmt.Sprintf("deep.toml:%d: nested deeper than 32 levels", c.line)
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("err = %q, want it to start %q", err, want)
			}
		})
	}
	// The configuration file gets the same check.
	_, err := Parse("reciprocal.toml", []byte("[smtp]\nx = "+inlineTables(1000)+"\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "reciprocal.toml:2: nested deeper than 32 levels") {
		t.Errorf("Parse: err = %v", err)
	}
}

func TestNestingAtTheLimit(t *testing.T) {
	// 31 inline tables under a top-level key are 32 levels: an unknown key,
	// not a nesting error.
	for _, c := range []struct {
		toml string
		deep bool
	}{
		{"bogus = " + inlineTables(31), false},
		{"bogus = " + inlineTables(32), true},
		{"bogus = " + strings.Repeat("[", 31) + strings.Repeat("]", 31), false},
		{"bogus = " + strings.Repeat("[", 32) + strings.Repeat("]", 32), true},
		{"[" + strings.Repeat("a.", 32) + "b]", true},
		{"[" + strings.Repeat("a.", 31) + "b]", false},
	} {
		_, err := ParseProfile("p.toml", []byte(profileHead+c.toml+"\n"))
		if err == nil {
			t.Fatalf("%.40s…: no error, want one", c.toml)
		}
		if got := strings.Contains(err.Error(), "nested deeper"); got != c.deep {
			t.Errorf("%.40s…: err = %.120q, want nesting error %v", c.toml, err, c.deep)
		}
	}
}

// Brackets and dots inside strings and comments are not nesting.
func TestNestingIgnoresStrings(t *testing.T) {
	b := strings.Repeat("{[.", 100)
	data := profileHead + `notes = "` + b + `\"` + b + `"` + "\n" +
		"# " + b + "\n" +
		"[[concern]] # " + b + "\n" +
		"id = 'c1'\n" +
		`summary = """` + b + "\n" + b + `"""` + "\n" +
		"query = '''" + b + "'''\n" +
		`packages = ["crypto/tls", "` + b + `"]` + "\n" +
		`"quoted.key" = {"a.b" = 1, 'c' = [1, 2, {d = 1979-05-27T07:32:00Z}]}` + "\n"
	_, err := ParseProfile("p.toml", []byte(data))
	if err == nil || strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("err = %v, want only the unknown key", err)
	}
	if !strings.Contains(err.Error(), `p.toml:12: unknown key "concern.\"quoted.key\""`) {
		t.Errorf("err = %v, want the unknown quoted key on line 12", err)
	}
}

func TestExamplesWithinNestingLimit(t *testing.T) {
	for _, f := range []string{"example/reciprocal.toml", "example/clients/acme.toml", "example/clients/globex.toml", "example/clients/initech.toml", "example/starter-client.toml"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkDepth(f, data); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// BenchmarkUnknownKeys checks profiles of n unknown keys, each nested 8
// levels deep. ns/op grows in proportion to n (and MB/s stays flat): the
// strict check is linear in the size of the file.
func BenchmarkUnknownKeys(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		var sb strings.Builder
		sb.WriteString(profileHead)
		for i := range n {
			fmt.Fprintf(&sb, "bogus%d = %s\n", i, inlineTables(7))
		}
		data := []byte(sb.String())
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := ParseProfile("p.toml", data); err == nil {
					b.Fatal("no error")
				}
			}
		})
	}
}

// BenchmarkDeepReject measures rejecting inline tables nested depth deep:
// the cost does not grow with the depth, as the scan stops at the limit.
func BenchmarkDeepReject(b *testing.B) {
	for _, depth := range []int{1000, 10000, 100000} {
		data := []byte(profileHead + "bogus = " + inlineTables(depth) + "\n")
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			for b.Loop() {
				if _, err := ParseProfile("p.toml", data); err == nil {
					b.Fatal("no error")
				}
			}
		})
	}
}
