package notify

import (
	"context"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, whatever the system has
)

func utc(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

// markSent stores a sent briefing for day, as a delivery would.
func markSent(t *testing.T, ob *Outbox, day Date) {
	t.Helper()
	m := &Message{Date: day, MessageID: messageID(day, 0, "me@example.com"), From: "me@example.com", To: []string{"me@example.com"}, Raw: []byte("Subject: x\r\n\r\nx\r\n")}
	_, err := ob.Deliver(context.Background(), day, func() (*Message, error) { return m, nil }, acceptAll{})
	if err != nil {
		t.Fatal(err)
	}
}

type acceptAll struct{}

func (acceptAll) Send(context.Context, string, []string, []byte) (string, error) {
	return "250 ok", nil
}

type failAll struct{}

func (failAll) Send(context.Context, string, []string, []byte) (string, error) {
	return "", &SendError{Step: "connect", Err: context.DeadlineExceeded}
}

// dueCase is one question to Outbox.Due.
type dueCase struct {
	now     time.Time
	wantDay Date
	wantDue bool
}

func checkDue(t *testing.T, ob *Outbox, s Schedule, cases []dueCase) {
	t.Helper()
	for _, c := range cases {
		day, due, err := ob.Due(s, c.now)
		if err != nil {
			t.Fatal(err)
		}
		if day != c.wantDay || due != c.wantDue {
			t.Errorf("Due at %s (%s) = %s, %v; want %s, %v", c.now.UTC().Format(time.DateTime+"Z"),
				c.now.In(s.Location).Format("Mon 15:04 MST"), day, due, c.wantDay, c.wantDue)
		}
	}
}

func TestDueAcrossMidnight(t *testing.T) {
	rome := mustLoad(t, "Europe/Rome")
	ob := newOutbox(t)
	s := Schedule{Hour: 8, Minute: 0, Location: rome}
	d23, d24, d25 := Date{2026, 11, 23}, Date{2026, 11, 24}, Date{2026, 11, 25}

	// Rome is UTC+1 in November: 08:00 is 07:00Z, midnight is 23:00Z.
	checkDue(t, ob, s, []dueCase{
		{utc(2026, 11, 23, 22, 59), d23, true},  // 23:59 on the 23rd: its briefing never went
		{utc(2026, 11, 23, 23, 0), d24, false},  // midnight: a new day, not yet 08:00
		{utc(2026, 11, 24, 6, 59), d24, false},  // 07:59
		{utc(2026, 11, 24, 7, 0), d24, true},    // 08:00
		{utc(2026, 11, 24, 22, 59), d24, true},  // 23:59, still unsent
		{utc(2026, 11, 24, 23, 30), d25, false}, // 00:30 next day
	})
	markSent(t, ob, d24)
	checkDue(t, ob, s, []dueCase{
		{utc(2026, 11, 24, 7, 0), d24, false},
		{utc(2026, 11, 24, 22, 59), d24, false},
		{utc(2026, 11, 25, 7, 0), d25, true},
	})

	// A late briefing time: due in the last half hour of the day only.
	late := Schedule{Hour: 23, Minute: 30, Location: rome}
	checkDue(t, newOutbox(t), late, []dueCase{
		{utc(2026, 11, 24, 22, 29), d24, false},
		{utc(2026, 11, 24, 22, 30), d24, true},
		{utc(2026, 11, 24, 23, 10), d25, false},
	})

	// New York: 04:30Z on the 25th is still 23:30 on the 24th there.
	ny := mustLoad(t, "America/New_York")
	nys := Schedule{Hour: 8, Minute: 0, Location: ny}
	ob2 := newOutbox(t)
	checkDue(t, ob2, nys, []dueCase{
		{utc(2026, 11, 25, 4, 30), d24, true},
		{utc(2026, 11, 24, 12, 59), d24, false}, // 07:59 EST
		{utc(2026, 11, 24, 13, 0), d24, true},   // 08:00 EST
		{utc(2026, 11, 25, 5, 0), d25, false},   // 00:00 EST on the 25th
	})
	markSent(t, ob2, d24)
	checkDue(t, ob2, nys, []dueCase{{utc(2026, 11, 25, 4, 30), d24, false}})
}

func TestDuePendingIsRetried(t *testing.T) {
	rome := mustLoad(t, "Europe/Rome")
	ob := newOutbox(t)
	s := Schedule{Hour: 8, Location: rome}
	c := newComposer(t)
	if _, err := ob.Deliver(context.Background(), testDay, c.compose, failAll{}); err == nil {
		t.Fatal("want a failure")
	}
	checkDue(t, ob, s, []dueCase{{utc(2026, 11, 24, 9, 0), testDay, true}})
	if _, err := ob.Deliver(context.Background(), testDay, c.compose, acceptAll{}); err != nil {
		t.Fatal(err)
	}
	checkDue(t, ob, s, []dueCase{{utc(2026, 11, 24, 9, 0), testDay, false}})
}

func TestDueAcrossDST(t *testing.T) {
	rome := mustLoad(t, "Europe/Rome")
	ny := mustLoad(t, "America/New_York")
	for _, tc := range []struct {
		name     string
		loc      *time.Location
		hour     int
		min      int
		day      Date
		wantDue  time.Time // DueAt(day), in UTC
		dayHours float64   // hours from the previous day's due time
	}{
		// Rome springs forward 02:00 CET → 03:00 CEST on 29 March 2026.
		{"Rome spring 08:00", rome, 8, 0, Date{2026, 3, 29}, utc(2026, 3, 29, 6, 0), 23},
		{"Rome after spring 08:00", rome, 8, 0, Date{2026, 3, 30}, utc(2026, 3, 30, 6, 0), 24},
		{"Rome spring skipped 02:30", rome, 2, 30, Date{2026, 3, 29}, utc(2026, 3, 29, 1, 30), 24},
		// Rome falls back 03:00 CEST → 02:00 CET on 25 October 2026.
		{"Rome autumn 08:00", rome, 8, 0, Date{2026, 10, 25}, utc(2026, 10, 25, 7, 0), 25},
		{"Rome autumn twice 02:30", rome, 2, 30, Date{2026, 10, 25}, utc(2026, 10, 25, 0, 30), 24},
		// New York springs forward 02:00 EST → 03:00 EDT on 8 March 2026.
		{"New York spring 08:00", ny, 8, 0, Date{2026, 3, 8}, utc(2026, 3, 8, 12, 0), 23},
		{"New York spring skipped 02:30", ny, 2, 30, Date{2026, 3, 8}, utc(2026, 3, 8, 7, 30), 24},
		// New York falls back 02:00 EDT → 01:00 EST on 1 November 2026.
		{"New York autumn 08:00", ny, 8, 0, Date{2026, 11, 1}, utc(2026, 11, 1, 13, 0), 25},
		{"New York autumn twice 01:30", ny, 1, 30, Date{2026, 11, 1}, utc(2026, 11, 1, 5, 30), 24},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Schedule{Hour: tc.hour, Minute: tc.min, Location: tc.loc}
			got := s.DueAt(tc.day)
			if !got.Equal(tc.wantDue) {
				t.Errorf("DueAt(%s) = %s (%s), want %s", tc.day, got, got.UTC(), tc.wantDue)
			}
			if DateOf(got) != tc.day {
				t.Errorf("DueAt(%s) is on %s locally", tc.day, DateOf(got))
			}
			if h := got.Sub(s.DueAt(tc.day.AddDays(-1))).Hours(); h != tc.dayHours {
				t.Errorf("%v hours since the previous briefing, want %v", h, tc.dayHours)
			}
			ob := newOutbox(t)
			checkDue(t, ob, s, []dueCase{
				{tc.wantDue.Add(-time.Minute), tc.day, false},
				{tc.wantDue, tc.day, true},
			})
			// Once sent, the repeated hour (or the rest of a long day)
			// does not make it due again.
			markSent(t, ob, tc.day)
			checkDue(t, ob, s, []dueCase{
				{tc.wantDue.Add(time.Hour), tc.day, false},
				{s.DueAt(tc.day.AddDays(1)).Add(-time.Minute), tc.day.AddDays(1), false},
				{s.DueAt(tc.day.AddDays(1)), tc.day.AddDays(1), true},
			})
		})
	}
}

