package webhooks

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/depositd/depositd/outbox"
)

// TestFullScheduleInMilliseconds walks the default ~3-day schedule on a
// fake clock: each retry is due exactly at its delay and not a
// millisecond before, and after the last attempt the delivery is dead,
// the dead metric counts it and an error is logged.
func TestFullScheduleInMilliseconds(t *testing.T) {
	_, rdb := newRedis(t)
	srv, hits := statusServer(t, http.StatusServiceUnavailable)
	e := newEnv(t, rdb, []Endpoint{endpointFor("down", srv.URL)})
	start := e.clock.Now()
	addEvent(t, rdb, 5, "evt_sched", outbox.StatementPaid, start)
	e.pump(t)
	id := DeliveryID("evt_sched", "down")

	for i := range DefaultSchedule {
		if i > 0 {
			due := e.delivery(t, id).NextAt
			if want := e.clock.Now().Add(DefaultSchedule[i]); !due.Equal(want) {
				t.Fatalf("attempt %d due %s, want %s", i+1, due, want)
			}
			e.clock.Set(due.Add(-time.Millisecond))
			if n := e.drain(t); n != 0 {
				t.Fatalf("attempt %d sent %s early", i+1, time.Millisecond)
			}
			e.clock.Set(due)
		}
		if n := e.drain(t); n != 1 {
			t.Fatalf("attempt %d: drained %d, want 1", i+1, n)
		}
		dl := e.delivery(t, id)
		if len(dl.Attempts) != i+1 {
			t.Fatalf("after attempt %d: %d attempts recorded", i+1, len(dl.Attempts))
		}
		last := i == len(DefaultSchedule)-1
		if want := map[bool]string{false: StatusFailed, true: StatusDead}[last]; dl.Status != want {
			t.Fatalf("after attempt %d: status %s, want %s", i+1, dl.Status, want)
		}
	}
	if elapsed := e.clock.Now().Sub(start); elapsed < 3*24*time.Hour || elapsed > 4*24*time.Hour {
		t.Fatalf("schedule spans %s, want about three days", elapsed)
	}
	if hits.get() != len(DefaultSchedule) {
		t.Fatalf("receiver got %d requests, want %d", hits.get(), len(DefaultSchedule))
	}
	if dl := e.delivery(t, id); !dl.NextAt.IsZero() {
		t.Fatalf("dead delivery still due at %s", dl.NextAt)
	}
	e.clock.Advance(365 * 24 * time.Hour)
	if e.drain(t) != 0 {
		t.Fatal("a dead delivery was attempted again")
	}
	if got := counterValue(t, e.d.m.dead.WithLabelValues("down")); got != 1 {
		t.Fatalf("dead metric = %v, want 1", got)
	}
	if logs := e.logs.String(); !strings.Contains(logs, `"level":"ERROR","msg":"webhook delivery dead-lettered after its last attempt"`) {
		t.Fatalf("no dead-letter error logged:\n%s", logs)
	}
	if strings.Contains(e.logs.String(), strings.TrimPrefix(testSecret, "whsec_")) {
		t.Fatal("a secret was logged")
	}
}

// TestRetryThenSuccess: a receiver that fails twice gets the event on
// the third attempt, at the third scheduled time.
func TestRetryThenSuccess(t *testing.T) {
	_, rdb := newRedis(t)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	t.Cleanup(srv.Close)
	e := newEnv(t, rdb, []Endpoint{endpointFor("flaky", srv.URL)})
	start := e.clock.Now()
	addEvent(t, rdb, 9, "evt_flaky", outbox.DepositCredited, start)
	e.pump(t)
	for range 3 {
		e.drain(t)
		if dl := e.delivery(t, DeliveryID("evt_flaky", "flaky")); !dl.NextAt.IsZero() {
			e.clock.Set(dl.NextAt)
		}
	}
	dl := e.delivery(t, DeliveryID("evt_flaky", "flaky"))
	if dl.Status != StatusDelivered || len(dl.Attempts) != 3 {
		t.Fatalf("delivery = %+v, want delivered on attempt 3", dl)
	}
	if want := start.Add(DefaultSchedule[1] + DefaultSchedule[2]); !dl.Attempts[2].At.Equal(want) {
		t.Fatalf("third attempt at %s, want %s", dl.Attempts[2].At, want)
	}
}

// TestScaledSchedule: a schedule given per endpoint replaces the default;
// its length is the number of attempts.
func TestScaledSchedule(t *testing.T) {
	_, rdb := newRedis(t)
	srv, hits := statusServer(t, 500)
	ep := endpointFor("short", srv.URL)
	ep.Schedule = []time.Duration{0, time.Millisecond, 2 * time.Millisecond}
	e := newEnv(t, rdb, []Endpoint{ep})
	addEvent(t, rdb, 2, "evt_short", outbox.BalanceLow, e.clock.Now())
	e.pump(t)
	for range 5 {
		e.drain(t)
		e.clock.Advance(2 * time.Millisecond)
	}
	if dl := e.delivery(t, DeliveryID("evt_short", "short")); dl.Status != StatusDead || hits.get() != 3 {
		t.Fatalf("status %s after %d requests, want dead after 3", dl.Status, hits.get())
	}
}

func TestJitterBounds(t *testing.T) {
	for _, d := range []time.Duration{0, time.Nanosecond, 5 * time.Second, 24 * time.Hour} {
		t.Run(d.String(), func(t *testing.T) {
			lo, hi := d-d/10, d+d/10
			seenLow, seenHigh := false, false
			for range 2000 {
				j := tenPercent(d)
				if j < lo || j > hi {
					t.Fatalf("tenPercent(%s) = %s, outside [%s, %s]", d, j, lo, hi)
				}
				seenLow = seenLow || j < d
				seenHigh = seenHigh || j > d
			}
			if d >= time.Second && (!seenLow || !seenHigh) {
				t.Fatalf("tenPercent(%s) never spread both ways", d)
			}
		})
	}
}
