package webhooks

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/depositd/depositd/outbox"
)

// TestLeaseExpiryHandsOver: a second dispatcher cannot take a leased
// delivery until the lease expires; then it can, and the first holder's
// late outcome is dropped.
func TestLeaseExpiryHandsOver(t *testing.T) {
	_, rdb := newRedis(t)
	srv, _ := statusServer(t, 200)
	eps := []Endpoint{endpointFor("ep", srv.URL)}
	a := newEnv(t, rdb, eps)
	b := newEnv(t, rdb, eps)
	b.d.o.Now = a.clock.Now // one clock for both processes
	ctx := context.Background()
	addEvent(t, rdb, 6, "evt_l", outbox.DepositSeen, a.clock.Now())
	a.pump(t)

	first, err := a.d.claim(ctx, 10)
	if err != nil || len(first) != 1 {
		t.Fatalf("first claim = %v, %v", first, err)
	}
	if got, _ := b.d.claim(ctx, 10); len(got) != 0 {
		t.Fatalf("second dispatcher claimed %d leased deliveries", len(got))
	}
	a.clock.Advance(a.d.lease - time.Millisecond)
	if got, _ := b.d.claim(ctx, 10); len(got) != 0 {
		t.Fatal("claimed a millisecond before the lease ended")
	}
	a.clock.Advance(time.Millisecond)
	second, err := b.d.claim(ctx, 10)
	if err != nil || len(second) != 1 {
		t.Fatalf("claim after expiry = %v, %v", second, err)
	}
	b.d.attempt(ctx, second[0])
	a.d.attempt(ctx, first[0])
	dl := a.delivery(t, first[0].id)
	if dl.Status != StatusDelivered || len(dl.Attempts) != 1 {
		t.Fatalf("delivery = %+v, want delivered with only the new holder's attempt", dl)
	}
	if !strings.Contains(a.logs.String(), "lease lost") {
		t.Fatal("the stale holder did not report its lost lease")
	}
}

// TestConcurrentDispatchersNeverOverlap runs two dispatchers on one Redis
// against a slow receiver that fails 40% of first attempts, and checks
// that no delivery is ever in flight twice and every event arrives.
func TestConcurrentDispatchersNeverOverlap(t *testing.T) {
	_, rdb := newRedis(t)
	const events = 300
	rcv := NewReceiver([]string{testSecret}, nil)
	var mu sync.Mutex
	inflight, seen := map[string]int{}, map[string]bool{}
	overlaps := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(HeaderID)
		mu.Lock()
		if inflight[id] > 0 {
			overlaps++
		}
		inflight[id]++
		first := !seen[id]
		seen[id] = true
		mu.Unlock()
		defer func() {
			mu.Lock()
			inflight[id]--
			mu.Unlock()
		}()
		select { // hold the request so that overlaps would show
		case <-time.After(3 * time.Millisecond):
		case <-r.Context().Done():
		}
		if first && failFirst(id, 40) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		rcv.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ep := endpointFor("ep", srv.URL)
	ep.Schedule = []time.Duration{0, 5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond}

	ctx, cancel := context.WithCancel(context.Background())
	g, gctx := errgroup.WithContext(ctx)
	var ds []*Dispatcher
	for i := range 2 {
		d, err := NewDispatcher(rdb, []Endpoint{ep}, Options{
			Consumer: fmt.Sprintf("c%d", i), PollInterval: 5 * time.Millisecond,
			ReadBlock: 50 * time.Millisecond, Workers: 16, Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
		g.Go(func() error { return d.Run(gctx) })
	}
	now := time.Now()
	for i := range events {
		addEvent(t, rdb, i%outbox.Shards, fmt.Sprintf("evt_%04d", i), outbox.DepositCredited, now)
	}
	waitFor(t, 20*time.Second, func() bool { return rcv.Unique() == events })
	waitFor(t, 20*time.Second, func() bool {
		ids, _ := listAll(t, ds[0], Filter{Status: StatusDelivered, Limit: 500})
		return len(ids) == events
	})
	cancel()
	if err := g.Wait(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if overlaps != 0 {
		t.Fatalf("%d requests overlapped another of the same delivery", overlaps)
	}
}

// failFirst decides, stably per id, whether a first attempt fails.
func failFirst(id string, percent uint32) bool {
	h := fnv.New32a()
	h.Write([]byte(id))
	return h.Sum32()%100 < percent
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("condition not met within %s", timeout)
		case <-tick.C:
		}
	}
}
