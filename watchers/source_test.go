package watchers

import (
	"fmt"
	"sync"
	"testing"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/chainstest"
)

func TestTipCache(t *testing.T) {
	tr := func(block uint64, idx uint32) chains.Transfer {
		return chains.Transfer{Chain: "c", TxID: "t", Index: idx, Block: block}
	}
	ids := func(ts []chains.Transfer) []uint32 {
		var out []uint32
		for _, t := range ts {
			out = append(out, t.Index)
		}
		return out
	}
	var c tipCache
	if _, ok := c.take(1, 1); ok {
		t.Fatal("empty cache covers a block")
	}
	c.reset(11) // anchored at 10
	c.add(11, 13, []chains.Transfer{tr(11, 1), tr(13, 2), tr(13, 3)})
	c.add(14, 15, []chains.Transfer{tr(15, 4)})
	if _, ok := c.take(10, 12); ok {
		t.Fatal("block 10 was never read but the cache covers it")
	}
	// The failed take forgot 11 and 12; 13..15 remain.
	if got, ok := c.take(13, 14); !ok || len(got) != 2 || got[0].Index != 2 || got[1].Index != 3 {
		t.Fatalf("take 13..14: %v %v", ids(got), ok)
	}
	if _, ok := c.take(15, 16); ok {
		t.Fatal("block 16 was never read but the cache covers it")
	}
	c.add(16, 18, []chains.Transfer{tr(16, 5), tr(18, 6)})
	c.cut(16) // 17 and 18 left the chain
	if _, ok := c.take(16, 17); ok {
		t.Fatal("a cut block is still covered")
	}
	c.add(17, 17, []chains.Transfer{tr(17, 7)}) // re-read on the new branch
	if got, ok := c.take(17, 17); !ok || len(got) != 1 || got[0].Index != 7 {
		t.Fatalf("take 17 after re-read: %v %v", ids(got), ok)
	}
	c.add(20, 21, nil) // a gap restarts the cache at 20
	if _, ok := c.take(18, 21); ok {
		t.Fatal("the gap 18..19 is covered")
	}
	c.add(22, 22+tipCacheMax, nil) // too many blocks: restarts at 22
	if got, ok := c.take(22, 30); !ok || len(got) != 0 {
		t.Fatalf("take 22..30: %v %v", ids(got), ok)
	}
	if len(c.blocks) != 0 {
		t.Fatalf("%d blocks left", len(c.blocks))
	}
}

// TestWatcherFinalTierReusesTipReads follows a chain block by block: with
// ReuseTipReads, once caught up, every block's transfers are read once (by
// the tip tier) and the final tier credits from that read; after a reorg below the tip the
// re-mined blocks are read again and everything is still credited once,
// with each ignored transfer counted once.
func TestWatcherFinalTierReusesTipReads(t *testing.T) {
	for _, reuse := range []bool{true, false} {
		t.Run(fmt.Sprintf("reuse=%v", reuse), func(t *testing.T) { followChain(t, reuse) })
	}
}

// followChain is TestWatcherFinalTierReusesTipReads with ReuseTipReads set
// to reuse: without it the final tier reads every block a second time.
func followChain(t *testing.T, reuse bool) {
	r := newRig(t, 3)
	r.cfg.ReuseTipReads = reuse
	w := r.watcher(t)
	var mu sync.Mutex
	reads := map[uint64]int{}
	r.chain.SetHook(func(method string, from, to uint64) error {
		if method == chainstest.MethodTransfers {
			mu.Lock()
			for b := from; b <= to; b++ {
				reads[b]++
			}
			mu.Unlock()
		}
		return nil
	})
	for range 6 { // backfill: read by the final tier, then the tip tier reads above final
		r.chain.Mine(usdt("alice", 500), usdt("bob", 50))
	}
	poll(t, w)
	mu.Lock()
	clear(reads)
	mu.Unlock()
	for range 12 {
		r.chain.Mine(usdt("alice", 500), usdt("bob", 50))
		poll(t, w)
	}
	want := 1
	if !reuse {
		want = 2
	}
	for b := uint64(7); b+3 <= r.chain.Latest(); b++ { // final blocks
		if reads[b] != want {
			t.Fatalf("block %d read %d times once caught up, want %d (reads %v)", b, reads[b], want, reads)
		}
	}
	checkExactlyOnce(t, r)
	r.chain.Fork(r.chain.Latest() - 2)
	for range 8 {
		r.chain.Mine(usdt("alice", 500), usdt("bob", 50))
		poll(t, w)
	}
	checkExactlyOnce(t, r)
	credited, _ := r.rec.credited(t)
	below := counter(t, r.reg, "depositd_deposits_ignored_total", map[string]string{"reason": ReasonBelowMin})
	if len(credited) == 0 || below != float64(len(credited)) {
		t.Fatalf("%d credited, %v ignored below the minimum: want one ignored per credited block", len(credited), below)
	}
}
