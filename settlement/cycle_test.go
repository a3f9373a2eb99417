package settlement

import (
	"testing"
	"time"
)

func TestCycle(t *testing.T) {
	utc := time.UTC
	tests := []struct {
		name      string
		at        time.Time
		loc       *time.Location
		wantMonth string
		wantIssue time.Time
	}{
		{"mid month", time.Date(2026, 10, 15, 12, 0, 0, 0, utc), DefaultLocation, "2026-10", time.Date(2026, 10, 31, 16, 0, 0, 0, utc)},
		{"UTC evening of last day is next month in UTC+8", time.Date(2026, 10, 31, 16, 0, 0, 0, utc), DefaultLocation, "2026-11", time.Date(2026, 11, 30, 16, 0, 0, 0, utc)},
		{"one ns before", time.Date(2026, 10, 31, 15, 59, 59, 999999999, utc), DefaultLocation, "2026-10", time.Date(2026, 10, 31, 16, 0, 0, 0, utc)},
		{"december rolls the year", time.Date(2026, 12, 5, 0, 0, 0, 0, utc), DefaultLocation, "2026-12", time.Date(2026, 12, 31, 16, 0, 0, 0, utc)},
		{"UTC zone", time.Date(2026, 2, 28, 23, 0, 0, 0, utc), utc, "2026-02", time.Date(2026, 3, 1, 0, 0, 0, 0, utc)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := CycleOf(tc.at, tc.loc)
			if c.Month != tc.wantMonth || !c.IssueDate().Equal(tc.wantIssue) {
				t.Fatalf("got %s issue %s, want %s issue %s", c.Month, c.IssueDate().UTC(), tc.wantMonth, tc.wantIssue)
			}
			if tc.at.Before(c.Start) || !tc.at.Before(c.End) {
				t.Fatalf("%s not in [%s, %s)", tc.at, c.Start, c.End)
			}
		})
	}
}

func TestDueDate(t *testing.T) {
	issue := time.Date(2026, 11, 1, 0, 0, 0, 0, DefaultLocation)
	tests := []struct {
		name string
		days int
		want time.Time
	}{
		{"default 10 days", DefaultDueDays, time.Date(2026, 11, 11, 0, 0, 0, 0, DefaultLocation)},
		{"across month end", 30, time.Date(2026, 12, 1, 0, 0, 0, 0, DefaultLocation)},
		{"zero", 0, issue},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := DueDate(issue, tc.days, DefaultLocation); !got.Equal(tc.want) {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestParseMonth(t *testing.T) {
	tests := []struct {
		in      string
		wantErr bool
	}{
		{"2026-10", false}, {"2026-1", true}, {"2026-13", true}, {"", true}, {"2026-10-01", true}, {"oct", true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			c, err := ParseMonth(tc.in, DefaultLocation)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && (c.Month != tc.in || c.Start.Day() != 1) {
				t.Fatalf("got %+v", c)
			}
		})
	}
}
