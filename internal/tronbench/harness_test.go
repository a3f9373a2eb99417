package tronbench

import (
	"context"
	"testing"
	"time"

	"github.com/depositd/depositd/internal/evmbench"
	"github.com/depositd/depositd/internal/redistest"
)

// tinyBlocks holds 3 transfers to watched recipients (transfers 0, 100, 200).
const tinyBlocks = 250

func buildTB(tb testing.TB, blocks int) *Chain {
	tb.Helper()
	c, err := Build(context.Background(), blocks)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.Node.Close(); err != nil {
			tb.Error(err)
		}
	})
	return c
}

// TestTronBackfillTiny runs the benchmark's harness over a few hundred
// blocks: the floor reads every block, the watcher credits exactly the
// transfers to watched recipients to their accounts and reaches the solid
// height, and a wrong expectation is reported.
func TestTronBackfillTiny(t *testing.T) {
	ctx := context.Background()
	c := buildTB(t, tinyBlocks)
	if got := c.Blocks(); got != tinyBlocks {
		t.Fatalf("built %d blocks, want %d", got, tinyBlocks)
	}
	if len(c.Deposits) != 3 {
		t.Fatalf("%d deposits built, want 3", len(c.Deposits))
	}
	watched := NewIndex(5000, true)
	if watched.Len() != 5000 {
		t.Fatalf("index of %d addresses, want 5000", watched.Len())
	}

	floors := []struct {
		name  string
		floor func(context.Context, *Chain) (time.Duration, error)
		calls int
	}{
		{"floor reads each block once", Floor, tinyBlocks},
		{"list floor adds one block list per range", ListFloor, tinyBlocks + (tinyBlocks+Range-1)/Range},
		// the list floor's calls plus the client's token check (2 constant
		// calls) and Heads (the full and the solidity head)
		{"adapter scan finds one transfer per block", Scan, tinyBlocks + (tinyBlocks+Range-1)/Range + 4},
	}
	for _, f := range floors {
		t.Run(f.name, func(t *testing.T) {
			before := calls(t, c)
			if _, err := f.floor(ctx, c); err != nil {
				t.Fatal(err)
			}
			if got := calls(t, c) - before; got != f.calls {
				t.Fatalf("%d node calls, want %d", got, f.calls)
			}
		})
	}
	t.Run("watcher credits the watched transfers once", func(t *testing.T) {
		rs := redistest.New(t)
		rdb := rs.Client(t)
		cr := &evmbench.NXRecorder{RDB: rdb}
		if _, err := Backfill(ctx, c, watched, cr, cr.Applied, len(c.Deposits), rdb); err != nil {
			t.Fatal(err)
		}
		keys, err := rdb.Keys(ctx, "benchcredit:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != len(c.Deposits) {
			t.Fatalf("credited %v, want %d deposits", keys, len(c.Deposits))
		}
		for _, d := range c.Deposits {
			acct, err := rdb.Get(ctx, "benchcredit:tron:"+d.TxID+":0").Result()
			if err != nil {
				t.Fatalf("deposit %s in block %d: %v", d.TxID, d.Block, err)
			}
			if acct != d.Account {
				t.Errorf("deposit %s credited to %q, want %q", d.TxID, acct, d.Account)
			}
		}
		// A second backfill resumes at the stored cursor: nothing new.
		if _, err := Backfill(ctx, c, watched, cr, cr.Applied, 0, rdb); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("unwatched index credits nothing", func(t *testing.T) {
		rs := redistest.New(t)
		cr := &evmbench.NXRecorder{RDB: rs.Client(t)}
		if _, err := Backfill(ctx, c, NewIndex(5000, false), cr, cr.Applied, 0, rs.Client(t)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("wrong credit count is an error", func(t *testing.T) {
		rs := redistest.New(t)
		cr := &evmbench.NXRecorder{RDB: rs.Client(t)}
		if _, err := Backfill(ctx, c, watched, cr, cr.Applied, len(c.Deposits)+1, rs.Client(t)); err == nil {
			t.Fatal("backfill accepted a wrong credit count")
		}
	})
}

func calls(t *testing.T, c *Chain) int {
	t.Helper()
	n, err := c.Calls()
	if err != nil {
		t.Fatal(err)
	}
	return n
}
