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

// header reads block n's header from p.
func (c *Client) header(ctx context.Context, p *pool, n uint64) (chains.Header, error) {
	var h chains.Header
	err := p.do(ctx, fmt.Sprintf("header %d", n), func(ctx context.Context, w wallet) error {
		b, err := w.block(ctx, n, false)
		if err != nil {
			return err
		}
		h, err = parseHeader(b, n)
		return err
	})
	return h, err
}

// block reads block n's header and its TransactionInfo list from the same
// endpoint (a load-balanced pair could pair a block with a lagging node's
// empty list) and decodes the transfers.
func (c *Client) block(ctx context.Context, p *pool, n uint64) (chains.Header, []chains.Transfer, error) {
	var (
		h  chains.Header
		ts []chains.Transfer
	)
	err := p.do(ctx, fmt.Sprintf("block %d", n), func(ctx context.Context, w wallet) error {
		b, err := w.block(ctx, n, c.cfg.VerifyTxIDs)
		if err != nil {
			return err
		}
		if h, err = parseHeader(b, n); err != nil {
			return err
		}
		list, err := w.infos(ctx, n)
		if err != nil {
			return err
		}
		infos := list.GetTransactionInfo()
		if err := checkInfos(b, infos, n, c.cfg.VerifyTxIDs); err != nil {
			return err
		}
		ts, err = c.match.block(infos, n, h.Hash)
		return err
	})
	return h, ts, err
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

var zeroRoot [32]byte

// checkInfos ties the TransactionInfo list to block b. java-tron answers an
// empty list for a block whose receipts it does not keep, so an empty list
// for a block with transactions (non-zero txTrieRoot) is an error, not
// "no transfers". With verify the block carries its transactions and their
// ids must be exactly the infos' ids.
func checkInfos(b *api.BlockExtention, infos []*core.TransactionInfo, n uint64, verify bool) error {
	root := b.GetBlockHeader().GetRawData().GetTxTrieRoot()
	if len(root) == len(zeroRoot) {
		empty := bytes.Equal(root, zeroRoot[:])
		if empty && len(infos) > 0 {
			return fmt.Errorf("block %d: %d infos for a block without transactions", n, len(infos))
		}
		if !empty && len(infos) == 0 {
			return fmt.Errorf("block %d: no transaction infos for a block with transactions (is storage.transHistory.switch on?)", n)
		}
	}
	if !verify {
		return nil
	}
	txs := b.GetTransactions()
	if len(txs) != len(infos) {
		return fmt.Errorf("block %d: %d transactions, %d infos", n, len(txs), len(infos))
	}
	ids := make(map[string]struct{}, len(txs))
	for _, tx := range txs {
		ids[string(tx.GetTxid())] = struct{}{}
	}
	for _, ti := range infos {
		if _, ok := ids[string(ti.GetId())]; !ok {
			return fmt.Errorf("block %d: info for txid %x not in the block", n, ti.GetId())
		}
	}
	return nil
}
