package evmnet_test

import (
	"context"
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/evm"
)

// TestLinked checks that Linked, which reads long stretches as one header
// and one BLOCKHASH call, gives the hashes and parents Headers gives, over
// stretch boundaries and after a reorg, and ErrNotFound above the head.
func TestLinked(t *testing.T) {
	ctx := context.Background()
	chain := newChain(t)
	if err := chain.CommitBlocks(300); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, chain, evm.Token{Symbol: "USDT", Contract: common.HexToAddress("0x01"), Decimals: 6})
	head, _, err := chain.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	same := func(t *testing.T, from, to uint64) {
		t.Helper()
		want, err := c.Headers(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		before := c.Requests()
		got, err := c.Linked(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("[%d, %d]: %d headers, want %d", from, to, len(got), len(want))
		}
		for i := range want {
			if got[i].Number != want[i].Number || got[i].Hash != want[i].Hash || got[i].Parent != want[i].Parent {
				t.Fatalf("[%d, %d] #%d: %+v, want %+v", from, to, i, got[i], want[i])
			}
		}
		if last := got[len(got)-1]; last.Time != want[len(want)-1].Time || last.Time == 0 {
			t.Fatalf("[%d, %d]: last header time %d, want %d", from, to, last.Time, want[len(want)-1].Time)
		}
		// Recent stretches cost two requests each; old ones may lack state
		// and be read as header batches.
		if n := to - from + 1; n >= 3 && n <= 256 && from+100 > head && c.Requests()-before != 2 {
			t.Fatalf("[%d, %d]: %d requests, want 2", from, to, c.Requests()-before)
		}
	}
	for _, r := range [][2]uint64{{1, 1}, {5, 6}, {1, 3}, {head - 11, head}, {head - 255, head}, {2, head}} {
		same(t, r[0], r[1])
	}
	if _, err := c.Linked(ctx, head-5, head+4); !errors.Is(err, chains.ErrNotFound) {
		t.Fatalf("above head: %v, want ErrNotFound", err)
	}
	old, err := c.Linked(ctx, head-9, head)
	if err != nil {
		t.Fatal(err)
	}
	if err := chain.Fork(common.HexToHash(old[4].Hash)); err != nil { // keep head−5, replace above
		t.Fatal(err)
	}
	if err := chain.CommitBlocks(8); err != nil {
		t.Fatal(err)
	}
	same(t, head-9, head+2)
	now, err := c.Linked(ctx, head-9, head)
	if err != nil {
		t.Fatal(err)
	}
	for i := range old {
		if changed := now[i].Hash != old[i].Hash; changed != (i > 4) {
			t.Errorf("block %d: hash %s before the fork, %s after", old[i].Number, old[i].Hash, now[i].Hash)
		}
	}
}

// TestLinkedReusesHead: a stretch ending at the latest block the heads just
// read costs one request less, and a kept header that a reorg replaced is
// not used.
func TestLinkedReusesHead(t *testing.T) {
	ctx := context.Background()
	chain := newChain(t)
	if err := chain.CommitBlocks(40); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, chain, evm.Token{Symbol: "USDT", Contract: common.HexToAddress("0x01"), Decimals: 6})
	for _, tc := range []struct {
		back uint64 // stretch [head−back, head]
		reqs uint64
	}{{0, 0}, {1, 1}, {2, 1}, {11, 1}} {
		h, err := c.PickHeads(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		before := c.Requests()
		got, err := c.Linked(ctx, h.Latest-tc.back, h.Latest)
		if err != nil {
			t.Fatal(err)
		}
		if n := c.Requests() - before; n != tc.reqs {
			t.Errorf("[head−%d, head] after the heads: %d requests, want %d", tc.back, n, tc.reqs)
		}
		want, err := c.Headers(ctx, h.Latest-tc.back, h.Latest)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i].Hash != want[i].Hash || got[i].Parent != want[i].Parent {
				t.Fatalf("[head−%d, head] #%d: %+v, want %+v", tc.back, i, got[i], want[i])
			}
		}
	}
	h, err := c.PickHeads(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	old, err := c.Headers(ctx, h.Latest-1, h.Latest-1)
	if err != nil {
		t.Fatal(err)
	}
	// A fork below the kept head's parent replaces both: the kept header
	// must not be answered.
	if err := chain.Fork(common.HexToHash(old[0].Parent)); err != nil {
		t.Fatal(err)
	}
	if err := chain.CommitBlocks(2); err != nil {
		t.Fatal(err)
	}
	got, err := c.Linked(ctx, h.Latest-5, h.Latest)
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.Headers(ctx, h.Latest-5, h.Latest)
	if err != nil {
		t.Fatal(err)
	}
	if got[5].Hash != want[5].Hash || got[4].Hash != want[4].Hash || got[4].Hash == old[0].Hash {
		t.Fatalf("after a reorg: %v / %v, want %v / %v (replaced %s)", got[4].Hash, got[5].Hash, want[4].Hash, want[5].Hash, old[0].Hash)
	}
}
