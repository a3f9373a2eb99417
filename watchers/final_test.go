package watchers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/chainstest"
)

// batchRecorder is the test recorder as a BatchCrediter; failNext makes
// the next batch fail its last deposit (after crediting the others).
type batchRecorder struct {
	*recorder
	mu       sync.Mutex
	batches  int
	singles  int
	failNext bool
}

func (b *batchRecorder) Credit(ctx context.Context, t chains.Transfer, account string) error {
	b.mu.Lock()
	b.singles++
	b.mu.Unlock()
	return b.recorder.Credit(ctx, t, account)
}

func (b *batchRecorder) CreditBatch(ctx context.Context, ts []chains.Transfer, accounts []string) []error {
	b.mu.Lock()
	b.batches++
	fail := b.failNext
	b.failNext = false
	b.mu.Unlock()
	errs := make([]error, len(ts))
	for i := range ts {
		if fail && i == len(ts)-1 {
			errs[i] = errors.New("ledger unavailable")
			continue
		}
		errs[i] = b.recorder.Credit(ctx, ts[i], accounts[i])
	}
	return errs
}

// TestWatcherCreditsInBatches: a BatchCrediter gets one call per range and
// no single credits; a batch with a failed deposit leaves the cursor before
// its range, and the retry credits everything exactly once.
func TestWatcherCreditsInBatches(t *testing.T) {
	r := newRig(t, 3)
	br := &batchRecorder{recorder: r.rec}
	r.reg = prometheus.NewRegistry()
	m, err := NewMetrics(r.reg)
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(r.chain, r.index, br, r.rdb, r.cfg, Options{Metrics: m, Clock: r.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for range 12 {
		r.chain.Mine(usdt("alice", 500), usdt("bob", 700))
	}
	br.failNext = true
	if err := w.Poll(context.Background()); err == nil {
		t.Fatal("a failed batch credit did not fail the poll")
	}
	if n, _, err := loadCursor(context.Background(), r.rdb, "ethereum", "cursor_final"); err != nil || n != 0 {
		t.Fatalf("cursor_final %d (%v) after the first range failed, want 0", n, err)
	}
	poll(t, w)
	checkExactlyOnce(t, r)
	// Final blocks 1..9 in ranges of 4: [1, 4] fails after 7 of its 8
	// credits, then [1, 4], [5, 8] and [9, 9] (2 deposits) succeed.
	if br.batches != 4 || br.singles != 0 || r.rec.calls != 7+8+8+2 {
		t.Fatalf("%d batches, %d single credits, %d credit calls; want 4, 0 and 25", br.batches, br.singles, r.rec.calls)
	}
}

// TestWatcherFinalReadFailureStopsAtRange: the final tier reads the next
// range while crediting the current one; when that read fails, the cursor
// stays after the last credited range and the next poll resumes there.
func TestWatcherFinalReadFailureStopsAtRange(t *testing.T) {
	r := newRig(t, 3)
	w := r.watcher(t)
	for range 15 {
		r.chain.Mine(usdt("alice", 500))
	}
	failed := false
	r.chain.SetHook(func(method string, from, _ uint64) error {
		if method == chainstest.MethodTransfers && from == 9 && !failed {
			failed = true
			return errors.New("node down")
		}
		return nil
	})
	if err := w.Poll(context.Background()); err == nil {
		t.Fatal("a failed read did not fail the poll")
	}
	if n, _, err := loadCursor(context.Background(), r.rdb, "ethereum", "cursor_final"); err != nil || n != 8 {
		t.Fatalf("cursor_final %d (%v), want 8: the ranges before the failed read", n, err)
	}
	poll(t, w)
	checkExactlyOnce(t, r)
}
