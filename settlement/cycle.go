package settlement

import (
	"fmt"
	"time"
)

// DefaultLocation is the billing time zone of Huawei Cloud International
// (seed 002): UTC+8.
var DefaultLocation = time.FixedZone("UTC+8", 8*3600)

// DefaultDueDays is the time between issue and due date (seed 000: deposit
// model, top-up within 10 days after the statement).
const DefaultDueDays = 10

// Cycle is one billing month: the calendar month [Start, End) in a time
// zone. Month is its name, "2026-10".
type Cycle struct {
	Month string
	Start time.Time
	End   time.Time
}

// CycleOf returns the billing month that contains t, in loc.
func CycleOf(t time.Time, loc *time.Location) Cycle {
	l := t.In(loc)
	start := time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, loc)
	return Cycle{Month: start.Format("2006-01"), Start: start, End: start.AddDate(0, 1, 0)}
}

// ParseMonth returns the billing month named "YYYY-MM" in loc.
func ParseMonth(month string, loc *time.Location) (Cycle, error) {
	t, err := time.ParseInLocation("2006-01", month, loc)
	if err != nil || t.Format("2006-01") != month {
		return Cycle{}, fmt.Errorf("month %q: want YYYY-MM", month)
	}
	return CycleOf(t, loc), nil
}

// IssueDate is when the month's statement is issued: 00:00 on the 1st of
// the next month, in the cycle's time zone (seed 002).
func (c Cycle) IssueDate() time.Time { return c.End }

// DueDate is issue plus days calendar days, at the same wall-clock time in
// loc (calendar days, so a zone with daylight saving keeps 00:00).
func DueDate(issue time.Time, days int, loc *time.Location) time.Time {
	return issue.In(loc).AddDate(0, 0, days)
}
