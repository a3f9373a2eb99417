package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/outbox"
)

// listAll pages through a filter and returns the delivery ids in order.
func listAll(t *testing.T, d *Dispatcher, f Filter) ([]string, int) {
	t.Helper()
	var ids []string
	pages := 0
	for {
		items, next, err := d.Deliveries(context.Background(), f)
		if err != nil {
			t.Fatalf("Deliveries(%+v): %v", f, err)
		}
		pages++
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		if next == "" {
			return ids, pages
		}
		f.Cursor = next
	}
}

func TestDeliveriesListing(t *testing.T) {
	_, rdb := newRedis(t)
	ok, _ := statusServer(t, 200)
	bad, _ := statusServer(t, 500)
	e := newEnv(t, rdb, []Endpoint{endpointFor("good", ok.URL), endpointFor("bad", bad.URL)})
	base := e.clock.Now()
	var newestFirst []string
	for i := range 7 {
		id := fmt.Sprintf("evt_%02d", i)
		addEvent(t, rdb, i, id, outbox.DepositCredited, base.Add(time.Duration(i)*time.Second))
		newestFirst = append([]string{id}, newestFirst...)
	}
	e.pump(t)
	e.drain(t)
	with := func(ep string) []string {
		out := make([]string, len(newestFirst))
		for i, id := range newestFirst {
			out[i] = DeliveryID(id, ep)
		}
		return out
	}

	tests := []struct {
		name      string
		f         Filter
		want      []string
		wantPages int
	}{
		{"delivered", Filter{Status: StatusDelivered}, with("good"), 1},
		{"failed, pages of 3", Filter{Status: StatusFailed, Limit: 3}, with("bad"), 3},
		{"by endpoint, any status", Filter{Endpoint: "bad", Limit: 7}, with("bad"), 1},
		{"status and endpoint", Filter{Status: StatusFailed, Endpoint: "good"}, nil, 1},
		{"dead", Filter{Status: StatusDead}, nil, 1},
		{"all, pages of 5", Filter{Limit: 5}, nil, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, pages := listAll(t, e.d, tc.f)
			if tc.name == "all, pages of 5" {
				if len(got) != 14 {
					t.Fatalf("got %d deliveries, want 14", len(got))
				}
			} else if !slices.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if pages != tc.wantPages {
				t.Fatalf("pages = %d, want %d", pages, tc.wantPages)
			}
		})
	}

	items, _, err := e.d.Deliveries(context.Background(), Filter{Status: StatusFailed, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	it := items[0]
	if it.EventID != "evt_06" || it.EventType != outbox.DepositCredited || it.Endpoint != "bad" ||
		!it.CreatedAt.Equal(base.Add(6*time.Second)) || len(it.Attempts) != 1 || it.Attempts[0].Status != 500 {
		t.Fatalf("listed delivery = %+v", it)
	}

	for _, f := range []Filter{{Status: "lost"}, {Endpoint: "no such/name"}, {Limit: 501}, {Limit: -1}, {Cursor: "%%%"}} {
		t.Run(fmt.Sprintf("rejects %+v", f), func(t *testing.T) {
			if _, _, err := e.d.Deliveries(context.Background(), f); !errors.Is(err, ErrBadFilter) {
				t.Fatalf("err = %v, want ErrBadFilter", err)
			}
		})
	}
}

func TestRedeliver(t *testing.T) {
	_, rdb := newRedis(t)
	var failing atomic.Bool
	failing.Store(true)
	rcv := NewReceiver([]string{testSecret}, nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(500)
			return
		}
		rcv.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	ep := endpointFor("ep", srv.URL)
	ep.Schedule = []time.Duration{0}
	e := newEnv(t, rdb, []Endpoint{ep})
	ctx := context.Background()
	base := e.clock.Now()
	for i := range 4 {
		addEvent(t, rdb, i, fmt.Sprintf("evt_%d", i), outbox.DepositSeen, base.Add(time.Duration(i)*time.Minute))
	}
	e.pump(t)
	e.drain(t)
	if ids, _ := listAll(t, e.d, Filter{Status: StatusDead}); len(ids) != 4 {
		t.Fatalf("dead = %v, want 4", ids)
	}
	failing.Store(false)

	t.Run("one", func(t *testing.T) {
		if err := e.d.Redeliver(ctx, DeliveryID("evt_0", "ep")); err != nil {
			t.Fatal(err)
		}
		if dl := e.delivery(t, DeliveryID("evt_0", "ep")); dl.Status != StatusPending || !dl.NextAt.Equal(e.clock.Now()) {
			t.Fatalf("after Redeliver: %+v, want pending and due now", dl)
		}
		if n := e.drain(t); n != 1 || rcv.Count("evt_0") != 1 {
			t.Fatalf("drained %d, received %d; want 1 and 1", n, rcv.Count("evt_0"))
		}
		if dl := e.delivery(t, DeliveryID("evt_0", "ep")); dl.Status != StatusDelivered || len(dl.Attempts) != 2 {
			t.Fatalf("after redelivery: %+v", dl)
		}
	})
	t.Run("failed since", func(t *testing.T) {
		n, err := e.d.RedeliverFailed(ctx, "ep", base.Add(2*time.Minute))
		if err != nil || n != 2 {
			t.Fatalf("RedeliverFailed = %d, %v; want 2", n, err)
		}
		e.drain(t)
		for id, want := range map[string]int{"evt_1": 0, "evt_2": 1, "evt_3": 1} {
			if got := rcv.Count(id); got != want {
				t.Fatalf("%s received %d times, want %d", id, got, want)
			}
		}
	})
	t.Run("failed at any time", func(t *testing.T) {
		n, err := e.d.RedeliverFailed(ctx, "ep", time.Time{})
		if err != nil || n != 1 {
			t.Fatalf("RedeliverFailed(zero time) = %d, %v; want 1 (evt_1)", n, err)
		}
		e.drain(t)
		if got := rcv.Count("evt_1"); got != 1 {
			t.Fatalf("evt_1 received %d times, want 1", got)
		}
	})
	t.Run("a delivered one again", func(t *testing.T) {
		if err := e.d.Redeliver(ctx, DeliveryID("evt_0", "ep")); err != nil {
			t.Fatal(err)
		}
		e.drain(t)
		if got := rcv.Count("evt_0"); got != 2 {
			t.Fatalf("evt_0 received %d times, want 2", got)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		if err := e.d.Redeliver(ctx, "evt_nope:ep"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
		if _, err := e.d.RedeliverFailed(ctx, "bad name!", base); !errors.Is(err, ErrBadFilter) {
			t.Fatalf("RedeliverFailed(bad name) err = %v, want ErrBadFilter", err)
		}
	})
}

// TestRedeliverDuringAttempt: a redelivery requested while an attempt is
// in flight does not start a second concurrent send; the delivery is
// queued again when the attempt is recorded.
func TestRedeliverDuringAttempt(t *testing.T) {
	_, rdb := newRedis(t)
	srv, hits := statusServer(t, 200)
	e := newEnv(t, rdb, []Endpoint{endpointFor("ep", srv.URL)})
	ctx := context.Background()
	addEvent(t, rdb, 4, "evt_x", outbox.DepositSeen, e.clock.Now())
	e.pump(t)
	jobs, err := e.d.claim(ctx, 10)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim = %v, %v", jobs, err)
	}
	if err := e.d.Redeliver(ctx, jobs[0].id); err != nil {
		t.Fatal(err)
	}
	if more, _ := e.d.claim(ctx, 10); len(more) != 0 {
		t.Fatalf("claimed %d while leased, want 0", len(more))
	}
	e.d.attempt(ctx, jobs[0])
	if dl := e.delivery(t, jobs[0].id); dl.Status != StatusPending || len(dl.Attempts) != 1 {
		t.Fatalf("after the attempt: %+v, want pending again with 1 attempt", dl)
	}
	e.drain(t)
	if hits.get() != 2 {
		t.Fatalf("requests = %d, want 2", hits.get())
	}
}

// TestReconsumedEntryMakesNoSecondDelivery: the same event appended twice
// (a writer re-run) or re-read after a crash maps to one delivery each
// endpoint, filtered by event type.
func TestReconsumedEntryMakesNoSecondDelivery(t *testing.T) {
	_, rdb := newRedis(t)
	srv, hits := statusServer(t, 200)
	deposits := endpointFor("deposits", srv.URL)
	deposits.Events = []string{"deposit.*"}
	statements := endpointFor("statements", srv.URL)
	statements.Events = []string{outbox.StatementPaid}
	e := newEnv(t, rdb, []Endpoint{deposits, statements})
	addEvent(t, rdb, 1, "evt_dup", outbox.DepositCredited, e.clock.Now())
	addEvent(t, rdb, 1, "evt_dup", outbox.DepositCredited, e.clock.Now())
	e.pump(t)
	// Re-read the same entries from the start as a crashed consumer would.
	msgs, err := rdb.XRange(context.Background(), outbox.Stream(1), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.d.store(context.Background(), outbox.Stream(1), msgs); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	if hits.get() != 1 {
		t.Fatalf("requests = %d, want 1", hits.get())
	}
	if ids, _ := listAll(t, e.d, Filter{}); !slices.Equal(ids, []string{"evt_dup:deposits"}) {
		t.Fatalf("deliveries = %v, want only evt_dup:deposits", ids)
	}
	pending, err := rdb.XPending(context.Background(), outbox.Stream(1), "webhooks").Result()
	if err != nil || pending.Count != 0 {
		t.Fatalf("outbox entries left unacknowledged: %+v, %v", pending, err)
	}
}

func TestMalformedEntriesArePoisoned(t *testing.T) {
	_, rdb := newRedis(t)
	srv, hits := statusServer(t, 200)
	e := newEnv(t, rdb, []Endpoint{endpointFor("ep", srv.URL)})
	ctx := context.Background()
	good := map[string]any{"id": "evt_ok", "type": outbox.DepositSeen, "created_at": "2026-01-01T00:00:00Z", "data": `{"a":1}`}
	tests := []struct {
		name   string
		change map[string]any
		want   string
	}{
		{"no id", map[string]any{"id": ""}, `field "id" missing`},
		{"bad time", map[string]any{"created_at": "yesterday"}, "created_at"},
		{"data not JSON", map[string]any{"data": `{"a":`}, "JSON object"},
		{"data an array", map[string]any{"data": `[1]`}, "JSON object"},
		{"id with space", map[string]any{"id": "evt bad"}, "white space"},
	}
	for _, tc := range tests {
		vals := map[string]any{}
		for k, v := range good {
			vals[k] = v
		}
		for k, v := range tc.change {
			vals[k] = v
		}
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: outbox.Stream(0), Values: vals}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	e.pump(t)
	e.drain(t)
	poison, err := rdb.XRange(ctx, e.d.k.poison(), "-", "+").Result()
	if err != nil || len(poison) != len(tests) {
		t.Fatalf("poison stream = %d entries, %v; want %d", len(poison), err, len(tests))
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if msg, _ := poison[i].Values["error"].(string); !strings.Contains(msg, tc.want) {
				t.Fatalf("poison error = %q, want ~%q", msg, tc.want)
			}
		})
	}
	if hits.get() != 0 || counterValue(t, e.d.m.poison) != float64(len(tests)) {
		t.Fatalf("requests %d, poison metric %v", hits.get(), counterValue(t, e.d.m.poison))
	}
	if p, _ := rdb.XPending(ctx, outbox.Stream(0), "webhooks").Result(); p.Count != 0 {
		t.Fatalf("%d malformed entries left pending", p.Count)
	}
}

func TestReceiver(t *testing.T) {
	logs := &syncBuffer{}
	rcv := NewReceiver([]string{testSecret2, testSecret}, slogJSON(logs))
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	body := []byte(`{"id":"evt_r","type":"deposit.seen","created_at":"2026-01-01T00:00:00Z","data":{"x":1}}`)
	post := func(id string, ts time.Time, secret string, body []byte) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(string(body)))
		sig, err := Sign(secret, id, ts, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(HeaderID, id)
		req.Header.Set(HeaderTimestamp, fmt.Sprint(ts.Unix()))
		req.Header.Set(HeaderSignature, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	other := "whsec_" + b64(make([]byte, 32))
	tests := []struct {
		name      string
		id        string
		age       time.Duration
		secret    string
		body      []byte
		want      int
		wantCount int // receipts of evt_r afterwards
	}{
		{"valid", "evt_r", 0, testSecret, body, 204, 1},
		{"duplicate counted", "evt_r", 0, testSecret, body, 204, 2},
		{"unknown secret", "evt_r", 0, other, body, 401, 2},
		{"stale", "evt_r", time.Hour, testSecret, body, 401, 2},
		{"header id differs from body", "evt_s", 0, testSecret, body, 400, 2},
		{"not JSON", "evt_r", 0, testSecret, []byte("hello"), 400, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := post(tc.id, time.Now().Add(-tc.age), tc.secret, tc.body); got != tc.want {
				t.Fatalf("status = %d, want %d", got, tc.want)
			}
			if got := rcv.Count("evt_r"); got != tc.wantCount {
				t.Fatalf("count = %d, want %d", got, tc.wantCount)
			}
		})
	}
	if rcv.Count("evt_r") != 2 || rcv.Unique() != 1 || rcv.Total() != 2 || rcv.Counts()["evt_r"] != 2 {
		t.Fatalf("counts = %v", rcv.Counts())
	}
	if !strings.Contains(logs.String(), `"msg":"webhook received","id":"evt_r","type":"deposit.seen"`) {
		t.Fatalf("event not printed:\n%s", logs)
	}
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET = %d, want 405", resp.StatusCode)
	}
}
