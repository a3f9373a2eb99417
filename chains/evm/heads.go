package evm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/depositd/depositd/chains"
)

// rpcHeader holds the only block fields depositd reads. The node's hash is
// kept as sent: recomputing it from decoded fields diverges across forks.
type rpcHeader struct {
	Number     *hexutil.Uint64 `json:"number"`
	Hash       *common.Hash    `json:"hash"`
	ParentHash *common.Hash    `json:"parentHash"`
	Timestamp  *hexutil.Uint64 `json:"timestamp"`
}

// errNullBlock is a null eth_getBlockByNumber result: the node has no such
// block (yet).
var errNullBlock = errors.New("null block")

// decodeHeader parses an eth_getBlockByNumber result. A JSON null is
// errNullBlock; a missing or malformed field is an error.
func decodeHeader(raw json.RawMessage) (chains.Header, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return chains.Header{}, errNullBlock
	}
	var h rpcHeader
	if err := json.Unmarshal(raw, &h); err != nil {
		return chains.Header{}, fmt.Errorf("header: %w", err)
	}
	switch {
	case h.Number == nil:
		return chains.Header{}, errors.New("header: no number")
	case h.Hash == nil || *h.Hash == (common.Hash{}):
		return chains.Header{}, errors.New("header: no hash")
	case h.ParentHash == nil:
		return chains.Header{}, errors.New("header: no parentHash")
	case h.Timestamp == nil:
		return chains.Header{}, errors.New("header: no timestamp")
	case uint64(*h.Timestamp) > 1<<62:
		return chains.Header{}, fmt.Errorf("header: timestamp %d out of range", uint64(*h.Timestamp))
	}
	return chains.Header{
		Number: uint64(*h.Number),
		Hash:   h.Hash.Hex(),
		Parent: h.ParentHash.Hex(),
		Time:   int64(*h.Timestamp),
	}, nil
}

// Heads reads latest, safe and finalized in one batch. It fails unless all
// three are present and finalized ≤ safe ≤ latest (a batch may be served by
// several backends behind a balancer, so the order is checked, not assumed).
func (c *Client) Heads(ctx context.Context) (chains.Heads, error) {
	return c.heads(ctx, []string{"latest", "safe", "finalized"})
}

// heads reads tags ("latest" first, "finalized" last, "safe" between when
// asked) in one batch, checking each element and their order.
func (c *Client) heads(ctx context.Context, tags []string) (chains.Heads, error) {
	var out chains.Heads
	err := c.do(ctx, "heads", func(ctx context.Context, e *endpoint) error {
		raws := make([]json.RawMessage, len(tags))
		batch := make([]rpc.BatchElem, len(tags))
		for i, tag := range tags {
			batch[i] = rpc.BatchElem{Method: "eth_getBlockByNumber", Args: []any{tag, false}, Result: &raws[i]}
		}
		e.requests.Add(uint64(len(batch)))
		if err := e.rpc.BatchCallContext(ctx, batch); err != nil {
			return err
		}
		nums := map[string]uint64{}
		var latest chains.Header
		for i, el := range batch {
			if el.Error != nil {
				return fmt.Errorf("%s block: %w", tags[i], el.Error)
			}
			h, err := decodeHeader(raws[i])
			if err != nil {
				return fmt.Errorf("%s block: %w", tags[i], err)
			}
			nums[tags[i]] = h.Number
			if tags[i] == "latest" {
				latest = h
			}
		}
		h := chains.Heads{Latest: nums["latest"], Safe: nums["safe"], Final: nums["finalized"]}
		if h.Final > h.Latest || (len(tags) == 3 && (h.Final > h.Safe || h.Safe > h.Latest)) {
			return fmt.Errorf("inconsistent heads latest %d safe %d finalized %d", h.Latest, h.Safe, h.Final)
		}
		c.pool.observeHead(e, h.Latest)
		c.keepHead(latest)
		out = h
		return nil
	})
	return out, err
}

// headReuse is how long the latest header read with the heads stays usable
// by Linked: within one poll, the tip tier asks for it right after.
const headReuse = 2 * time.Second

// keepHead remembers h, the latest block just read, for one Linked call.
func (c *Client) keepHead(h chains.Header) {
	c.headMu.Lock()
	defer c.headMu.Unlock()
	c.head, c.headAt = h, c.cfg.Now()
}

