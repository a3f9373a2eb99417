package tron

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/depositd/depositd/chains"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/api"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
)

// rangeLimit is java-tron's cap on GetBlockByLimitNext2 (end − start ≤ 100).
const rangeLimit = 100

// header reads block n's header from p (GetBlock detail=false).
func (c *Client) header(ctx context.Context, p *pool, n uint64) (chains.Header, error) {
	var h chains.Header
	err := p.do(ctx, op{"header", int64(n)}, func(ctx context.Context, w wallet) error {
		b, err := w.block(ctx, n, false)
		if err != nil {
			return err
		}
		h, err = parseHeader(b, n)
		return err
	})
	return h, err
}

// held is a block as the adapter holds it: its header and its txids in
// block order.
type held struct {
	header chains.Header
	txids  [][]byte
}

// blockRange reads blocks [start, end] (at most rangeLimit) with their
// transactions in one GetBlockByLimitNext2 on the full node. Solidified
// blocks are the same on every synced node, so the full node also supplies
// the ids of blocks whose receipts come from the solidity service. An
// endpoint that does not have all of them yet answers chains.ErrNotFound.
func (c *Client) blockRange(ctx context.Context, start, end uint64) ([]held, error) {
	var out []held
	err := c.full.do(ctx, op{fmt.Sprintf("blocks [%d, %d]", start, end), -1}, func(ctx context.Context, w wallet) error {
		bs, err := w.blocks(ctx, start, end+1)
		if err != nil {
			return err
		}
		if uint64(len(bs)) != end-start+1 {
			return fmt.Errorf("blocks [%d, %d]: node has %d: %w", start, end, len(bs), chains.ErrNotFound)
		}
		out = make([]held, len(bs))
		for i, b := range bs {
			if out[i].header, err = parseHeader(b.ext, start+uint64(i)); err != nil {
				return err
			}
			for _, id := range b.txids {
				if len(id) != 32 {
					return fmt.Errorf("block %d: txid of %d bytes", start+uint64(i), len(id))
				}
			}
			out[i].txids = b.txids
		}
		return nil
	})
	return out, err
}

// transfers reads block n's TransactionInfo list from p, checks it lists
// exactly the transactions of the block held (java-tron answers an empty
// list for a block it lacks, so an empty list is only accepted for an empty
// block) and decodes the transfers.
func (c *Client) transfers(ctx context.Context, p *pool, b held) ([]chains.Transfer, error) {
	n := b.header.Number
	var ts []chains.Transfer
	err := p.do(ctx, op{"transaction infos", int64(n)}, func(ctx context.Context, w wallet) error {
		list, err := w.infos(ctx, n)
		if err != nil {
			return err
		}
		infos := list.GetTransactionInfo()
		if err := sameTxs(infos, b); err != nil {
			return err
		}
		ts, err = c.match.block(infos, n, b.header.Hash)
		return err
	})
	return ts, err
}

// sameTxs checks infos name exactly the transactions of b. java-tron lists
// infos in block order, so the common case is one pass without allocation;
// another order is accepted when the sets are equal. Repeated ids are left
// to the matcher, which rejects them.
func sameTxs(infos []*core.TransactionInfo, b held) error {
	n := b.header.Number
	if len(infos) != len(b.txids) {
		return fmt.Errorf("block %d: %d transactions, %d infos", n, len(b.txids), len(infos))
	}
	inOrder := true
	for i, ti := range infos {
		if !bytes.Equal(ti.GetId(), b.txids[i]) {
			inOrder = false
			break
		}
	}
	if inOrder {
		return nil
	}
	ids := make(map[string]struct{}, len(b.txids))
	for _, id := range b.txids {
		ids[string(id)] = struct{}{}
	}
	for _, ti := range infos {
		if _, ok := ids[string(ti.GetId())]; !ok {
			return fmt.Errorf("block %d: info for txid %x not in block %s", n, ti.GetId(), b.header.Hash)
		}
	}
	return nil
}

// parseHeader checks that b is block n and returns its header. An empty
// answer (java-tron's reply for a block it does not have) is
// chains.ErrNotFound.
func parseHeader(b *api.BlockExtention, n uint64) (chains.Header, error) {
	raw := b.GetBlockHeader().GetRawData()
	if raw == nil || len(b.GetBlockid()) == 0 {
		return chains.Header{}, fmt.Errorf("block %d: %w", n, chains.ErrNotFound)
	}
	id := b.GetBlockid()
	if len(id) != 32 {
		return chains.Header{}, fmt.Errorf("block %d: id of %d bytes", n, len(id))
	}
	if raw.GetNumber() != int64(n) || binary.BigEndian.Uint64(id[:8]) != n {
		return chains.Header{}, fmt.Errorf("block %d: node answered block %d (id %x)", n, raw.GetNumber(), id[:8])
	}
	if n > 0 && len(raw.GetParentHash()) != 32 {
		return chains.Header{}, fmt.Errorf("block %d: parent hash of %d bytes", n, len(raw.GetParentHash()))
	}
	return chains.Header{
		Number: n,
		Hash:   hex.EncodeToString(id),
		Parent: hex.EncodeToString(raw.GetParentHash()),
		Time:   raw.GetTimestamp() / 1000,
	}, nil
}
