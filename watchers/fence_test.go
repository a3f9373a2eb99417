package watchers

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/internal/lease"
	"github.com/depositd/depositd/internal/ledgercredit"
	"github.com/depositd/depositd/settlement/ledger"
)

// startTerm runs a lease over rdb and returns the token of its first term;
// the term's work blocks until hold is closed, ignoring its context, like
// a process frozen mid-scan.
func startTerm(t *testing.T, ctx context.Context, rdb redis.UniversalClient, holder string, ttl time.Duration, hold <-chan struct{}) int64 {
	t.Helper()
	m, err := lease.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	l, err := lease.New(rdb, lease.Config{Name: "ethereum", Holder: holder, TTL: ttl, Fences: FenceKeys("ethereum"),
		Metrics: m, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	tokens := make(chan int64, 1)
	go l.Run(ctx, func(_ context.Context, tok int64) error {
		select {
		case tokens <- tok:
		default:
		}
		<-hold
		return nil
	})
	select {
	case tok := <-tokens:
		return tok
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no lease term within 30s", holder)
	}
	return 0
}

// TestStaleHolderWriteRefused: holder A scans under its term, then stalls
// past its TTL (its Redis connection gone, its scan frozen); B takes the
// lease and scans; when A resumes, every write it tries is refused by the
// fence, Run stops with ErrStaleFence, and B's state is untouched.
func TestStaleHolderWriteRefused(t *testing.T) {
	r := newRig(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hold := make(chan struct{})
	defer close(hold)
	const ttl = time.Second

	leaseA := r.redis.Connect(t)
	tA := startTerm(t, ctx, leaseA, "A", ttl, hold)
	wA := r.watcher(t)
	regA := r.reg
	wA.token = tA
	r.chain.Mine(usdt("alice", 500))
	for range 3 {
		r.chain.Mine()
	}
	poll(t, wA)
	finalA, _, _ := loadCursor(ctx, r.rdb, "ethereum", "cursor_final")

	leaseA.Close() // A stalls: no renewal reaches Redis any more
	tB := startTerm(t, ctx, r.rdb, "B", ttl, hold)
	if tB <= tA {
		t.Fatalf("token B %d not above token A %d", tB, tA)
	}
	wB := r.watcher(t)
	wB.token = tB
	r.chain.Mine(usdt("bob", 700))
	for range 3 {
		r.chain.Mine()
	}
	poll(t, wB)
	finalB, _, _ := loadCursor(ctx, r.rdb, "ethereum", "cursor_final")
	if finalB <= finalA {
		t.Fatalf("B did not advance cursor_final: %d → %d", finalA, finalB)
	}
	checkExactlyOnce(t, r)

	// A resumes with its old token: the tip, final and status writes are
	// all refused; nothing it would write lands.
	newest := idOf(0, r.chain.Mine(usdt("alice", 900)).Number, 0)
	if err := wA.Poll(ctx); !errors.Is(err, ErrStaleFence) {
		t.Fatalf("stale poll: %v, want ErrStaleFence", err)
	}
	for _, which := range []string{"cursor_final", "cursor_tip"} {
		if err := storeCursor(ctx, r.rdb, tA, "ethereum", which, 1); !errors.Is(err, ErrStaleFence) {
			t.Fatalf("stale %s write: %v", which, err)
		}
	}
	if got, _, _ := loadCursor(ctx, r.rdb, "ethereum", "cursor_final"); got != finalB {
		t.Fatalf("cursor_final %d after the stale writes, want B's %d", got, finalB)
	}
	if _, err := wA.Deposits().Get(ctx, newest); !errors.Is(err, ErrNoDeposit) {
		t.Fatalf("stale holder recorded %s: %v", newest, err)
	}
	runCtx, stop := context.WithTimeout(ctx, 30*time.Second)
	defer stop()
	if err := wA.Run(runCtx); !errors.Is(err, ErrStaleFence) {
		t.Fatalf("stale Run returned %v, want ErrStaleFence", err)
	}
	if n := counter(t, regA, "depositd_fence_rejections_total", map[string]string{"chain": "ethereum"}); n != 1 {
		t.Fatalf("fence rejections %v, want 1", n)
	}
	// B, still the holder, goes on and records the new deposit.
	poll(t, wB)
	if d := status(t, wB, newest); d.Status != StatusSeen {
		t.Fatalf("B's view of %s: %s", newest, d.Status)
	}
}

// TestStaleHolderCreditCountsOnce: the ledger credit is not fenced (see
// README, scaling out). A holder that stalled between crediting a final
// deposit and marking it — after its successor credited the same deposit —
// credits the real ledger a second time in vain: the entry is idempotent on
// the deposit id, the money is there once, and the record write after it
// is refused.
func TestStaleHolderCreditCountsOnce(t *testing.T) {
	r := newRig(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := ledger.New(r.rdb, time.Now)
	for _, a := range []string{"acct-alice", "acct-bob"} {
		if err := l.CreateAccount(ctx, ledger.Account{ID: ledger.AccountID(a), Name: a}); err != nil {
			t.Fatal(err)
		}
	}
	cr := &ledgerCrediter{l: &ledgercredit.Crediter{Ledger: l, Rate: ledgercredit.OneUSD}, rec: r.rec}
	hold := make(chan struct{})
	defer close(hold)
	const ttl = time.Second

	leaseA := r.redis.Connect(t)
	wA := r.watcher(t)
	wA.crediter = cr
	wA.token = startTerm(t, ctx, leaseA, "A", ttl, hold)
	id := idOf(0, r.chain.Mine(usdt("alice", 2_500_000)).Number, 0)
	for range 3 {
		r.chain.Mine()
	}
	heads, err := r.chain.Heads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := wA.loadCursors(ctx, heads); err != nil { // A read its cursors, then stalled
		t.Fatal(err)
	}
	leaseA.Close()

	wB := r.watcher(t)
	wB.crediter = cr
	wB.token = startTerm(t, ctx, r.rdb, "B", ttl, hold)
	poll(t, wB)
	if d := status(t, wB, id); d.Status != StatusCredited {
		t.Fatalf("B left %s %s", id, d.Status)
	}

	// A wakes up in its final tier.
	if err := wA.finalTier(ctx, wA.finalMarker(heads)); !errors.Is(err, ErrStaleFence) {
		t.Fatalf("stale final tier: %v, want ErrStaleFence", err)
	}
	if n, _ := r.rdb.Get(ctx, recCallsKey).Int(); n != 2 {
		t.Fatalf("%d credit calls, want B's and A's", n)
	}
	ids, err := l.DepositIDs(ctx)
	if err != nil || len(ids) != 1 || ids[0] != id {
		t.Fatalf("ledger deposits %v %v, want [%s] once", ids, err, id)
	}
	acct, err := l.Account(ctx, "acct-alice")
	if err != nil || acct.Cash != 2_50000000 {
		t.Fatalf("alice: %+v %v, want 2.50000000 USD once", acct, err)
	}
	if breaches, err := l.Verify(ctx); err != nil || len(breaches) > 0 {
		t.Fatalf("ledger verify: %v %v", breaches, err)
	}
	checkExactlyOnce(t, r)
}
