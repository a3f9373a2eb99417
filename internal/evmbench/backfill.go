package evmbench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/evm"
	"github.com/depositd/depositd/internal/devnet/evmnet"
	"github.com/depositd/depositd/watchers"
)

// Range is the blocks per eth_getLogs of both the watcher and the floor:
// 100 blocks of 40 logs, 4,000 logs per response.
const Range = 100

// Span is a built chain: its URL and the blocks holding BuildLarge's logs.
type Span struct {
	URL   string
	Large evmnet.Large
}

// Blocks is the number of blocks in [First, Last].
func (s Span) Blocks() uint64 { return s.Large.Last - s.Large.First + 1 }

// WantDeposits is how many of the span's logs pay a watched recipient.
func (s Span) WantDeposits() int { return (s.Large.Logs + WatchEvery - 1) / WatchEvery }

// Pass is the outcome of one read of the span.
type Pass struct {
	Took     time.Duration
	Requests uint64 // JSON-RPC requests, batch elements counted one each
	Logs     int    // floor only: logs read
}

// Floor reads the span with a bare eth_getLogs loop in ranges of Range
// blocks, results left as raw JSON, as BenchmarkGetLogsFloor does.
func Floor(ctx context.Context, s Span) (Pass, error) {
	rc, err := rpc.DialContext(ctx, s.URL)
	if err != nil {
		return Pass{}, fmt.Errorf("floor: dial: %w", err)
	}
	defer rc.Close()
	start := time.Now()
	var p Pass
	for from := s.Large.First; from <= s.Large.Last; from += Range {
		to := min(from+Range-1, s.Large.Last)
		var raws []json.RawMessage
		err := rc.CallContext(ctx, &raws, "eth_getLogs", map[string]any{
			"fromBlock": hexutil.EncodeUint64(from),
			"toBlock":   hexutil.EncodeUint64(to),
			"address":   []common.Address{s.Large.Token},
			"topics":    [][]common.Hash{{evm.TransferTopic}},
		})
		if err != nil {
			return Pass{}, fmt.Errorf("floor: logs %d..%d: %w", from, to, err)
		}
		p.Logs += len(raws)
		p.Requests++
	}
	p.Took = time.Since(start)
	if p.Logs != s.Large.Logs {
		return p, fmt.Errorf("floor: read %d logs, want %d", p.Logs, s.Large.Logs)
	}
	return p, nil
}

// NewClient returns an evm client of the span's token on its URL with the
// benchmark's range settings.
func NewClient(s Span) (*evm.Client, error) {
	return evm.New(evm.Config{
		Chain: "ethereum", Endpoints: []string{s.URL}, MaxRange: Range, TargetLogs: Range * s.Large.PerBlock,
		Tokens: []evm.Token{{Symbol: "USDT", Contract: s.Large.Token, Decimals: s.Large.Decimals}},
	})
}

// NewWatcher returns a watcher on src with the benchmark's settings: one
// confirmation (every block below the head is final at once), backfill
// from start (0 = from the final marker), Range blocks per call.
func NewWatcher(src chains.Source, ix watchers.Index, cr watchers.Crediter, rdb redis.UniversalClient, start uint64, required uint64, poll time.Duration) (*watchers.Watcher, error) {
	m, err := watchers.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		return nil, err
	}
	return watchers.New(src, ix, cr, rdb, watchers.Config{
		Family: chains.FamilyEVM, Tokens: []watchers.Token{{Symbol: "USDT"}},
		Policy: watchers.PolicyConfirmations, Required: required,
		StartBlock: start, MaxRange: Range, PollInterval: poll, ProgressEvery: time.Hour, ReuseTipReads: true,
	}, watchers.Options{Metrics: m, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

// Backfill runs one watcher poll from the span's first block to the head
// over a fresh client, crediting through cr, and checks that exactly want
// deposits were credited once (applied is cr's first-time credit count).
func Backfill(ctx context.Context, s Span, ix watchers.Index, cr watchers.Crediter, applied func() int64, want int, rdb redis.UniversalClient) (Pass, error) {
	src, err := NewClient(s)
	if err != nil {
		return Pass{}, fmt.Errorf("backfill: %w", err)
	}
	defer src.Close()
	w, err := NewWatcher(src, ix, cr, rdb, s.Large.First, 1, time.Second)
	if err != nil {
		return Pass{}, fmt.Errorf("backfill: %w", err)
	}
	before := applied()
	start := time.Now()
	if err := w.Poll(ctx); err != nil {
		return Pass{}, fmt.Errorf("backfill: %w", err)
	}
	p := Pass{Took: time.Since(start), Requests: src.Requests()}
	if got := applied() - before; got != int64(want) {
		return p, fmt.Errorf("backfill: credited %d deposits, want %d", got, want)
	}
	if st := w.Status(); st.Final < s.Large.Last {
		return p, fmt.Errorf("backfill: final cursor %d below last block %d", st.Final, s.Large.Last)
	}
	return p, nil
}
