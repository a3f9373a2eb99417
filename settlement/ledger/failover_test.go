package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/money"
)

// replWait is the WAIT timeout of the tests: long enough for a loaded
// machine, short enough that a stalled replica shows quickly.
const replWait = 2 * time.Second

// TestWaitReplicasRefusesUnreplicatedAck stalls the replica (SIGSTOP: its
// link stays up, it acknowledges nothing) and requires that no credit is
// acknowledged meanwhile, a replay on a fresh connection included, and that
// the same credits are acknowledged once the replica runs again.
func TestWaitReplicasRefusesUnreplicatedAck(t *testing.T) {
	d := redistest.NewSentinel(t)
	c := newClock()
	ctx := context.Background()
	l := New(d.Client(t), c.Now).WithWaitReplicas(1, 300*time.Millisecond)
	// other's connection writes before the credit: its own last write is
	// replicated, so WAIT on it alone would not wait for the credit.
	ordb := d.Client(t)
	other := New(ordb, c.Now).WithWaitReplicas(1, 300*time.Millisecond)
	// Set-up writes wait as long as replication may take on a busy machine;
	// only the acks expected to fail use the short timeout.
	if err := other.WithWaitReplicas(1, replWait).CreateAccount(ctx, Account{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	if n, err := ordb.Do(ctx, "WAIT", 1, replWait.Milliseconds()).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT 1 after the account index write: %d, %v", n, err)
	}
	dep := usdt("acme", "0x01", 0, 10_000000)
	if err := d.Replica().Pause(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Replica().Resume() })
	if _, err := l.Credit(ctx, dep); err == nil || !strings.Contains(err.Error(), "0 of 1 replicas") {
		t.Fatalf("credit with the replica stalled: err %v; want 0 of 1 replicas confirmed", err)
	}
	// The step is on the master; the replay on another connection must
	// still wait for the replica.
	if _, err := other.Credit(ctx, dep); err == nil || !strings.Contains(err.Error(), "0 of 1 replicas") {
		t.Fatalf("replay with the replica stalled: err %v; want 0 of 1 replicas confirmed", err)
	}
	if err := d.Replica().Resume(); err != nil {
		t.Fatal(err)
	}
	cr, err := other.WithWaitReplicas(1, replWait).Credit(ctx, dep)
	if err != nil {
		t.Fatalf("credit after the replica resumed: %v", err)
	}
	if cr.Applied {
		t.Fatal("credit applied twice: the first attempt's step was on the master already")
	}
}

// TestSentinelFailoverKeepsAcknowledgedCredits streams credits through a
// WithWaitReplicas ledger, kills the master with SIGKILL mid-stream and
// lets the sentinels promote the replica, then starts the killed server
// again as the new replica (with one replica, WAIT 1 refuses every ack until
// then); the stream retries what failed and continues. Every credit the stream saw acknowledged must be on the
// new master, once, and the ledger must verify clean.
func TestSentinelFailoverKeepsAcknowledgedCredits(t *testing.T) {
	d := redistest.NewSentinel(t)
	c := newClock()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l := New(d.Client(t), c.Now).WithWaitReplicas(1, replWait)
	if err := l.CreateAccount(ctx, Account{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	const before, after = 40, 40
	var (
		mu    sync.Mutex
		acked []Deposit
	)
	ackedN := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	failedOver := make(chan struct{})
	var afterFailover int
	streamErr := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			dep := usdt("acme", fmt.Sprintf("0x%04x", i), 0, int64(1_000000+i))
			if err := creditRetrying(ctx, l, dep); err != nil {
				streamErr <- err
				return
			}
			mu.Lock()
			acked = append(acked, dep)
			mu.Unlock()
			select {
			case <-failedOver:
				if afterFailover++; afterFailover == after {
					streamErr <- nil
					return
				}
			default:
			}
		}
	}()
	if err := waitFor(ctx, func() bool { return ackedN() >= before }); err != nil {
		t.Fatalf("stream before failover: %v", err)
	}
	took, err := d.Failover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	close(failedOver)
	t.Logf("failover (SIGKILL to the replica promoted, seen by every sentinel): %v; %d credits acknowledged before it", took, ackedN())
	if err := d.Rejoin(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-streamErr; err != nil {
		t.Fatalf("stream: %v", err)
	}

	check := New(d.Client(t), c.Now)
	ids, err := check.DepositIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]int{}
	for _, id := range ids {
		have[id]++
	}
	var want money.Units
	for _, dep := range acked {
		if have[dep.ID] != 1 {
			t.Errorf("acknowledged deposit %s is on the ledger %d times; want once", dep.ID, have[dep.ID])
		}
		want += money.Units(dep.Raw.Int64() * 100)
	}
	if len(ids) != len(acked) {
		t.Errorf("ledger holds %d deposits; %d were acknowledged", len(ids), len(acked))
	}
	a, err := check.Account(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if a.Cash != want {
		t.Errorf("cash %s; want the acknowledged sum %s", a.Cash, want)
	}
	bs, err := check.Verify(ctx)
	if err != nil || len(bs) != 0 {
		t.Fatalf("verify after failover: %v, breaches %+v", err, bs)
	}
}

// creditRetrying credits d until the ledger acknowledges it, as the
// watcher does: a failed or unconfirmed step is retried with the same
// deposit id, which is idempotent.
func creditRetrying(ctx context.Context, l *Ledger, d Deposit) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := l.Credit(ctx, d)
		if err == nil {
			return nil
		}
		if errors.Is(err, ErrFingerprint) || errors.Is(err, ErrNotFound) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("deposit %s: %w (last error: %v)", d.ID, ctx.Err(), err)
		case <-tick.C:
		}
	}
}

func waitFor(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}
