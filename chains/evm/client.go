// Package evm is the chain adapter for Ethereum and BSC: it reads heads,
// headers and ERC-20 Transfer logs of the configured token contracts over
// JSON-RPC, from several endpoints with failover, and hands them to the
// watcher as chains types. It knows nothing of watchers or the ledger.
//
// Every request goes through one endpoint pool: a failing endpoint backs off
// exponentially (reset by a success) and the next one is tried; an endpoint
// whose head trails the best known head is tried last. eth_getLogs ranges
// adapt to provider limits and a range that was not read is never skipped.
package evm

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/depositd/depositd/chains"
)

// Client is one EVM chain. It is safe for concurrent use.
type Client struct {
	cfg       Config
	tokens    map[common.Address]Token
	addresses []common.Address
	pool      *pool
	ranger    *ranger
	checksums checksums // EIP-55 text of recently decoded addresses

	headMu sync.Mutex
	head   chains.Header // latest block read by the heads, for Linked
	headAt time.Time     // when; zero = none kept

	dropsMu sync.Mutex
	drops   map[DropReason]uint64
}

var _ chains.Source = (*Client)(nil)

// New validates cfg and prepares a client for its endpoints. It does not
// contact the nodes: call CheckTokens before trusting the configuration.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := &Client{
		cfg:    cfg,
		tokens: make(map[common.Address]Token, len(cfg.Tokens)),
		pool: &pool{
			now:        cfg.Now,
			minBackoff: cfg.MinBackoff,
			maxBackoff: cfg.MaxBackoff,
			lagBlocks:  cfg.LagBlocks,
		},
		ranger: &ranger{size: cfg.InitialRange, max: cfg.MaxRange, target: cfg.TargetLogs},
		drops:  map[DropReason]uint64{},
	}
	for _, t := range cfg.Tokens {
		c.tokens[t.Contract] = t
		c.addresses = append(c.addresses, t.Contract)
	}
	for i, u := range cfg.Endpoints {
		rc, err := rpc.DialOptions(context.Background(), u, rpc.WithHTTPClient(cfg.HTTPClient))
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("chains[%s].endpoints[%d]: %w", cfg.Chain, i, err)
		}
		c.pool.eps = append(c.pool.eps, &endpoint{name: redact(u), rpc: rc})
	}
	return c, nil
}

// Close releases the endpoints' connections.
func (c *Client) Close() {
	for _, e := range c.pool.eps {
		e.rpc.Close()
	}
}

// Name is the configured chain name.
func (c *Client) Name() string { return c.cfg.Chain }

// Tokens returns the configured tokens.
func (c *Client) Tokens() []Token { return append([]Token(nil), c.cfg.Tokens...) }

// Endpoints reports every endpoint's health, in configuration order.
func (c *Client) Endpoints() []EndpointStatus { return c.pool.status() }

// Requests is the number of JSON-RPC requests sent to all endpoints, each
// batch element counted as one.
func (c *Client) Requests() uint64 {
	var n uint64
	for _, e := range c.pool.eps {
		n += e.requests.Load()
	}
	return n
}

// Dropped returns how many logs Transfers ignored, by reason.
func (c *Client) Dropped() map[DropReason]uint64 {
	c.dropsMu.Lock()
	defer c.dropsMu.Unlock()
	return maps.Clone(c.drops)
}

// Probe asks every endpoint for its head (eth_blockNumber), updating health,
// latency and lag. It returns an error only when no endpoint answered.
func (c *Client) Probe(ctx context.Context) error { return c.probe(ctx, time.Time{}) }

// probe asks the endpoints whose head was last reported before since (all
// of them when since is zero).
func (c *Client) probe(ctx context.Context, since time.Time) error {
	var wg sync.WaitGroup
	errs := make([]error, len(c.pool.eps))
	asked := 0
	for i, e := range c.pool.eps {
		e.mu.Lock()
		fresh := !since.IsZero() && e.headAt.After(since)
		e.mu.Unlock()
		if fresh {
			continue
		}
		asked++
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
			defer cancel()
			start := c.cfg.Now()
			var n hexutil.Uint64
			e.requests.Add(1)
			if err := e.rpc.CallContext(rctx, &n, "eth_blockNumber"); err != nil {
				c.pool.fail(e, err)
				errs[i] = fmt.Errorf("%s: %w", e.name, err)
				return
			}
			c.pool.succeed(e, c.cfg.Now().Sub(start))
			c.pool.observeHead(e, uint64(n))
		}()
	}
	wg.Wait()
	if asked < len(c.pool.eps) {
		return nil // an endpoint reported its head within the interval
	}
	for _, err := range errs {
		if err == nil {
			return nil
		}
	}
	return fmt.Errorf("%s probe: every endpoint failed: %v", c.cfg.Chain, errs)
}

// Run probes every ProbeInterval, until ctx ends, the endpoints that have
// not reported their head within the interval (the scan's own head reads
// keep the endpoints it uses current), so the ops page shows health and lag
// of endpoints the scan does not currently use. It returns ctx's error.
func (c *Client) Run(ctx context.Context) error {
	t := time.NewTicker(c.cfg.ProbeInterval)
	defer t.Stop()
	_ = c.Probe(ctx) // outcomes are recorded in Endpoints
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		_ = c.probe(ctx, c.cfg.Now().Add(-c.cfg.ProbeInterval))
	}
}
