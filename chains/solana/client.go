package solana

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/depositd/depositd/chains"
	"github.com/gagliardetto/solana-go/rpc"
)

// ErrReorged is returned by Headers and Transfers when the slots of the
// range did not form one chain while they were read (a fork above the
// finalized slot switched mid-scan). The caller retries.
var ErrReorged = errors.New("chain reorganised during scan")

// maxBlocksSpan is getBlocks' largest range (agave MAX_GET_CONFIRMED_BLOCKS_RANGE).
const maxBlocksSpan = 500_000

// Client is the Solana chains.Source. It is safe for concurrent use.
type Client struct {
	cfg     Config
	pool    *pool
	matcher *matcher

	// finalSeen and latestSeen are the highest finalized and confirmed slots
	// seen; the finalized slot never rolls back.
	finalSeen  atomic.Uint64
	latestSeen atomic.Uint64
}

var _ chains.Source = (*Client)(nil)

// New validates cfg and builds a client. It makes no call: CheckTokens
// verifies the mints against the chain.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("solana config: %w", err)
	}
	cfg = cfg.withDefaults()
	cfg.Mints = append([]Mint(nil), cfg.Mints...)
	c := &Client{cfg: cfg}
	c.pool = newPool(&c.cfg)
	c.matcher = newMatcher(c.cfg.Mints, cfg.NestedOwner)
	return c, nil
}

// Close releases the endpoints' connections.
func (c *Client) Close() error { return c.pool.close() }

// Name returns the configured chain name.
func (c *Client) Name() string { return c.cfg.Name }

// Endpoints reports every endpoint's health, in configured order.
func (c *Client) Endpoints() []EndpointStatus {
	out := make([]EndpointStatus, len(c.pool.eps))
	for i, e := range c.pool.eps {
		out[i] = e.snapshot()
	}
	return out
}

// Heads reports Latest = getSlot(confirmed) and Safe = Final =
// getSlot(finalized), both from one endpoint. Final never moves backwards
// across calls and Latest is at least Final.
func (c *Client) Heads(ctx context.Context) (chains.Heads, error) {
	var latest, final uint64
	err := c.pool.do(ctx, "getSlot", func(ctx context.Context, cl *rpc.Client) error {
		var err error
		if latest, err = cl.GetSlot(ctx, rpc.CommitmentConfirmed); err != nil {
			return err
		}
		final, err = cl.GetSlot(ctx, rpc.CommitmentFinalized)
		return err
	})
	if err != nil {
		return chains.Heads{}, err
	}
	final = raise(&c.finalSeen, final)
	latest = raise(&c.latestSeen, max(latest, final))
	return chains.Heads{Latest: latest, Safe: final, Final: final}, nil
}

func raise(v *atomic.Uint64, n uint64) uint64 {
	for {
		seen := v.Load()
		if n <= seen {
			return seen
		}
		if v.CompareAndSwap(seen, n) {
			return n
		}
	}
}

// checkRange rejects from > to and a range ending above the confirmed
// slot. The confirmed slot is asked only when to is above the highest one
// seen; an endpoint behind to counts as "not yet" and the next one is
// asked, so only a range above every endpoint's confirmed slot is
// chains.ErrNotFound.
func (c *Client) checkRange(ctx context.Context, from, to uint64) error {
	if from > to {
		return fmt.Errorf("range [%d, %d]: from above to", from, to)
	}
	if to <= c.latestSeen.Load() {
		return nil
	}
	err := c.pool.do(ctx, "getSlot", func(ctx context.Context, cl *rpc.Client) error {
		latest, err := cl.GetSlot(ctx, rpc.CommitmentConfirmed)
		if err != nil {
			return err
		}
		raise(&c.latestSeen, latest)
		if to > latest {
			return fmt.Errorf("slot %d above confirmed slot %d: %w", to, latest, errBehind)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("range [%d, %d]: %w", from, to, err)
	}
	return nil
}

// produced lists the produced slots of [from, to]: getBlocks at finalized
// commitment up to the finalized slot and at confirmed above it.
func (c *Client) produced(ctx context.Context, from, to uint64) ([]uint64, error) {
	final := c.finalSeen.Load()
	var out []uint64
	for start := from; start <= to; {
		end := min(to, start+maxBlocksSpan-1)
		commitment := rpc.CommitmentConfirmed
		if start <= final {
			commitment, end = rpc.CommitmentFinalized, min(end, final)
		}
		var slots []uint64
		// minContextSlot makes a node behind end refuse (-32016) instead
		// of silently clamping the list to its own slot.
		params := []any{start, end, map[string]any{"commitment": commitment, "minContextSlot": end}}
		err := c.pool.do(ctx, "getBlocks", func(ctx context.Context, cl *rpc.Client) error {
			slots = nil
			return cl.RPCCallForInto(ctx, &slots, "getBlocks", params)
		})
		if err != nil {
			return nil, fmt.Errorf("slots [%d, %d]: %w", start, end, err)
		}
		for _, s := range slots {
			if s < start || s > end || (len(out) > 0 && s <= out[len(out)-1]) {
				return nil, fmt.Errorf("slots [%d, %d]: getBlocks answered slot %d out of order", start, end, s)
			}
			out = append(out, s)
		}
		if end == to {
			break
		}
		start = end + 1
	}
	return out, nil
}

// getBlock fetches one slot with the given transactionDetails ("accounts"
// or "none"). A skipped slot returns chains.ErrSkipped.
func (c *Client) getBlock(ctx context.Context, slot uint64, details string) (block, error) {
	commitment := rpc.CommitmentConfirmed
	if slot <= c.finalSeen.Load() {
		commitment = rpc.CommitmentFinalized
	}
	opts := map[string]any{
		"encoding":                       "jsonParsed",
		"transactionDetails":             details,
		"maxSupportedTransactionVersion": 0,
		"rewards":                        false,
		"commitment":                     commitment,
	}
	var b block
	err := c.pool.do(ctx, "getBlock", func(ctx context.Context, cl *rpc.Client) error {
		// solana-go decodes the result with the same json-iterator
		// configuration as decodeBlock, straight into the wire struct.
		var w *wireBlock
		if err := cl.RPCCallForInto(ctx, &w, "getBlock", []any{slot, opts}); err != nil {
			return err
		}
		var err error
		b, err = w.block()
		return err
	})
	switch {
	case err == nil:
		return b, nil
	case skipped(err):
		c.cfg.Logger.Warn("listed slot has no block", "chain", c.cfg.Name, "slot", slot, "err", err)
		return block{}, fmt.Errorf("slot %d: %w", slot, chains.ErrSkipped)
	}
	return block{}, fmt.Errorf("slot %d: %w", slot, err)
}
