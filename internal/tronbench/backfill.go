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

// NewWatcher returns a client of c's node (full and solidity services, the
// adapter's default concurrency) and a watcher on it with the solidified
// policy, backfilling from c.First in ranges of Range blocks. The caller
// closes the client.
func NewWatcher(ctx context.Context, c *Chain, ix watchers.Index, cr watchers.Crediter, rdb redis.UniversalClient) (*tron.Client, *watchers.Watcher, error) {
	src, err := tron.New(ctx, tron.Config{
		FullNodes: c.Node.Addrs(), SolidityNodes: c.Node.SolidityAddrs(),
		Tokens: []tron.Token{{Symbol: "USDT", Contract: c.USDT, Decimals: Decimals}},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("tron client: %w", err)
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
