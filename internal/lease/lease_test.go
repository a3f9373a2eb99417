package lease

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/internal/redistest"
)

// term is one run of work: who, which token, when it began and ended.
type term struct {
	holder     string
	token      int64
	start, end time.Time
}

type journal struct {
	mu    sync.Mutex
	terms []term
	began chan term
}

// work records a term and runs until its context ends.
func (j *journal) work(holder string) func(context.Context, int64) error {
	return func(ctx context.Context, tok int64) error {
		t := term{holder: holder, token: tok, start: time.Now()}
		j.began <- t
		<-ctx.Done()
		t.end = time.Now()
		j.mu.Lock()
		j.terms = append(j.terms, t)
		j.mu.Unlock()
		return nil
	}
}

func (j *journal) next(t *testing.T) term {
	t.Helper()
	select {
	case tm := <-j.began:
		return tm
	case <-time.After(30 * time.Second):
		t.Fatal("no term began within 30s")
	}
	return term{}
}

func (j *journal) ended(holder string, tok int64) (term, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, tm := range j.terms {
		if tm.holder == holder && tm.token == tok {
			return tm, true
		}
	}
	return term{}, false
}

func newLease(t *testing.T, rdb redis.UniversalClient, holder string, ttl time.Duration, m *Metrics) *Lease {
	t.Helper()
	l, err := New(rdb, Config{Name: "ethereum", Holder: holder, TTL: ttl, Fences: []string{"{s00}:fence:ethereum", "{s01}:fence:ethereum"},
		Metrics: m, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestLeaseTermsNeverOverlap: three processes contend; one holds at a
// time; a clean stop hands over (not a takeover); a holder cut off from
// Redis ends its term before its lease expires, and another takes over
// after it, with a higher token, within two TTLs.
func TestLeaseTermsNeverOverlap(t *testing.T) {
	srv := redistest.New(t)
	rdb := srv.Client(t)
	const ttl = time.Second
	j := &journal{began: make(chan term, 8)}
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	ctxs := map[string]context.CancelFunc{}
	clients := map[string]*redis.Client{}
	for _, h := range []string{"p1", "p2", "p3"} {
		clients[h] = redis.NewClient(&redis.Options{Addr: srv.Addr()})
		ctx, cancel := context.WithCancel(context.Background())
		ctxs[h] = cancel
		defer cancel()
		go newLease(t, clients[h], h, ttl, m).Run(ctx, j.work(h))
	}
	first := j.next(t)
	select {
	case tm := <-j.began:
		t.Fatalf("%s began a term while %s holds the lease", tm.holder, first.holder)
	case <-time.After(2 * ttl):
	}
	if id, tok, ok, err := Holder(context.Background(), rdb, "ethereum"); err != nil || !ok || id != first.holder || tok != first.token {
		t.Fatalf("Holder = %s %d %v %v, want %s %d", id, tok, ok, err, first.holder, first.token)
	}

	ctxs[first.holder]() // clean stop: released
	second := j.next(t)
	if second.token <= first.token || second.holder == first.holder {
		t.Fatalf("after release: %+v follows %+v", second, first)
	}
	if n := testutil.ToFloat64(m.takeovers.WithLabelValues("ethereum")); n != 0 {
		t.Fatalf("takeovers %v after a release, want 0", n)
	}

	clients[second.holder].Close() // cut off: cannot renew, cannot release
	cut := time.Now()
	third := j.next(t)
	took := time.Since(cut)
	ended, ok := j.ended(second.holder, second.token)
	if !ok || !ended.end.Before(third.start) {
		t.Fatalf("cut-off term %+v did not end before the takeover at %v", ended, third.start)
	}
	if third.token <= second.token {
		t.Fatalf("takeover token %d not above %d", third.token, second.token)
	}
	// By construction the takeover comes within 4/3 TTL; the slack is for
	// a loaded machine's scheduling, not part of the bound.
	if took > 2*ttl+5*time.Second {
		t.Errorf("takeover %v after the cut, want within two TTLs (%v)", took, 2*ttl)
	}
	t.Logf("takeover %v after the holder was cut off (ttl %v)", took.Round(time.Millisecond), ttl)
	if n := testutil.ToFloat64(m.takeovers.WithLabelValues("ethereum")); n != 1 {
		t.Fatalf("takeovers %v, want 1", n)
	}
	for _, k := range []string{"{s00}:fence:ethereum", "{s01}:fence:ethereum"} {
		if v, err := rdb.Get(context.Background(), k).Int64(); err != nil || v != third.token {
			t.Fatalf("fence %s = %d %v, want %d", k, v, err, third.token)
		}
	}
}
