package evm

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/depositd/depositd/chains"
)

// ancestryMax is the most ancestors one BLOCKHASH read returns: the EVM
// exposes the hashes of the 256 blocks below the executing one.
const ancestryMax = 256

// ancestryMin is the shortest range read through ancestry: below it a header
// batch costs no more requests.
const ancestryMin = 3

// ancestryRecent is how far below the best known head a block still counts
// as recent: pruning nodes keep the state of the last 128 blocks.
const ancestryRecent = 64

// ancestryPause is how long an endpoint that refused an ancestry call is
// asked with header batches only.
const ancestryPause = 10 * time.Minute

// ancestryCode is EVM init code that, run by eth_call (no "to") at block B,
// returns NUMBER and then blockhash(first), …, blockhash(first+n−1): the
// node's own hashes of B's ancestors. The leading NUMBER word starts with a
// zero byte, so the returned bytes never start with 0xEF (EIP-3541), and
// (n+1)·32 ≤ 8,224 bytes stays under the 24,576-byte code limit.
func ancestryCode(first uint64, n int) []byte {
	size := (n + 1) * 32
	code := []byte{
		0x61, byte(n >> 8), byte(n), // PUSH2 n                   [i]
		0x5b,       // 3: JUMPDEST (loop)
		0x80, 0x15, // DUP1 ISZERO               [i, i==0]
		0x60, 0x24, 0x57, // PUSH1 end JUMPI           [i]
		0x60, 0x01, 0x90, 0x03, // PUSH1 1 SWAP1 SUB    [i−1]
		0x80, 0x67, 0, 0, 0, 0, 0, 0, 0, 0, // DUP1 PUSH8 first
		0x01, 0x40, // ADD BLOCKHASH                  [i−1, h]
		0x81, 0x60, 0x01, 0x01, // DUP2 PUSH1 1 ADD     [i−1, h, i]
		0x60, 0x05, 0x1b, 0x52, // PUSH1 5 SHL MSTORE   [i−1]  mem[32i] = h
		0x60, 0x03, 0x56, // PUSH1 loop JUMP
		0x5b,                   // 36: JUMPDEST (end)
		0x43, 0x60, 0x00, 0x52, // NUMBER PUSH1 0 MSTORE
		0x61, byte(size >> 8), byte(size), 0x60, 0x00, 0xf3, // RETURN(0, size)
	}
	binary.BigEndian.PutUint64(code[15:23], first)
	return code
}

// Linked returns the canonical headers of [from, to] like Headers, linked by
// parent hash and checked the same way, but reads each stretch of up to 256
// blocks with two requests: the header of its last block and one eth_call
// of ancestryCode at that block, whose BLOCKHASH values are the node's
// hashes of that block's ancestors. Only the last header of each stretch
// carries Time; the others have Time 0. A stretch whose call is refused (no
// state for an old block on a pruning node, eth_call disabled) is read with
// header batches; an endpoint that refuses it for a recent block is read
// with header batches for ancestryPause. A stretch ending at the latest
// block the heads read just before reuses that header: one request.
func (c *Client) Linked(ctx context.Context, from, to uint64) ([]chains.Header, error) {
	return c.stretches(ctx, from, to, ancestryMax, c.linkedStretch)
}

var errNoAncestry = errors.New("ancestry call refused")

func (c *Client) linkedStretch(ctx context.Context, from, to uint64) ([]chains.Header, error) {
	var head *chains.Header // block to, as the heads just read it
	if h, ok := c.takeHead(to); ok {
		head = &h
	}
	for {
		hs, err := c.linkedOnce(ctx, from, to, head)
		if errors.Is(err, errStaleHead) {
			head = nil // the chain moved since the heads were read: read it all
			continue
		}
		return hs, err
	}
}

// errStaleHead: the kept latest header is no longer the parent chain's
// child; read the stretch without it.
var errStaleHead = errors.New("kept head is stale")

