package note

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestFormatParse(t *testing.T) {
	d := &Draft{
		Client: "acme", Key: "note/GO-2026-4951/acme",
		To:      []string{"Jane Roe <jane@acme.example>", `"Ops, Edge" <edge@acme.example>`},
		Subject: "GO-2026-4951: tickets\r\nBcc: victim@example.com",
		Body:    "Hi,\n\n  indented line\n" + Placeholder + " fill me]\n",
	}
	data := d.Format()
	if strings.Count(string(data), "\nBcc:") != 0 || !strings.Contains(string(data), "Subject: GO-2026-4951: tickets Bcc: victim@example.com\n") {
		t.Errorf("subject not on one line:\n%s", data)
	}
	_, err := Parse("d.txt", data)
	var ue *UnfilledError
	if !errors.As(err, &ue) || ue.Line != 8 || !errors.Is(err, ErrUnfilled) {
		t.Fatalf("Parse with the placeholder: %v", err)
	}
	filled := strings.Replace(string(data), Placeholder+" fill me]", "Rotate the keys.", 1)
	got, err := Parse("d.txt", []byte(filled))
	if err != nil {
		t.Fatal(err)
	}
	if got.Key != d.Key || len(got.To) != 2 || got.To[1] != `"Ops  Edge" <edge@acme.example>` || got.Body != "Hi,\n\n  indented line\nRotate the keys.\n" {
		t.Errorf("Parse = %+v", got)
	}
	for _, tc := range []struct{ name, data, err string }{
		{"no blank line", "To: a@b.example\nSubject: s\nReciprocal-Key: note/x/y\n", "no blank line"},
		{"no key", "To: a@b.example\nSubject: s\n\ntext\n", "no Reciprocal-Key header"},
		{"bad key", "To: a@b.example\nSubject: s\nReciprocal-Key: alert/x\n\ntext\n", "not one reciprocal writes"},
		{"no to", "To:\nSubject: s\nReciprocal-Key: note/x/y\n\ntext\n", "no recipient"},
		{"unknown header", "Bcc: a@b.example\n\ntext\n", `d.txt:1: unknown header "Bcc"`},
		{"empty", "To: a@b.example\nSubject: s\nReciprocal-Key: note/x/y\n\n\n", "the text is empty"},
	} {
		if _, err := Parse("d.txt", []byte(tc.data)); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
		}
	}
}

func TestComposeHostile(t *testing.T) {
	d := &Draft{Key: "note/GO-1/acme", To: []string{"jane@acme.example"}, Subject: "s",
		Body: "<script>alert(1)</script> \x1b[2J\u202e see https://go.dev/issue/1 and javascript:alert(1)\n  kept indent\n"}
	m, err := Compose(d, "me <me@example.com>", time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if m.MessageID != "note.GO-1.acme.reciprocal@example.com" {
		t.Errorf("Message-ID %q", m.MessageID)
	}
	if strings.ContainsAny(m.Text, "\x1b\u202e") || !strings.Contains(m.Text, "\n  kept indent\n") {
		t.Errorf("text %q", m.Text)
	}
	html := htmlParagraphs(CleanText(d.Body))
	joined := string(html[0])
	if strings.Contains(joined, "<script>") || !strings.Contains(joined, "&lt;script&gt;") ||
		!strings.Contains(joined, `<a href="https://go.dev/issue/1">https://go.dev/issue/1</a>`) || strings.Contains(joined, `href="javascript`) {
		t.Errorf("html %s", joined)
	}
}

func TestDurationWords(t *testing.T) {
	for d, want := range map[time.Duration]string{6 * time.Hour: "six-hour", 4 * time.Hour: "four-hour", 36 * time.Hour: "36-hour", 90 * time.Minute: "90-minute"} {
		if got := durationWords(d); got != want {
			t.Errorf("durationWords(%v) = %q, want %q", d, got, want)
		}
	}
}
