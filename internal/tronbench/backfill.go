package tronbench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/tron"
	"github.com/depositd/depositd/watchers"
)

// Range is the watcher's blocks per Transfers call, the Tron adapter's
// GetBlockByLimitNext2 page.
const Range = 100

// newClient returns a client of c's node, full and solidity services, at
// the adapter's default concurrency.
func newClient(ctx context.Context, c *Chain) (*tron.Client, error) {
	src, err := tron.New(ctx, tron.Config{
		FullNodes: c.Node.Addrs(), SolidityNodes: c.Node.SolidityAddrs(),
		Tokens: []tron.Token{{Symbol: "USDT", Contract: c.USDT, Decimals: Decimals}},
	})
	if err != nil {
		return nil, fmt.Errorf("tron client: %w", err)
	}
	return src, nil
}

// Scan reads [c.First, c.Last] through the adapter alone — Heads, then
// Transfers in ranges of Range blocks over a fresh client, as the watcher
// calls it —
// and checks it finds one transfer per block. It returns the wall time of
// the reads: the adapter's share of the watcher's backfill.
func Scan(ctx context.Context, c *Chain) (time.Duration, error) {
	src, err := newClient(ctx, c)
	if err != nil {
		return 0, fmt.Errorf("scan: %w", err)
	}
	defer src.Close()
	start := time.Now()
	// Heads first, as the watcher's poll: it routes solidified blocks to
	// the solidity service.
	if _, err := src.Heads(ctx); err != nil {
		return 0, fmt.Errorf("scan: %w", err)
	}
	found := 0
	for from := c.First; from <= c.Last; from += Range {
		ts, err := src.Transfers(ctx, from, min(from+Range-1, c.Last))
		if err != nil {
			return 0, fmt.Errorf("scan: %w", err)
		}
		found += len(ts)
	}
	took := time.Since(start)
	if uint64(found) != c.Blocks() {
		return took, fmt.Errorf("scan: %d transfers, want %d", found, c.Blocks())
	}
	return took, nil
}

// NewWatcher returns a client of c's node (see Scan) and a watcher on it with the solidified
// policy, backfilling from c.First in ranges of Range blocks. The caller
// closes the client.
func NewWatcher(ctx context.Context, c *Chain, ix watchers.Index, cr watchers.Crediter, rdb redis.UniversalClient) (*tron.Client, *watchers.Watcher, error) {
	src, err := newClient(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	m, err := watchers.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	w, err := watchers.New(src, ix, cr, rdb, watchers.Config{
		Family: chains.FamilyTron, Tokens: []watchers.Token{{Symbol: "USDT"}},
		Policy: watchers.PolicyFinalized, Required: 19,
		StartBlock: c.First, MaxRange: Range, ProgressEvery: time.Hour,
	}, watchers.Options{Metrics: m, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	return src, w, nil
}

// Backfill runs one watcher poll over a fresh client from c.First until
// cursor_final reaches the solidified height c.Last, crediting through cr,
// and checks that exactly want first-time credits were made (applied is
// cr's count). It returns the poll's wall time.
func Backfill(ctx context.Context, c *Chain, ix watchers.Index, cr watchers.Crediter, applied func() int64, want int, rdb redis.UniversalClient) (time.Duration, error) {
	src, w, err := NewWatcher(ctx, c, ix, cr, rdb)
	if err != nil {
		return 0, fmt.Errorf("backfill: %w", err)
	}
	defer src.Close()
	before := applied()
	start := time.Now()
	if err := w.Poll(ctx); err != nil {
		return 0, fmt.Errorf("backfill: %w", err)
	}
	took := time.Since(start)
	if st := w.Status(); st.Final < c.Last {
		return took, fmt.Errorf("backfill: cursor_final %d below solid height %d", st.Final, c.Last)
	}
	if got := applied() - before; got != int64(want) {
		return took, fmt.Errorf("backfill: credited %d deposits, want %d", got, want)
	}
	return took, nil
}
