package gerrit

import "testing"

func TestDropMember(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":1,"_more_changes":true}`, `{"a":1}`},
		{`{"_more_changes":true,"a":1}`, `{"a":1}`},
		{`{"_more_changes":true}`, `{}`},
		{`{"a":1,"_more_changes":true,"b":[1,{"_more_changes":true}]}`, `{"a":1,"b":[1,{"_more_changes":true}]}`},
		{`{"a": 1, "_more_changes": true, "b": 2}`, `{"a": 1, "b": 2}`},
		{`{ "_more_changes" : true , "b": 2}`, `{"b": 2}`},
		{`{"a":"\"_more_changes\":true"}`, `{"a":"\"_more_changes\":true"}`},
		{`{"a":{"_more_changes":true}}`, `{"a":{"_more_changes":true}}`},
		{`[1]`, `[1]`},
		{`{"a":`, `{"a":`},
	} {
		if got := string(dropMember([]byte(tc.in), "_more_changes")); got != tc.want {
			t.Errorf("dropMember(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
