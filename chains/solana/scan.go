package solana

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/depositd/depositd/chains"
	"golang.org/x/sync/errgroup"
)

// scanned is what one produced slot leaves after its block is matched:
// the header fields and, for Transfers, its transfers and drops. The
// decoded block itself is dropped at once, so a range holds only
// Concurrency blocks in memory however long it is.
type scanned struct {
	slot      uint64
	hash      string
	parent    string
	parentAt  uint64
	time      int64
	transfers []chains.Transfer
	drops     []Drop
}

// Headers returns the headers of the produced slots of [from, to] in
// ascending order: getBlocks, then getBlock with transactionDetails "none"
// per slot → Header{Number: slot, Hash: blockhash, Parent:
// previousBlockhash}. A range ending above the confirmed slot is
// chains.ErrNotFound; slots that turn out skipped are left out; slots that
// do not chain up (parentSlot and previousBlockhash) are ErrReorged.
func (c *Client) Headers(ctx context.Context, from, to uint64) ([]chains.Header, error) {
	ss, err := c.scan(ctx, from, to, "none")
	if err != nil {
		return nil, err
	}
	hs := make([]chains.Header, len(ss))
	for i, s := range ss {
		hs[i] = chains.Header{Number: s.slot, Hash: s.hash, Parent: s.parent, Time: s.time}
	}
	return hs, nil
}

// Transfers returns every positive token balance delta of the configured
// mints in the produced slots of [from, to] that passes the credit rule
// (see matcher.deltas), in slot and transaction order, each tagged with its
// slot's blockhash. Slots at or below the finalized slot are read at
// finalized commitment, the rest at confirmed. Balance changes that fail
// the rule go to Config.OnDrop once the whole range is read. It returns an
// error rather than a partial range: above the confirmed slot is
// chains.ErrNotFound, a block not yet available chains.ErrNotFound, a fork
// switching mid-read ErrReorged.
func (c *Client) Transfers(ctx context.Context, from, to uint64) ([]chains.Transfer, error) {
	ss, err := c.scan(ctx, from, to, "accounts")
	if err != nil {
		return nil, err
	}
	var out []chains.Transfer
	for _, s := range ss {
		out = append(out, s.transfers...)
		for _, d := range s.drops {
			c.dropped(d)
		}
	}
	return out, nil
}

// match applies the delta rule to every transaction of b.
func (c *Client) match(s *scanned, b *block) error {
	for i := range b.txs {
		t := &b.txs[i]
		credits, drops, err := c.matcher.deltas(t)
		if err != nil {
			return fmt.Errorf("slot %d: %w", s.slot, err)
		}
		for _, cr := range credits {
			s.transfers = append(s.transfers, chains.Transfer{
				Chain:     c.cfg.Name,
				Token:     cr.mint.Symbol,
				Contract:  cr.mint.mint,
				TxID:      t.sig,
				Index:     uint32(cr.index),
				Block:     s.slot,
				BlockHash: s.hash,
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
			s.drops = append(s.drops, Drop{Reason: d.reason, Token: d.mint.Symbol, Slot: s.slot, TxID: t.sig, Index: d.index,
				Holder: d.holder, Owner: d.owner, Amount: d.amount, Decimals: d.mint.Decimals})
		}
	}
	return nil
}

func (c *Client) dropped(d Drop) {
	if d.Reason == DropNested {
		c.cfg.Logger.Warn("deposit into a nested associated token account: recover with RecoverNested",
			"chain", c.cfg.Name, "token", d.Token, "slot", d.Slot, "tx", d.TxID, "account", d.Holder, "owner_token_account", d.Owner, "amount", d.Amount)
	}
	if c.cfg.OnDrop != nil {
		c.cfg.OnDrop(d)
	}
}

// scan fetches the produced slots of [from, to] concurrently with the
// given transactionDetails, matching each block ("accounts") as it
// arrives. Listed slots that turn out skipped are left out; the rest must
// chain up.
func (c *Client) scan(ctx context.Context, from, to uint64, details string) ([]*scanned, error) {
	if err := c.checkRange(ctx, from, to); err != nil {
		return nil, err
	}
	slots, err := c.produced(ctx, from, to)
	if err != nil {
		return nil, err
	}
	res := make([]*scanned, len(slots))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.cfg.Concurrency)
	for i, slot := range slots {
		g.Go(func() error {
			b, err := c.getBlock(gctx, slot, details)
			if errors.Is(err, chains.ErrSkipped) {
				return nil
			}
			if err != nil {
				return err
			}
			s := &scanned{slot: slot, hash: b.hash, parent: b.parent, parentAt: b.parentAt, time: b.time}
			if err := c.match(s, &b); err != nil {
				return err
			}
			res[i] = s
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := res[:0]
	for _, s := range res {
		if s != nil {
			out = append(out, s)
		}
	}
	if err := chained(out); err != nil {
		return nil, err
	}
	return out, nil
}

// chained checks that each block's parent is the previous produced block
// of the range: the same fork throughout.
func chained(ss []*scanned) error {
	for i := 1; i < len(ss); i++ {
		if s, prev := ss[i], ss[i-1]; s.parentAt != prev.slot || s.parent != prev.hash {
			return fmt.Errorf("slot %d: parent %s@%d, previous produced slot %d is %s: %w",
				s.slot, s.parent, s.parentAt, prev.slot, prev.hash, ErrReorged)
		}
	}
	return nil
}
