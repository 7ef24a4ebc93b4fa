package engagement

import (
	"testing"
	"time"
)

func TestSummaryLine(t *testing.T) {
	for _, tc := range []struct {
		s    Summary
		want string
	}{
		{Summary{Consultations: 12, Requests: 5, VulnsAnswered: 4, MedianAnswer: 100 * time.Minute, Response: 6 * time.Hour, Digests: 2},
			"12 consultations, 4 vulnerabilities answered in a median 1h 40m, all within 6h; 2 digests sent"},
		{Summary{Consultations: 1, Requests: 2, VulnsAnswered: 1, MedianAnswer: 7 * time.Hour, Late: 1, Response: 6 * time.Hour, Open: 1, Alerts: 3, Notes: 1, Digests: 1},
			"1 consultation, 1 vulnerability answered in a median 7h, 1 after the 6h response, 1 request open; 3 alerts, 1 note sent, 1 digest sent"},
		{Summary{}, "0 consultations, no SLA requests; 0 digests sent"},
	} {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("String() = %q\nwant        %q", got, tc.want)
		}
	}
}

func TestMedian(t *testing.T) {
	m := time.Minute
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{{nil, 0}, {[]time.Duration{5 * m}, 5 * m}, {[]time.Duration{9 * m, 1 * m, 5 * m}, 5 * m}, {[]time.Duration{4 * m, 1 * m, 2 * m, 3 * m}, 150 * time.Second}} {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestMailKind(t *testing.T) {
	for key, want := range map[string]string{
		"note/GO-2026-4951/acme": Note, "note/GO-2026-4951/acmex": "", "digest/acme/2026-Q4": Digest,
		"digest/globex/2026-Q4": "", "alert/GO-2026-4951": "",
	} {
		if got := mailKind(key, "acme"); got != want {
			t.Errorf("mailKind(%q) = %q, want %q", key, got, want)
		}
	}
}