// linkedOnce reads [from, to], reusing head (block to) when not nil: with
// it, one ancestry call (no header) or a header batch below it.
func (c *Client) linkedOnce(ctx context.Context, from, to uint64, head *chains.Header) ([]chains.Header, error) {
	batch := to-from+1 < ancestryMin // as many requests as the call, or fewer
	if head != nil {
		batch = to-from < ancestryMin-1
	}
	if from == 0 || batch {
		return c.headersBelow(ctx, from, to, head)
	}
	var out []chains.Header
	var answer error // for the caller, not a failure of the endpoint
	fallback := false
	err := c.do(ctx, "headers", func(ctx context.Context, e *endpoint) error {
		out, answer, fallback = nil, nil, false
		if c.cfg.Now().Before(e.ancestryOffUntil()) {
			fallback = true
			return nil
		}
		hs, err := c.ancestry(ctx, e, from, to, head)
		switch {
		case errors.Is(err, errNullBlock):
			answer = fmt.Errorf("%s block %d: %w", c.cfg.Chain, to, chains.ErrNotFound)
			return nil
		case errors.Is(err, errNoAncestry):
			// The node answered, it only refuses the call: not a failure.
			// Old blocks may lack state on a pruning node; a refusal near
			// the best known head means the endpoint does not serve such calls.
			if best := c.pool.best.Load(); best > 0 && to+ancestryRecent >= best {
				e.pauseAncestry(c.cfg.Now().Add(ancestryPause))
			}
			fallback = true
			return nil
		case errors.Is(err, errStaleHead):
			answer = err
			return nil
		case err != nil:
			return err
		}
		out = hs
		return nil
	})
	switch {
	case err != nil:
		return nil, err
	case answer != nil:
		return nil, answer
	case fallback:
		return c.headersBelow(ctx, from, to, head)
	}
	return out, nil
}

// headersBelow reads [from, to] with header batches, or only [from, to−1]
// when head (block to) is given, which must then be the last one's child.
func (c *Client) headersBelow(ctx context.Context, from, to uint64, head *chains.Header) ([]chains.Header, error) {
	if head == nil {
		return c.Headers(ctx, from, to)
	}
	if from == to {
		return []chains.Header{*head}, nil
	}
	hs, err := c.Headers(ctx, from, to-1)
	if err != nil {
		return nil, err
	}
	if hs[len(hs)-1].Hash != head.Parent {
		return nil, errStaleHead
	}
	return append(hs, *head), nil
}

// ancestry reads [from, to] on e: header(to) (unless kept, the latest
// header the heads just read) and the hashes of from−1 … to−1 as ancestors
// of the block the node executes the call at, which must be header(to)'s
// parent chain (errStaleHead when the kept header is not).
func (c *Client) ancestry(ctx context.Context, e *endpoint, from, to uint64, kept *chains.Header) ([]chains.Header, error) {
	n := int(to - from + 1)
	var rawHead json.RawMessage
	var ret hexutil.Bytes
	num := hexutil.EncodeUint64(to)
	batch := []rpc.BatchElem{
		{Method: "eth_call", Args: []any{map[string]any{"data": hexutil.Bytes(ancestryCode(from-1, n))}, num}, Result: &ret},
	}
	if kept == nil {
		batch = append(batch, rpc.BatchElem{Method: "eth_getBlockByNumber", Args: []any{num, false}, Result: &rawHead})
	}
	e.requests.Add(uint64(len(batch)))
	if err := e.rpc.BatchCallContext(ctx, batch); err != nil {
		return nil, err
	}
	var head chains.Header
	if kept != nil {
		head = *kept
	} else {
		if batch[1].Error != nil {
			return nil, fmt.Errorf("block %d: %w", to, batch[1].Error)
		}
		h, err := decodeHeader(rawHead)
		if err != nil {
			return nil, err // errNullBlock: above the node's head
		}
		if h.Number != to {
			return nil, fmt.Errorf("block %d: node answered block %d", to, h.Number)
		}
		head = h
	}
	if batch[0].Error != nil {
		return nil, fmt.Errorf("%w: block %d: %w", errNoAncestry, to, batch[0].Error)
	}
	if len(ret) != (n+1)*32 {
		return nil, fmt.Errorf("%w: block %d: %d bytes, want %d", errNoAncestry, to, len(ret), (n+1)*32)
	}
	if at := common.BytesToHash(ret[:32]).Big(); !at.IsUint64() || at.Uint64() != to {
		return nil, fmt.Errorf("ancestry of block %d executed at block %s", to, at)
	}
	hashes := make([]common.Hash, n) // hashes[i] is block from−1+i
	for i := range hashes {
		hashes[i] = common.BytesToHash(ret[32*(i+1) : 32*(i+2)])
		if hashes[i] == (common.Hash{}) {
			return nil, fmt.Errorf("%w: block %d: no hash of block %d", errNoAncestry, to, from-1+uint64(i))
		}
	}
	if head.Parent != hashes[n-1].Hex() {
		if kept != nil {
			return nil, errStaleHead
		}
		return nil, fmt.Errorf("block %d: parent %s is not %s (chain moved during read)", to, head.Parent, hashes[n-1].Hex())
	}
	out := make([]chains.Header, 0, n)
	for i := 1; i < n; i++ {
		out = append(out, chains.Header{Number: from - 1 + uint64(i), Hash: hashes[i].Hex(), Parent: hashes[i-1].Hex()})
	}
	return append(out, head), nil
}
