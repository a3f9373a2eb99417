package webhooks

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/depositd/depositd/outbox"
)

func TestCountFollowsDeadLetters(t *testing.T) {
	_, rdb := newRedis(t)
	bad, _ := statusServer(t, 500)
	ok, _ := statusServer(t, 200)
	failing := endpointFor("failing", bad.URL)
	failing.Schedule = []time.Duration{0}
	e := newEnv(t, rdb, []Endpoint{failing, endpointFor("fine", ok.URL)})
	ctx := context.Background()
	for i := range 3 {
		addEvent(t, rdb, i, fmt.Sprintf("evt_%d", i), outbox.DepositCredited, e.clock.Now())
	}
	e.pump(t)
	e.drain(t)

	count := func(status, ep string) int64 {
		t.Helper()
		n, err := e.d.Count(ctx, status, ep)
		if err != nil {
			t.Fatalf("Count(%s, %q): %v", status, ep, err)
		}
		return n
	}
	for _, tc := range []struct {
		status, endpoint string
		want             int64
	}{
		{StatusDead, "failing", 3},
		{StatusDead, "", 3},
		{StatusDead, "fine", 0},
		{StatusDelivered, "fine", 3},
	} {
		if got := count(tc.status, tc.endpoint); got != tc.want {
			t.Errorf("Count(%s, %q) = %d, want %d", tc.status, tc.endpoint, got, tc.want)
		}
	}
	if err := e.d.Redeliver(ctx, DeliveryID("evt_0", "failing")); err != nil {
		t.Fatal(err)
	}
	if got := count(StatusDead, "failing"); got != 2 {
		t.Fatalf("after a redelivery Count(dead) = %d, want 2", got)
	}
	if _, err := e.d.Count(ctx, "lost", ""); !errors.Is(err, ErrBadFilter) {
		t.Fatalf("unknown status: err = %v, want ErrBadFilter", err)
	}
}
