package chainstest

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/depositd/depositd/chains"
)

// Driver lets the conformance suite produce activity on an adapter's local
// node. Transfers submitted with Transfer are included by the next Mine.
type Driver interface {
	// Token is a configured token symbol the driver can send.
	Token() string
	// Recipient returns the canonical text form of the i-th distinct test
	// address (as the adapter reports it in Transfer.To).
	Recipient(i int) string
	// Transfer submits a transfer of raw base units of Token to a Recipient
	// and returns its transaction id as the adapter reports it in TxID.
	Transfer(ctx context.Context, to string, raw *big.Int) (txID string, err error)
	// Mine produces one block including every submitted transfer.
	Mine(ctx context.Context) error
	// Fork replaces the newest depth blocks with a longer branch of empty
	// blocks, so the heights keep existing with other hashes.
	Fork(ctx context.Context, depth int) error
}

// RunConformance runs the suite every chains.Source must pass. newSource
// returns a fresh source and its driver for each subtest.
func RunConformance(t *testing.T, newSource func(t *testing.T) (chains.Source, Driver)) {
	t.Run("heads are ordered and advance", func(t *testing.T) {
		src, d := newSource(t)
		ctx := testCtx(t)
		h1 := heads(t, ctx, src)
		mustDo(t, d.Mine(ctx))
		h2 := heads(t, ctx, src)
		if h2.Latest <= h1.Latest {
			t.Fatalf("latest %d after Mine, was %d", h2.Latest, h1.Latest)
		}
	})
	t.Run("headers are ascending and linked by parent", func(t *testing.T) {
		src, d := newSource(t)
		ctx := testCtx(t)
		for range 3 {
			mustDo(t, d.Mine(ctx))
		}
		latest := heads(t, ctx, src).Latest
		hs := headers(t, ctx, src, latest-2, latest)
		if len(hs) == 0 || hs[len(hs)-1].Number != latest {
			t.Fatalf("headers [%d, %d] = %v: want them to end at %d", latest-2, latest, hs, latest)
		}
		checkLinked(t, hs)
	})
	t.Run("above head is ErrNotFound, never empty", func(t *testing.T) {
		src, _ := newSource(t)
		ctx := testCtx(t)
		latest := heads(t, ctx, src).Latest
		if hs, err := src.Headers(ctx, latest+5, latest+6); !errors.Is(err, chains.ErrNotFound) {
			t.Fatalf("Headers above head = %v, %v; want ErrNotFound", hs, err)
		}
		if ts, err := src.Transfers(ctx, latest, latest+6); err == nil {
			t.Fatalf("Transfers beyond head = %v, nil error; want an error", ts)
		}
	})
	t.Run("transfers carry exact amounts, ids and block hashes", func(t *testing.T) {
		src, d := newSource(t)
		ctx := testCtx(t)
		amounts := []*big.Int{big.NewInt(1234567), big.NewInt(7654321)}
		txs := make([]string, len(amounts))
		for i, a := range amounts {
			tx, err := d.Transfer(ctx, d.Recipient(i), a)
			mustDo(t, err)
			txs[i] = tx
		}
		mustDo(t, d.Mine(ctx))
		latest := heads(t, ctx, src).Latest
		hs := headers(t, ctx, src, latest, latest)
		got, err := src.Transfers(ctx, latest, latest)
		mustDo(t, err)
		ids := map[string]bool{}
		for i, a := range amounts {
			var found *chains.Transfer
			for j := range got {
				if strings.EqualFold(got[j].TxID, txs[i]) {
					found = &got[j]
				}
			}
			if found == nil {
				t.Fatalf("transfer %d (tx %s) missing from %v", i, txs[i], got)
			}
			if found.Amount.Cmp(a) != 0 || !strings.EqualFold(found.To, d.Recipient(i)) || found.Token != d.Token() {
				t.Errorf("transfer %d = %s %s to %s; want %s %s to %s", i, found.Amount, found.Token, found.To, a, d.Token(), d.Recipient(i))
			}
			if found.Chain != src.Name() || found.Block != latest || found.BlockHash != hs[len(hs)-1].Hash {
				t.Errorf("transfer %d in %s block %d %s; want %s block %d %s", i, found.Chain, found.Block, found.BlockHash, src.Name(), latest, hs[len(hs)-1].Hash)
			}
			if ids[found.ID()] {
				t.Errorf("duplicate id %s", found.ID())
			}
			ids[found.ID()] = true
		}
	})
	t.Run("fork changes hashes at the same heights", func(t *testing.T) {
		src, d := newSource(t)
		ctx := testCtx(t)
		for range 4 {
			mustDo(t, d.Mine(ctx))
		}
		latest := heads(t, ctx, src).Latest
		before := headers(t, ctx, src, latest-1, latest)
		mustDo(t, d.Fork(ctx, 2))
		after := headers(t, ctx, src, latest-1, latest)
		if len(after) == 0 || len(before) == 0 || after[len(after)-1].Hash == before[len(before)-1].Hash {
			t.Fatalf("after Fork(2) header %d unchanged: %v vs %v", latest, before, after)
		}
		now := heads(t, ctx, src).Latest
		checkLinked(t, headers(t, ctx, src, latest-3, now))
		ts, err := src.Transfers(ctx, latest-3, now)
		mustDo(t, err)
		canon := map[uint64]string{}
		for _, h := range headers(t, ctx, src, latest-3, now) {
			canon[h.Number] = h.Hash
		}
		for _, tr := range ts {
			if canon[tr.Block] != tr.BlockHash {
				t.Errorf("transfer %s tagged %s, canonical %d is %s", tr.ID(), tr.BlockHash, tr.Block, canon[tr.Block])
			}
		}
	})
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func heads(t *testing.T, ctx context.Context, src chains.Source) chains.Heads {
	t.Helper()
	h, err := src.Heads(ctx)
	mustDo(t, err)
	if h.Final > h.Safe || h.Safe > h.Latest {
		t.Fatalf("heads %+v: want final <= safe <= latest", h)
	}
	return h
}

func headers(t *testing.T, ctx context.Context, src chains.Source, from, to uint64) []chains.Header {
	t.Helper()
	hs, err := src.Headers(ctx, from, to)
	mustDo(t, err)
	return hs
}

// checkLinked requires ascending numbers and, for consecutive headers,
// parent links (a gap in numbers is a skipped slot on Solana).
func checkLinked(t *testing.T, hs []chains.Header) {
	t.Helper()
	for i := 1; i < len(hs); i++ {
		if hs[i].Number <= hs[i-1].Number || hs[i].Parent != hs[i-1].Hash {
			t.Fatalf("headers %d %s (parent %s) after %d %s: not linked", hs[i].Number, hs[i].Hash, hs[i].Parent, hs[i-1].Number, hs[i-1].Hash)
		}
	}
}
