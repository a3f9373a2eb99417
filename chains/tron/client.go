package tron

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/depositd/depositd/chains"
	"golang.org/x/sync/errgroup"
)

// ErrReorged is returned by Headers and Transfers when the blocks above the
// solidified height changed while the range was being read. The caller
// retries; nothing of the range may be used.
var ErrReorged = errors.New("chain reorganised during scan")

// Client is the Tron chains.Source. It is safe for concurrent use.
type Client struct {
	cfg   Config
	full  *pool
	solid *pool // nil: Final = head − SolidLag from the full node
	match *matcher

	// solidSeen is the highest solidified height seen so far. The solid
	// height never rolls back, so heights at or below it are read from the
	// solidity service.
	solidSeen atomic.Uint64
}

var _ chains.Source = (*Client)(nil)

// New validates cfg, connects to every endpoint and checks each token's
// decimals() and symbol() against cfg through TriggerConstantContract on
// the full node. A mismatch is an error naming the token: a client is never
// returned for a misconfigured contract.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("tron config: %w", err)
	}
	cfg = cfg.withDefaults()
	m, err := newMatcher(cfg.Name, cfg.Tokens)
	if err != nil {
		return nil, fmt.Errorf("tron config: %w", err)
	}
	c := &Client{cfg: cfg, match: m}
	if c.full, err = newFullPool(&c.cfg); err != nil {
		return nil, err
	}
	if len(cfg.SolidityNodes) > 0 {
		if c.solid, err = newSolidityPool(&c.cfg); err != nil {
			c.full.close()
			return nil, err
		}
	}
	if err := c.verifyTokens(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close closes every connection. The client must not be used afterwards.
func (c *Client) Close() error {
	err := c.full.close()
	if c.solid != nil {
		err = errors.Join(err, c.solid.close())
	}
	return err
}

// Name returns the configured chain name.
func (c *Client) Name() string { return c.cfg.Name }

// Endpoints reports the health of every endpoint, full nodes first, as of
// each one's last call.
func (c *Client) Endpoints() []EndpointStatus {
	var out []EndpointStatus
	for _, p := range []*pool{c.full, c.solid} {
		if p == nil {
			continue
		}
		for _, e := range p.eps {
			out = append(out, e.snapshot())
		}
	}
	return out
}

// Heads reports Latest from the full node's GetNowBlock2 and Final (= Safe)
// from the solidity service's, or Latest − SolidLag without one. Final
// never moves backwards across calls, and Latest is at least Final.
func (c *Client) Heads(ctx context.Context) (chains.Heads, error) {
	latest, err := c.head(ctx, c.full)
	if err != nil {
		return chains.Heads{}, err
	}
	var final uint64
	if c.solid != nil {
		if final, err = c.head(ctx, c.solid); err != nil {
			return chains.Heads{}, err
		}
	} else if latest > c.cfg.SolidLag {
		final = latest - c.cfg.SolidLag
	}
	final = c.raiseSolid(final)
	return chains.Heads{Latest: max(latest, final), Safe: final, Final: final}, nil
}

func (c *Client) raiseSolid(n uint64) uint64 {
	for {
		seen := c.solidSeen.Load()
		if n <= seen {
			return seen
		}
		if c.solidSeen.CompareAndSwap(seen, n) {
			return n
		}
	}
}

func (c *Client) head(ctx context.Context, p *pool) (uint64, error) {
	var n uint64
	err := p.do(ctx, op{"head", -1}, func(ctx context.Context, w wallet) error {
		b, err := w.nowBlock(ctx)
		if err != nil {
			return err
		}
		num := b.GetBlockHeader().GetRawData().GetNumber()
		if b.GetBlockHeader().GetRawData() == nil || num < 0 {
			return errors.New("head block without header")
		}
		n = uint64(num)
		return nil
	})
	return n, err
}

// route returns the pool serving block n: the solidity service for
// solidified heights, the full node above them.
func (c *Client) route(n uint64) *pool {
	if c.solid != nil && n <= c.solidSeen.Load() {
		return c.solid
	}
	return c.full
}

// Headers returns the headers of [from, to] (GetBlock detail=false per
// height): Hash is hex(blockid), Parent hex(parentHash). A height above the
// serving node's head is chains.ErrNotFound. The range is checked to be one
// hash chain; a change above the solid height during the read is ErrReorged.
func (c *Client) Headers(ctx context.Context, from, to uint64) ([]chains.Header, error) {
	if from > to {
		return nil, fmt.Errorf("range [%d, %d]: from above to", from, to)
	}
	hs := make([]chains.Header, to-from+1)
	err := c.each(ctx, len(hs), func(ctx context.Context, i int) error {
		n := from + uint64(i)
		var err error
		hs[i], err = c.header(ctx, c.route(n), n)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := c.consistent(ctx, hs); err != nil {
		return nil, err
	}
	return hs, nil
}

// Transfers returns the transfers of the configured tokens in [from, to],
// from one GetTransactionInfoByBlockNum per block (the solidity service for
// solidified heights), each tagged with its block's id. Block ids and txids
// come from the full node, 100 blocks per GetBlockByLimitNext2, and every
// TransactionInfo list must name exactly its block's transactions. Only
// transactions with TransactionInfo.result SUCESS and receipt.result
// SUCCESS count. It returns an error, never a partial range: a block above
// the head is chains.ErrNotFound, a change above the solid height during
// the read ErrReorged.
func (c *Client) Transfers(ctx context.Context, from, to uint64) ([]chains.Transfer, error) {
	if from > to {
		return nil, fmt.Errorf("range [%d, %d]: from above to", from, to)
	}
	var (
		hs  []chains.Header
		out []chains.Transfer
	)
	for start := from; ; start += rangeLimit {
		end := to
		if to-start >= rangeLimit {
			end = start + rangeLimit - 1
		}
		blocks, err := c.blockRange(ctx, start, end)
		if err != nil {
			return nil, err
		}
		ts := make([][]chains.Transfer, len(blocks))
		err = c.each(ctx, len(blocks), func(ctx context.Context, i int) error {
			var err error
			ts[i], err = c.transfers(ctx, c.route(blocks[i].header.Number), blocks[i])
			return err
		})
		if err != nil {
			return nil, err
		}
		for i := range blocks {
			hs = append(hs, blocks[i].header)
			out = append(out, ts[i]...)
		}
		if end == to {
			break
		}
	}
	if err := c.consistent(ctx, hs); err != nil {
		return nil, err
	}
	return out, nil
}

// each runs fn for 0..n-1, Concurrency at a time, and returns the first
// error; with Concurrency 1 it runs them in order on the calling goroutine.
func (c *Client) each(ctx context.Context, n int, fn func(context.Context, int) error) error {
	if c.cfg.Concurrency == 1 {
		for i := range n {
			if err := fn(ctx, i); err != nil {
				return err
			}
		}
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.cfg.Concurrency)
	for i := range n {
		g.Go(func() error { return fn(gctx, i) })
	}
	return g.Wait()
}

// consistent checks that hs is one hash chain and, when its top is above
// the solid height, that the top is still canonical: a fork during the read
// replaces the top of the range.
func (c *Client) consistent(ctx context.Context, hs []chains.Header) error {
	for i := 1; i < len(hs); i++ {
		if hs[i].Parent != hs[i-1].Hash {
			return fmt.Errorf("block %d: parent %s, block %d is %s: %w",
				hs[i].Number, hs[i].Parent, hs[i-1].Number, hs[i-1].Hash, ErrReorged)
		}
	}
	top := hs[len(hs)-1]
	p := c.route(top.Number)
	if p != c.full {
		return nil
	}
	last, err := c.header(ctx, p, top.Number)
	if err != nil {
		return err
	}
	if last.Hash != top.Hash {
		return fmt.Errorf("block %d: %s became %s: %w", top.Number, top.Hash, last.Hash, ErrReorged)
	}
	return nil
}
