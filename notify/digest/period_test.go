package digest

import (
	"testing"
	"time"
)

func TestPeriods(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Skip(err)
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, rome) }
	for _, tc := range []struct {
		in         string
		start, end time.Time
		label      string
	}{
		{"2026-Q4", day(2026, 10, 1), day(2027, 1, 1), "1 Oct – 31 Dec 2026"},
		{"2026-q1", day(2026, 1, 1), day(2026, 4, 1), "1 Jan – 31 Mar 2026"},
		{"2026-11", day(2026, 11, 1), day(2026, 12, 1), "1 Nov – 30 Nov 2026"},
	} {
		p, err := ParsePeriod(tc.in, rome)
		if err != nil || !p.Start.Equal(tc.start) || !p.End.Equal(tc.end) || p.Label() != tc.label {
			t.Errorf("ParsePeriod(%q) = %+v (%q), %v", tc.in, p, p.Label(), err)
		}
	}
	for _, bad := range []string{"2026-Q5", "2026-13", "Q3", "2026"} {
		if _, err := ParsePeriod(bad, rome); err == nil {
			t.Errorf("ParsePeriod(%q) accepted", bad)
		}
	}
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, rome)
	if p := LastComplete("quarter", now, rome); p.Name != "2026-Q3" {
		t.Errorf("last quarter = %s", p.Name)
	}
	if p := LastComplete("month", now, rome); p.Name != "2026-10" {
		t.Errorf("last month = %s", p.Name)
	}
	if p := LastComplete("quarter", time.Date(2026, 1, 1, 0, 30, 0, 0, rome), rome); p.Name != "2025-Q4" {
		t.Errorf("last quarter at new year = %s", p.Name)
	}
	p, err := Days(day(2026, 11, 23), day(2026, 11, 24), rome)
	if err != nil || p.Name != "2026-11-23..2026-11-24" || !p.End.Equal(day(2026, 11, 25)) || !p.Contains(now) {
		t.Errorf("Days = %+v, %v", p, err)
	}
	if _, err := Days(day(2026, 11, 24), day(2026, 11, 23), rome); err == nil {
		t.Errorf("Days accepted until before since")
	}
}
