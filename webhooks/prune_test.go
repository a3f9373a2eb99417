package webhooks

import (
	"context"
	"testing"
	"time"

	"github.com/depositd/depositd/outbox"
)

// TestPrune removes finished deliveries older than the cut-off, keeps a
// newer one, one still retrying and the body another endpoint still needs.
func TestPrune(t *testing.T) {
	_, rdb := newRedis(t)
	ok, _ := statusServer(t, 200)
	bad, _ := statusServer(t, 500)
	e := newEnv(t, rdb, []Endpoint{endpointFor("ok", ok.URL), endpointFor("bad", bad.URL)})
	ctx := context.Background()
	base := e.clock.Now()
	addEvent(t, rdb, 0, "evt_old", outbox.DepositSeen, base.Add(-48*time.Hour))
	addEvent(t, rdb, 1, "evt_new", outbox.DepositSeen, base)
	e.pump(t)
	e.drain(t)

	n, err := e.d.Prune(ctx, base.Add(-24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want 1 (evt_old:ok)", n, err)
	}
	tests := []struct {
		id     string
		exists bool
	}{
		{"evt_old:ok", false},
		{"evt_old:bad", true}, // still retrying
		{"evt_new:ok", true},  // newer than the cut-off
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			_, err := e.d.Delivery(ctx, tc.id)
			if got := err == nil; got != tc.exists {
				t.Fatalf("exists = %v (%v), want %v", got, err, tc.exists)
			}
		})
	}
	if ids, _ := listAll(t, e.d, Filter{Status: StatusDelivered}); len(ids) != 1 {
		t.Fatalf("delivered index = %v, want only evt_new:ok", ids)
	}
	if ids, _ := listAll(t, e.d, Filter{Endpoint: "ok"}); len(ids) != 1 {
		t.Fatalf("endpoint index = %v, want only evt_new:ok", ids)
	}
	if rdb.Exists(ctx, e.d.k.event("evt_old")).Val() != 1 {
		t.Fatal("the body evt_old:bad still needs was removed")
	}
	if rdb.Exists(ctx, e.d.k.attempts("evt_old:ok")).Val() != 0 {
		t.Fatal("attempts of the pruned delivery remain")
	}

	// Once the retrying delivery dies too, pruning it removes the body.
	for range DefaultSchedule {
		if dl := e.delivery(t, "evt_old:bad"); !dl.NextAt.IsZero() {
			e.clock.Set(dl.NextAt)
		}
		e.drain(t)
	}
	if n, err := e.d.Prune(ctx, base.Add(-24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("second Prune = %d, %v; want 1", n, err)
	}
	if rdb.Exists(ctx, e.d.k.event("evt_old")).Val() != 0 {
		t.Fatal("event body kept after its last delivery was pruned")
	}
}
