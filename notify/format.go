package notify

import "time"

// FormatDuration formats d (its absolute value) for a person, as every
// report does: "2d 4h", "3h 20m", "45m", "under a minute".
func FormatDuration(d time.Duration) string { return formatDuration(d) }
