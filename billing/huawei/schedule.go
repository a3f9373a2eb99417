package huawei

import (
	"context"
	"time"
)

// Due reports the cycle to import at now: from ImportDay at ImportHour of
// each month (in loc) to the month's end, the previous month; before that,
// nothing (ok false: last month's bill may not be complete yet).
func Due(now time.Time, loc *time.Location, day, hour int) (cycle string, ok bool) {
	t := now.In(loc)
	start := time.Date(t.Year(), t.Month(), day, hour, 0, 0, 0, loc)
	if t.Before(start) {
		return "", false
	}
	return time.Date(t.Year(), t.Month()-1, 1, 0, 0, 0, 0, loc).Format("2006-01"), true
}

// Next returns the first run time after now: the next ImportHour on a day
// on or after ImportDay.
func Next(now time.Time, loc *time.Location, day, hour int) time.Time {
	t := now.In(loc)
	c := time.Date(t.Year(), t.Month(), t.Day(), hour, 0, 0, 0, loc)
	if !c.After(t) {
		c = time.Date(t.Year(), t.Month(), t.Day()+1, hour, 0, 0, 0, loc)
	}
	if c.Day() < day {
		c = time.Date(c.Year(), c.Month(), day, hour, 0, 0, 0, loc)
	}
	return c
}

// Run imports on schedule until ctx ends: at start when an import is due
// (a daemon started on the 20th imports last month at once), then daily at
// ImportHour from ImportDay on. Re-importing a month is idempotent, so the
// daily runs only notice upstream changes. A failed run is retried with
// backoff (RetryBase doubling to RetryMax); it never stops the loop.
func (im *Importer) Run(ctx context.Context) error {
	o := im.opts
	backoff := o.RetryBase
	for {
		now := o.Now()
		wait := Next(now, o.Location, o.ImportDay, o.ImportHour).Sub(now)
		if cycle, ok := Due(now, o.Location, o.ImportDay, o.ImportHour); ok {
			res, err := im.Import(ctx, cycle)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				o.Logger.Warn("huawei statement import failed; retrying", "cycle", cycle, "retry_in", backoff, "err", err)
				wait = min(wait, backoff)
				backoff = min(2*backoff, o.RetryMax)
			} else {
				o.Logger.Info("huawei statement import done", "cycle", cycle, "accounts", res.Accounts, "unmapped", len(res.Unmapped))
				backoff = o.RetryBase
			}
		}
		t := time.NewTimer(max(wait, time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
