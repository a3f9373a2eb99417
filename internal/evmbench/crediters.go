package evmbench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/settlement/ledger"
	"github.com/depositd/depositd/watchers"
)

// OpenAccounts creates the ledger accounts AccountOf(0..n-1).
func OpenAccounts(ctx context.Context, l *ledger.Ledger, n int) error {
	for i := range n {
		if err := l.CreateAccount(ctx, ledger.Account{ID: ledger.AccountID(AccountOf(i)), Name: "bench"}); err != nil {
			return fmt.Errorf("open account %d: %w", i, err)
		}
	}
	return nil
}

// NXRecorder is the cheapest exactly-once crediter: one SET NX per deposit
// id. It separates the watcher's own cost from the ledger's.
type NXRecorder struct {
	RDB     redis.UniversalClient
	applied atomic.Int64
}

var (
	_ watchers.Crediter      = (*NXRecorder)(nil)
	_ watchers.BatchCrediter = (*Timed)(nil)
)

// Credit implements watchers.Crediter; idempotent on t.ID().
func (r *NXRecorder) Credit(ctx context.Context, t chains.Transfer, account string) error {
	ok, err := r.RDB.SetNX(ctx, "benchcredit:"+t.ID(), account, 0).Result()
	if err != nil {
		return fmt.Errorf("credit %s: %w", t.ID(), err)
	}
	if ok {
		r.applied.Add(1)
	}
	return nil
}

// Applied is the number of first-time credits so far.
func (r *NXRecorder) Applied() int64 { return r.applied.Load() }

// Timed wraps a Crediter and records when each deposit id was first
// credited successfully, by block.
type Timed struct {
	Next watchers.Crediter
	Now  func() time.Time

	mu sync.Mutex
	at map[string]Credited
}

// Credited is one deposit's credit time.
type Credited struct {
	Block uint64
	At    time.Time
}

// Credit implements watchers.Crediter.
func (c *Timed) Credit(ctx context.Context, t chains.Transfer, account string) error {
	if err := c.Next.Credit(ctx, t, account); err != nil {
		return err
	}
	now := c.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.record(t, nil, now)
	return nil
}

// CreditBatch implements watchers.BatchCrediter: through Next's batch when
// it has one, else one Credit per deposit.
func (c *Timed) CreditBatch(ctx context.Context, ts []chains.Transfer, accounts []string) []error {
	errs := make([]error, len(ts))
	if bc, ok := c.Next.(watchers.BatchCrediter); ok {
		errs = bc.CreditBatch(ctx, ts, accounts)
	} else {
		for i := range ts {
			errs[i] = c.Next.Credit(ctx, ts[i], accounts[i])
		}
	}
	now := c.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, err := range errs {
		c.record(ts[i], err, now)
	}
	return errs
}

func (c *Timed) record(t chains.Transfer, err error, now time.Time) {
	if err != nil {
		return
	}
	if c.at == nil {
		c.at = map[string]Credited{}
	}
	if _, seen := c.at[t.ID()]; !seen {
		c.at[t.ID()] = Credited{Block: t.Block, At: now}
	}
}

// Credits returns a copy of the recorded credits by deposit id.
func (c *Timed) Credits() map[string]Credited {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]Credited, len(c.at))
	for k, v := range c.at {
		out[k] = v
	}
	return out
}
