package digest

import (
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// A Period is the stretch of time a digest covers: a quarter, a month or
// a range of days, in the briefing's time zone.
type Period struct {
	Name  string    // 2026-Q4, 2026-11, 2026-10-01..2026-11-15
	Start time.Time // the first instant
	End   time.Time // the first instant after it
}

// Contains reports whether t is within the period.
func (p Period) Contains(t time.Time) bool { return !t.Before(p.Start) && t.Before(p.End) }

// Label writes the period for people: "1 Oct – 31 Dec 2026".
func (p Period) Label() string {
	last := p.End.Add(-time.Nanosecond)
	if p.Start.Year() == last.Year() {
		return p.Start.Format("2 Jan") + " – " + last.Format("2 Jan 2006")
	}
	return p.Start.Format("2 Jan 2006") + " – " + last.Format("2 Jan 2006")
}

var (
	quarterPattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d{4})-[Qq]([1-4])$`) })
	monthPattern   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d{4})-(\d{2})$`) })
)

// ParsePeriod reads 2026-Q3 (a quarter) or 2026-11 (a month), in loc.
func ParsePeriod(s string, loc *time.Location) (Period, error) {
	if m := quarterPattern().FindStringSubmatch(s); m != nil {
		y, _ := strconv.Atoi(m[1])
		q, _ := strconv.Atoi(m[2])
		return Quarter(y, q, loc), nil
	}
	if m := monthPattern().FindStringSubmatch(s); m != nil {
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		if mo >= 1 && mo <= 12 {
			return Month(y, time.Month(mo), loc), nil
		}
	}
	return Period{}, fmt.Errorf("period %q: want a quarter like 2026-Q3 or a month like 2026-11", s)
}

// Quarter returns quarter q (1-4) of year y.
func Quarter(y, q int, loc *time.Location) Period {
	start := time.Date(y, time.Month(3*(q-1)+1), 1, 0, 0, 0, 0, loc)
	return Period{Name: fmt.Sprintf("%04d-Q%d", y, q), Start: start, End: start.AddDate(0, 3, 0)}
}

// Month returns month m of year y.
func Month(y int, m time.Month, loc *time.Location) Period {
	start := time.Date(y, m, 1, 0, 0, 0, 0, loc)
	return Period{Name: fmt.Sprintf("%04d-%02d", y, int(m)), Start: start, End: start.AddDate(0, 1, 0)}
}

// Days returns the days from since to until, both included.
func Days(since, until time.Time, loc *time.Location) (Period, error) {
	start := time.Date(since.Year(), since.Month(), since.Day(), 0, 0, 0, 0, loc)
	end := time.Date(until.Year(), until.Month(), until.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	if !end.After(start) {
		return Period{}, fmt.Errorf("--until %s is before --since %s", until.Format(time.DateOnly), since.Format(time.DateOnly))
	}
	return Period{Name: start.Format(time.DateOnly) + ".." + end.AddDate(0, 0, -1).Format(time.DateOnly), Start: start, End: end}, nil
}

// Containing returns the period of kind every ("quarter" or "month")
// that contains t.
func Containing(every string, t time.Time, loc *time.Location) Period {
	t = t.In(loc)
	if every == "month" {
		return Month(t.Year(), t.Month(), loc)
	}
	return Quarter(t.Year(), (int(t.Month())-1)/3+1, loc)
}

// LastComplete returns the most recent period of kind every that ended by
// t.
func LastComplete(every string, t time.Time, loc *time.Location) Period {
	cur := Containing(every, t, loc)
	return Containing(every, cur.Start.AddDate(0, 0, -1), loc)
}
