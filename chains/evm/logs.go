package evm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/depositd/depositd/chains"
)

// Operation names of log queries: a timeout of a multi-block query shrinks
// the range, one of a single-block query is retried on the endpoints.
const (
	opGetLogs      = "eth_getLogs"
	opGetLogsBlock = "eth_getLogs(block)"
)

// ranger holds the adaptive eth_getLogs range size shared by all calls.
type ranger struct {
	mu     sync.Mutex
	size   uint64
	max    uint64
	target int
}

func (r *ranger) current() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.size
}

// shrink halves the size below the failed span; it reports false when the
// span was a single block and cannot be split.
func (r *ranger) shrink(span uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if span <= 1 {
		return false
	}
	r.size = max(1, span/2)
	return true
}

// observe grows the size after a sparse answer.
func (r *ranger) observe(span uint64, logs int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if logs < r.target/2 && span >= r.size {
		r.size = min(r.max, 2*r.size)
	}
}

// RangeSize is the current eth_getLogs range size in blocks.
func (c *Client) RangeSize() uint64 { return c.ranger.current() }

// Transfers returns every Transfer of the configured tokens in [from, to]
// with a non-zero amount, in (block, log index) order. It splits the range
// into sub-ranges of the adaptive size, halving on provider "too many
// results"/size errors and timeouts, and returns an error rather than skip
// any sub-range. Ignored logs are reported to Config.OnDrop.
func (c *Client) Transfers(ctx context.Context, from, to uint64) ([]chains.Transfer, error) {
	if from > to {
		return nil, fmt.Errorf("%s transfers [%d, %d]: empty range", c.cfg.Chain, from, to)
	}
	var out []chains.Transfer
	for cur := from; ; {
		size := c.ranger.current()
		end := to
		if to-cur >= size {
			end = cur + size - 1
		}
		ts, err := c.transfersIn(ctx, cur, end)
		var tl errRangeTooLarge
		if errors.As(err, &tl) {
			if !c.ranger.shrink(end - cur + 1) {
				return nil, fmt.Errorf("%s transfers block %d: single block too large: %w", c.cfg.Chain, cur, err)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
		if end == to {
			return out, nil
		}
		cur = end + 1
	}
}

// transfersIn reads and decodes one sub-range with one eth_getLogs.
func (c *Client) transfersIn(ctx context.Context, from, to uint64) ([]chains.Transfer, error) {
	var logs []rpcLog
	op := opGetLogs
	if from == to {
		op = opGetLogsBlock
	}
	err := c.do(ctx, op, func(ctx context.Context, e *endpoint) error {
		if err := c.ensureHead(ctx, e, to); err != nil {
			return err
		}
		logs = nil
		e.requests.Add(1)
		err := e.rpc.CallContext(ctx, &logs, "eth_getLogs", c.filter(from, to))
		if err != nil && beyondHead(err) {
			c.pool.markBehind(e, to)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("blocks [%d, %d]: %w", from, to, err)
	}
	c.ranger.observe(to-from+1, len(logs))
	return c.decodeRange(from, to, logs)
}

// decodeRange turns one eth_getLogs answer into transfers, refusing answers
// outside the asked range or with two hashes for one block.
func (c *Client) decodeRange(from, to uint64, logs []rpcLog) ([]chains.Transfer, error) {
	hashes := map[uint64]common.Hash{}
	out := make([]chains.Transfer, 0, len(logs))
	for i := range logs {
		d, err := checkLog(c.cfg.Chain, c.tokens, &c.checksums, &logs[i])
		if err != nil {
			return nil, fmt.Errorf("%s blocks [%d, %d] log %d: %w", c.cfg.Chain, from, to, i, err)
		}
		if d.Block < from || d.Block > to {
			return nil, fmt.Errorf("%s blocks [%d, %d]: node returned a log of block %d", c.cfg.Chain, from, to, d.Block)
		}
		if h, ok := hashes[d.Block]; ok && h != d.BlockHash {
			return nil, fmt.Errorf("%s block %d: logs carry two block hashes %s and %s", c.cfg.Chain, d.Block, h.Hex(), d.BlockHash.Hex())
		}
		hashes[d.Block] = d.BlockHash
		if d.Drop != "" {
			c.drop(d.Token, d.Drop)
			continue
		}
		out = append(out, d.Transfer)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Block != out[j].Block {
			return out[i].Block < out[j].Block
		}
		return out[i].Index < out[j].Index
	})
	return out, nil
}

// ensureHead makes sure e has block to: it trusts a known head at or above
// to and asks eth_blockNumber otherwise. An endpoint still short of to is an
// error, so the request moves to another endpoint.
func (c *Client) ensureHead(ctx context.Context, e *endpoint, to uint64) error {
	if head, ok := c.pool.knownHead(e); ok && head >= to {
		return nil
	}
	var n hexutil.Uint64
	e.requests.Add(1)
	if err := e.rpc.CallContext(ctx, &n, "eth_blockNumber"); err != nil {
		return fmt.Errorf("eth_blockNumber: %w", err)
	}
	c.pool.observeHead(e, uint64(n))
	if uint64(n) < to {
		return fmt.Errorf("endpoint head %d below block %d", uint64(n), to)
	}
	return nil
}

// filter is the eth_getLogs argument: every configured contract, Transfer
// topic only, never a recipient filter.
func (c *Client) filter(from, to uint64) map[string]any {
	return map[string]any{
		"fromBlock": hexutil.EncodeUint64(from),
		"toBlock":   hexutil.EncodeUint64(to),
		"address":   c.addresses,
		"topics":    [][]common.Hash{{TransferTopic}},
	}
}

func (c *Client) drop(token string, reason DropReason) {
	c.dropsMu.Lock()
	c.drops[reason]++
	c.dropsMu.Unlock()
	if c.cfg.OnDrop != nil {
		c.cfg.OnDrop(token, reason)
	}
}
