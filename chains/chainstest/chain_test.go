package chainstest

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"testing"

	"github.com/depositd/depositd/chains"
)

// driver drives a Chain for the conformance suite; skip > 0 makes every
// block skip that many numbers, like Solana slots.
type driver struct {
	c    *Chain
	skip uint64

	mu      sync.Mutex
	pending []chains.Transfer
	n       int
}

func (d *driver) Token() string { return "USDT" }

func (d *driver) Recipient(i int) string { a, _ := Addr(fmt.Sprintf("r%d", i)); return a }

func (d *driver) Transfer(_ context.Context, to string, raw *big.Int) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n++
	tx := fmt.Sprintf("tx%d", d.n)
	d.pending = append(d.pending, chains.Transfer{Token: "USDT", TxID: tx, To: to, Amount: raw, Decimals: 6})
	return tx, nil
}

func (d *driver) Mine(context.Context) error {
	d.mu.Lock()
	ts := d.pending
	d.pending = nil
	d.mu.Unlock()
	d.c.Skip(d.skip)
	d.c.Include(ts...)
	return nil
}

func (d *driver) Fork(ctx context.Context, depth int) error {
	d.c.Fork(d.c.Latest() - uint64(depth))
	for range depth + 1 {
		if err := d.Mine(ctx); err != nil {
			return err
		}
	}
	return nil
}

func TestConformance(t *testing.T) {
	for _, skip := range []uint64{0, 2} {
		t.Run(fmt.Sprintf("skip=%d", skip), func(t *testing.T) {
			RunConformance(t, func(t *testing.T) (chains.Source, Driver) {
				c := New("test", 3)
				return c, &driver{c: c, skip: skip}
			})
		})
	}
}

func TestChain(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		build func(c *Chain)
		check func(t *testing.T, c *Chain)
	}{
		{
			name: "fork drops the branch and returns its transfers",
			build: func(c *Chain) {
				c.Mine(Payment{Token: "USDT", To: "a", Amount: 5})
				c.Mine(Payment{Token: "USDT", To: "b", Amount: 6})
			},
			check: func(t *testing.T, c *Chain) {
				old, _ := c.Headers(ctx, 2, 2)
				dropped := c.Fork(1)
				if len(dropped) != 1 || dropped[0].Amount.Int64() != 6 {
					t.Fatalf("dropped %v", dropped)
				}
				h := c.Mine()
				if h.Number != 2 || h.Hash == old[0].Hash {
					t.Fatalf("new block 2 = %+v, old %+v", h, old[0])
				}
			},
		},
		{
			name:  "final trails latest and can be pinned",
			build: func(c *Chain) { c.Mine(); c.Mine(); c.Mine(); c.Mine() },
			check: func(t *testing.T, c *Chain) {
				h, _ := c.Heads(ctx)
				if h.Latest != 4 || h.Final != 1 {
					t.Fatalf("heads %+v, want latest 4 final 1", h)
				}
				c.SetFinal(3)
				if h, _ := c.Heads(ctx); h.Final != 3 {
					t.Fatalf("pinned heads %+v", h)
				}
			},
		},
		{
			name:  "hook errors are returned and counted",
			build: func(c *Chain) { c.Mine() },
			check: func(t *testing.T, c *Chain) {
				boom := errors.New("boom")
				c.SetHook(func(m string, _, _ uint64) error {
					if m == MethodTransfers {
						return boom
					}
					return nil
				})
				if _, err := c.Transfers(ctx, 0, 1); !errors.Is(err, boom) {
					t.Fatalf("Transfers err %v", err)
				}
				if _, err := c.Headers(ctx, 0, 1); err != nil {
					t.Fatalf("Headers err %v", err)
				}
				if c.Calls(MethodTransfers) != 1 {
					t.Fatalf("calls %d", c.Calls(MethodTransfers))
				}
			},
		},
		{
			name:  "one transaction with several transfers has distinct ids",
			build: func(c *Chain) { c.MineTx("0xabc", Payment{To: "a", Amount: 1}, Payment{To: "b", Amount: 2}) },
			check: func(t *testing.T, c *Chain) {
				ts, _ := c.Transfers(ctx, 1, 1)
				if len(ts) != 2 || ts[0].ID() == ts[1].ID() {
					t.Fatalf("transfers %v", ts)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := New("test", 3)
			tc.build(c)
			tc.check(t, c)
		})
	}
}
