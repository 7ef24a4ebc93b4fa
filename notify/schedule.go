package notify

import (
	"time"

	"github.com/reciprocal-access/reciprocal/configs"
)

// A Schedule is when the daily briefing is due: a wall-clock time in a
// time zone.
//
// Days are civil days in Location, and a day's briefing is due once, at the
// configured local time, whatever the UTC offset that day: days when the
// clocks change are 23 or 25 hours long. On those days time.Date alone
// does not say which instant a wall-clock time means (it differs between
// zones), so DueAt decides: a time the change skips (02:30 when clocks jump
// from 02:00 to 03:00) is due as much later as the clocks jumped (03:30),
// never earlier than configured; a time that happens twice is due at its
// first occurrence.
type Schedule struct {
	Hour, Minute int
	Location     *time.Location // nil means time.Local
}

// ScheduleOf returns the schedule set by cfg's [briefing] section.
func ScheduleOf(cfg *configs.Config) Schedule {
	h, m := cfg.BriefingAt()
	return Schedule{Hour: h, Minute: m, Location: cfg.Location()}
}

func (s Schedule) loc() *time.Location {
	if s.Location == nil {
		return time.Local
	}
	return s.Location
}

// Today returns the civil day of now in the schedule's time zone.
func (s Schedule) Today(now time.Time) Date { return DateOf(now.In(s.loc())) }

// DueAt returns when the briefing of day d is due (see Schedule for days
// when the clocks change).
func (s Schedule) DueAt(d Date) time.Time {
	loc := s.loc()
	wall := time.Date(d.Year, d.Month, d.Day, s.Hour, s.Minute, 0, 0, time.UTC)
	// The offsets in effect on either side of the day; they differ only
	// when the clocks change, and then the wall time means zero, one or
	// two instants.
	_, before := wall.Add(-36 * time.Hour).In(loc).Zone()
	_, after := wall.Add(36 * time.Hour).In(loc).Zone()
	var due time.Time
	for _, off := range []int{before, after} {
		t := wall.Add(-time.Duration(off) * time.Second).In(loc)
		if t.Hour() == s.Hour && t.Minute() == s.Minute && DateOf(t) == d && (due.IsZero() || t.Before(due)) {
			due = t
		}
	}
	if due.IsZero() {
		// Skipped: read the wall time with the offset from before the
		// jump, which lands as far after the jump as the time was into
		// the gap.
		due = wall.Add(-time.Duration(before) * time.Second).In(loc)
	}
	return due
}

// Next returns the first due time strictly after now: today's, if it is
// still ahead, or else tomorrow's.
func (s Schedule) Next(now time.Time) time.Time {
	today := s.Today(now)
	if t := s.DueAt(today); t.After(now) {
		return t
	}
	return s.DueAt(today.AddDays(1))
}

// Due reports, for now, today's civil day and whether its briefing is due:
// its time has come (and the day has not ended) and the outbox has not sent
// it or given up on it. A briefing that is still pending after a failed
// attempt is due again, to be retried.
func (o *Outbox) Due(s Schedule, now time.Time) (Date, bool, error) {
	day := s.Today(now)
	if now.Before(s.DueAt(day)) {
		return day, false, nil
	}
	e, ok, err := o.Entry(day)
	if err != nil {
		return day, false, err
	}
	return day, !ok || e.State == StatePending, nil
}
