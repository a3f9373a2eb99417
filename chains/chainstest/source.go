package chainstest

import (
	"context"
	"fmt"
	"math/big"

	"github.com/depositd/depositd/chains"
)

var _ chains.Source = (*Chain)(nil)

// Name implements chains.Source.
func (c *Chain) Name() string { return c.name }

// Heads implements chains.Source: Latest is the newest block, Final trails
// it by the configured depth (or the pinned marker), Safe lies between.
func (c *Chain) Heads(ctx context.Context) (chains.Heads, error) {
	if err := c.before(MethodHeads, 0, 0); err != nil {
		return chains.Heads{}, err
	}
	if err := ctx.Err(); err != nil {
		return chains.Heads{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.heads(), nil
}

// Headers implements chains.Source: the canonical headers in [from, to],
// skipped numbers omitted; to above the latest block is chains.ErrNotFound.
func (c *Chain) Headers(ctx context.Context, from, to uint64) ([]chains.Header, error) {
	if err := c.before(MethodHeaders, from, to); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkRange(from, to); err != nil {
		return nil, err
	}
	var out []chains.Header
	for _, b := range c.blocks {
		if b.header.Number >= from && b.header.Number <= to {
			out = append(out, b.header)
		}
	}
	return out, nil
}

// Transfers implements chains.Source: copies of every transfer in the
// canonical blocks of [from, to]; to above the latest block is
// chains.ErrNotFound.
func (c *Chain) Transfers(ctx context.Context, from, to uint64) ([]chains.Transfer, error) {
	if err := c.before(MethodTransfers, from, to); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkRange(from, to); err != nil {
		return nil, err
	}
	var out []chains.Transfer
	for _, b := range c.blocks {
		if b.header.Number < from || b.header.Number > to {
			continue
		}
		for _, t := range b.transfers {
			t.Amount = new(big.Int).Set(t.Amount)
			out = append(out, t)
		}
	}
	return out, nil
}

func (c *Chain) checkRange(from, to uint64) error {
	if from > to {
		return fmt.Errorf("%s: range [%d, %d]: from above to", c.name, from, to)
	}
	if latest := c.blocks[len(c.blocks)-1].header.Number; to > latest {
		return fmt.Errorf("%s: block %d above head %d: %w", c.name, to, latest, chains.ErrNotFound)
	}
	return nil
}
