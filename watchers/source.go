package watchers

import (
	"context"

	"github.com/depositd/depositd/chains"
)

// tipCacheMax bounds the blocks the tip cache holds; a final tier that falls
// further behind (a stalled ledger) reads its ranges again instead.
const tipCacheMax = 4096

// heads reads the head markers the policy needs: the final marker only
// under PolicyFinalized, and through chains.HeadPicker when the source can
// read fewer markers for fewer requests.
func (w *Watcher) heads(ctx context.Context) (chains.Heads, error) {
	if p, ok := w.src.(chains.HeadPicker); ok {
		return p.PickHeads(ctx, w.cfg.Policy == PolicyFinalized)
	}
	return w.src.Heads(ctx)
}

// linked reads canonical headers for the hash-chain checks of the tip tier,
// through chains.Linker when the source has it.
func (w *Watcher) linked(ctx context.Context, from, to uint64) ([]chains.Header, error) {
	if l, ok := w.src.(chains.Linker); ok {
		return l.Linked(ctx, from, to)
	}
	return w.src.Headers(ctx, from, to)
}

// tipCache keeps the transfers the tip tier read and checked against the
// canonical header chain, by block, so the final tier credits blocks the
// tip tier already read without reading them again. It covers [lo, hi]:
// every block of it was read (a block without transfers has none stored);
// blocks the tip tier disconnects in a reorg leave it.
type tipCache struct {
	lo, hi uint64 // empty when lo > hi
	blocks map[uint64][]chains.Transfer
}

// reset empties the cache; the next block it may cover is next.
func (c *tipCache) reset(next uint64) {
	c.lo, c.hi, c.blocks = next, next-1, map[uint64][]chains.Transfer{}
}

// add stores the transfers of the blocks [from, to]; a gap since the
// covered blocks (or too many blocks) restarts the cache at from.
func (c *tipCache) add(from, to uint64, ts []chains.Transfer) {
	if c.blocks == nil || from != c.hi+1 || to-c.lo+1 > tipCacheMax {
		c.reset(from)
	}
	for _, t := range ts {
		c.blocks[t.Block] = append(c.blocks[t.Block], t)
	}
	c.hi = to
}

// cut drops the blocks above n: they left the canonical chain.
func (c *tipCache) cut(n uint64) {
	for b := range c.blocks {
		if b > n {
			delete(c.blocks, b)
		}
	}
	if c.hi > n {
		c.hi = max(n, c.lo-1)
	}
}

// take returns the transfers of [from, to] in block order when the cache
// covers the whole range. Either way it forgets the blocks up to to, which
// the final tier is about to credit.
func (c *tipCache) take(from, to uint64) ([]chains.Transfer, bool) {
	ok := c.blocks != nil && c.lo <= from && to <= c.hi
	var out []chains.Transfer
	for b := from; ok && b <= to; b++ {
		out = append(out, c.blocks[b]...)
	}
	for b := range c.blocks {
		if b <= to {
			delete(c.blocks, b)
		}
	}
	if c.blocks != nil {
		c.lo = max(c.lo, to+1)
		c.hi = max(c.hi, c.lo-1)
	}
	return out, ok
}