// takeHead returns the remembered latest header if it is block n and was
// read within headReuse; a header of block n is forgotten either way.
func (c *Client) takeHead(n uint64) (chains.Header, bool) {
	c.headMu.Lock()
	defer c.headMu.Unlock()
	h, at := c.head, c.headAt
	if at.IsZero() || h.Number != n {
		return chains.Header{}, false
	}
	c.head, c.headAt = chains.Header{}, time.Time{}
	return h, c.cfg.Now().Sub(at) <= headReuse
}

// PickHeads implements chains.HeadPicker: without final it reads only the
// latest block (one request); with final, the latest and finalized blocks in
// one batch of two. Safe is not read (0). The latest header is kept for the
// next Linked call that ends at it.
func (c *Client) PickHeads(ctx context.Context, final bool) (chains.Heads, error) {
	if final {
		return c.heads(ctx, []string{"latest", "finalized"})
	}
	return c.heads(ctx, []string{"latest"})
}

// Headers returns the headers of [from, to] in batches of at most
// HeaderBatch, checking every element, the numbers and the parent links
// within the answer. A block above the node's head is chains.ErrNotFound.
func (c *Client) Headers(ctx context.Context, from, to uint64) ([]chains.Header, error) {
	return c.stretches(ctx, from, to, uint64(c.cfg.HeaderBatch), c.headerBatch)
}

// stretches reads [from, to] in stretches of at most size blocks with read
// and joins them, checking that each stretch links to the one before it.
func (c *Client) stretches(ctx context.Context, from, to, size uint64,
	read func(ctx context.Context, from, to uint64) ([]chains.Header, error)) ([]chains.Header, error) {
	if from > to {
		return nil, fmt.Errorf("%s headers [%d, %d]: empty range", c.cfg.Chain, from, to)
	}
	out := make([]chains.Header, 0, min(to-from+1, 10_000))
	for start := from; ; {
		end := to
		if to-start >= size {
			end = start + size - 1
		}
		hs, err := read(ctx, start, end)
		if err != nil {
			return nil, err
		}
		if len(out) > 0 && hs[0].Parent != out[len(out)-1].Hash {
			return nil, fmt.Errorf("%s headers: block %d parent %s is not %s (chain moved during read)",
				c.cfg.Chain, hs[0].Number, hs[0].Parent, out[len(out)-1].Hash)
		}
		out = append(out, hs...)
		if end == to {
			return out, nil
		}
		start = end + 1
	}
}

func (c *Client) headerBatch(ctx context.Context, from, to uint64) ([]chains.Header, error) {
	var out []chains.Header
	var notFound error
	err := c.do(ctx, "headers", func(ctx context.Context, e *endpoint) error {
		n := int(to - from + 1)
		raws := make([]json.RawMessage, n)
		batch := make([]rpc.BatchElem, n)
		for i := range batch {
			batch[i] = rpc.BatchElem{
				Method: "eth_getBlockByNumber",
				Args:   []any{hexutil.EncodeUint64(from + uint64(i)), false},
				Result: &raws[i],
			}
		}
		e.requests.Add(uint64(n))
		if err := e.rpc.BatchCallContext(ctx, batch); err != nil {
			return err
		}
		hs := make([]chains.Header, 0, n)
		for i, el := range batch {
			num := from + uint64(i)
			if el.Error != nil {
				return fmt.Errorf("block %d: %w", num, el.Error)
			}
			h, err := decodeHeader(raws[i])
			if errors.Is(err, errNullBlock) {
				notFound = fmt.Errorf("%s block %d: %w", c.cfg.Chain, num, chains.ErrNotFound)
				return nil
			}
			if err != nil {
				return fmt.Errorf("block %d: %w", num, err)
			}
			if h.Number != num {
				return fmt.Errorf("block %d: node answered block %d", num, h.Number)
			}
			if i > 0 && h.Parent != hs[i-1].Hash {
				return fmt.Errorf("block %d: parent %s is not %s (batch served by diverging nodes?)", num, h.Parent, hs[i-1].Hash)
			}
			hs = append(hs, h)
		}
		out = hs
		return nil
	})
	if err != nil {
		return nil, err
	}
	if notFound != nil {
		return nil, notFound
	}
	return out, nil
}