func TestNext(t *testing.T) {
	rome := mustLoad(t, "Europe/Rome")
	s := Schedule{Hour: 8, Location: rome}
	for _, tc := range []struct{ now, want time.Time }{
		{utc(2026, 11, 24, 6, 0), utc(2026, 11, 24, 7, 0)},
		{utc(2026, 11, 24, 7, 0), utc(2026, 11, 25, 7, 0)},
		{utc(2026, 11, 24, 23, 30), utc(2026, 11, 25, 7, 0)},
		{utc(2026, 3, 28, 9, 0), utc(2026, 3, 29, 6, 0)}, // across the spring change
	} {
		if got := s.Next(tc.now); !got.Equal(tc.want) {
			t.Errorf("Next(%s) = %s, want %s", tc.now, got.UTC(), tc.want)
		}
	}
}

func TestStatus(t *testing.T) {
	rome := mustLoad(t, "Europe/Rome")
	ob := newOutbox(t)
	s := Schedule{Hour: 8, Location: rome}
	now := utc(2026, 11, 24, 9, 0)
	st, err := ob.Status(s, now)
	if err != nil {
		t.Fatal(err)
	}
	if st.Today != testDay || !st.Due || st.Entry != nil || st.Last != nil || !st.DueAt.Equal(utc(2026, 11, 24, 7, 0)) || !st.NextDue.Equal(utc(2026, 11, 25, 7, 0)) {
		t.Errorf("empty outbox status: %+v", st)
	}
	c := newComposer(t)
	ob.Deliver(context.Background(), testDay, c.compose, failAll{})
	st, _ = ob.Status(s, now)
	if !st.Due || st.Entry == nil || st.Entry.State != StatePending || st.Entry.LastError == "" {
		t.Errorf("pending status: %+v", st)
	}
	if d := st.Entry.Describe(rome); d != "pending after 1 failed attempt, last Tue 24 Nov 08:02: smtp : connect: context deadline exceeded" {
		t.Errorf("describe pending = %q", d)
	}
	ob.Deliver(context.Background(), testDay, c.compose, acceptAll{})
	st, _ = ob.Status(s, now)
	if st.Due || st.Entry == nil || st.Entry.State != StateSent || st.Last != st.Entry {
		t.Errorf("sent status: %+v", st)
	}
	if d := st.Entry.Describe(rome); d != "sent Tue 24 Nov 08:04 to me@example.com <briefing-2026-11-24.reciprocal@example.com>" {
		t.Errorf("describe sent = %q", d)
	}
	// The next day, before its time: today has no entry, the last is
	// yesterday's.
	st, _ = ob.Status(s, utc(2026, 11, 25, 6, 0))
	if st.Due || st.Entry != nil || st.Last == nil || st.Last.Date != testDay {
		t.Errorf("next morning status: %+v", st)
	}
}

func TestDate(t *testing.T) {
	d, err := ParseDate("2026-02-28")
	if err != nil || d != (Date{2026, 2, 28}) {
		t.Fatalf("ParseDate = %v, %v", d, err)
	}
	if d.AddDays(1) != (Date{2026, 3, 1}) || d.AddDays(-59) != (Date{2025, 12, 31}) {
		t.Errorf("AddDays: %v %v", d.AddDays(1), d.AddDays(-59))
	}
	for _, bad := range []string{"2026-2-28", "28/02/2026", "2026-02-30", ""} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("ParseDate(%q) succeeded", bad)
		}
	}
	if (Date{2026, 1, 2}).Compare(Date{2025, 12, 31}) != 1 || (Date{2026, 1, 2}).Compare(Date{2026, 1, 2}) != 0 {
		t.Errorf("Compare")
	}
}
