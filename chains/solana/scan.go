package solana

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/depositd/depositd/chains"
	"golang.org/x/sync/errgroup"
)

// Headers returns the headers of the produced slots of [from, to] in
// ascending order: getBlocks, then getBlock with transactionDetails "none"
// per slot → Header{Number: slot, Hash: blockhash, Parent:
// previousBlockhash}. A range ending above the confirmed slot is
// chains.ErrNotFound; slots that turn out skipped are left out; slots that
// do not chain up (parentSlot and previousBlockhash) are ErrReorged.
func (c *Client) Headers(ctx context.Context, from, to uint64) ([]chains.Header, error) {
	blocks, slots, err := c.blocks(ctx, from, to, "none")
	if err != nil {
		return nil, err
	}
	hs := make([]chains.Header, 0, len(slots))
	for i, b := range blocks {
		if b != nil {
			hs = append(hs, chains.Header{Number: slots[i], Hash: b.hash, Parent: b.parent, Time: b.time})
		}
	}
	return hs, nil
}

// Transfers returns every positive token balance delta of the configured
// mints in the produced slots of [from, to] that passes the credit rule
// (see matcher.deltas), in slot and transaction order, each tagged with its
// slot's blockhash. Slots at or below the finalized slot are read at
// finalized commitment, the rest at confirmed. Balance changes that fail
// the rule go to Config.OnDrop. It returns an error rather than a partial
// range: above the confirmed slot is chains.ErrNotFound, a block not yet
// available chains.ErrNotFound, a fork switching mid-read ErrReorged.
func (c *Client) Transfers(ctx context.Context, from, to uint64) ([]chains.Transfer, error) {
	blocks, slots, err := c.blocks(ctx, from, to, "accounts")
	if err != nil {
		return nil, err
	}
	var out []chains.Transfer
	for i, b := range blocks {
		if b == nil {
			continue
		}
		for j := range b.txs {
			if out, err = c.appendTransfers(out, slots[i], b, &b.txs[j]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (c *Client) appendTransfers(out []chains.Transfer, slot uint64, b *block, t *txn) ([]chains.Transfer, error) {
	credits, drops, err := c.match.deltas(t)
	if err != nil {
		return nil, fmt.Errorf("slot %d: %w", slot, err)
	}
	for _, cr := range credits {
		out = append(out, chains.Transfer{
			Chain:     c.cfg.Name,
			Token:     cr.mint.Symbol,
			Contract:  cr.mint.mint,
			TxID:      t.sig,
			Index:     uint32(cr.index),
			Block:     slot,
			BlockHash: b.hash,
			From:      cr.from.text,
			FromKey:   cr.from.raw,
			To:        cr.owner.text,
			ToKey:     cr.owner.raw,
			Holder:    cr.holder.text,
			HolderKey: cr.holder.raw,
			Amount:    new(big.Int).SetUint64(cr.amount),
			Decimals:  cr.mint.Decimals,
		})
	}
	for _, d := range drops {
		c.dropped(slot, t.sig, d)
	}
	return out, nil
}

func (c *Client) dropped(slot uint64, sig string, d dropped) {
	ev := Drop{Reason: d.reason, Token: d.mint.Symbol, Slot: slot, TxID: sig, Index: d.index,
		Holder: d.holder, Owner: d.owner, Amount: d.amount, Decimals: d.mint.Decimals}
	if d.reason == DropNested {
		c.cfg.Logger.Warn("deposit into a nested associated token account: recover with RecoverNested",
			"chain", c.cfg.Name, "token", ev.Token, "slot", slot, "tx", sig, "account", ev.Holder, "owner_token_account", ev.Owner, "amount", d.amount)
	}
	if c.cfg.OnDrop != nil {
		c.cfg.OnDrop(ev)
	}
}

// blocks fetches the produced slots of [from, to] concurrently; a nil entry
// is a listed slot that turned out skipped. The blocks must chain up.
func (c *Client) blocks(ctx context.Context, from, to uint64, details string) ([]*block, []uint64, error) {
	if err := c.checkRange(ctx, from, to); err != nil {
		return nil, nil, err
	}
	slots, err := c.produced(ctx, from, to)
	if err != nil {
		return nil, nil, err
	}
	blocks := make([]*block, len(slots))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.cfg.Concurrency)
	for i, s := range slots {
		g.Go(func() error {
			b, err := c.getBlock(gctx, s, details)
			if errors.Is(err, chains.ErrSkipped) {
				return nil
			}
			if err != nil {
				return err
			}
			blocks[i] = &b
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	if err := chained(blocks, slots); err != nil {
		return nil, nil, err
	}
	return blocks, slots, nil
}

// chained checks that each block's parent is the previous produced block
// of the range: the same fork throughout.
func chained(blocks []*block, slots []uint64) error {
	prev := -1
	for i, b := range blocks {
		if b == nil {
			continue
		}
		if prev >= 0 && (b.parentAt != slots[prev] || b.parent != blocks[prev].hash) {
			return fmt.Errorf("slot %d: parent %s@%d, previous produced slot %d is %s: %w",
				slots[i], b.parent, b.parentAt, slots[prev], blocks[prev].hash, ErrReorged)
		}
		prev = i
	}
	return nil
}
