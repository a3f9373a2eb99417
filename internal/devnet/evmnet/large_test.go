package evmnet_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/depositd/depositd/chains/evm"
	"github.com/depositd/depositd/internal/devnet/evmnet"
)

// Size of the benchmark chain: ≥ 5,000 blocks and ≥ 200,000 Transfer logs.
const (
	largeBlocks   = 5000
	largePerBlock = 40
	benchRange    = 100 // blocks per eth_getLogs in the floor loop (4,000 logs)
)

var (
	largeOnce  sync.Once
	largeChain *evmnet.Chain
	largeInfo  evmnet.Large
	largeErr   error
)

// large builds the benchmark chain once per test binary.
func large(tb testing.TB) (*evmnet.Chain, evmnet.Large) {
	tb.Helper()
	largeOnce.Do(func() {
		largeChain, largeErr = evmnet.New()
		if largeErr != nil {
			return
		}
		largeInfo, largeErr = largeChain.BuildLarge(context.Background(), largeBlocks, largePerBlock)
	})
	if largeErr != nil {
		tb.Fatal(largeErr)
	}
	tb.Logf("large chain: blocks %d..%d, %d Transfer logs, built in %s", largeInfo.First, largeInfo.Last, largeInfo.Logs, largeInfo.Took)
	return largeChain, largeInfo
}

func TestBuildLargeSmall(t *testing.T) {
	chain := newChain(t)
	info, err := chain.BuildLarge(context.Background(), 20, 7)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, chain, evm.Token{Symbol: "USDT", Contract: info.Token, Decimals: 6})
	ts, err := c.Transfers(context.Background(), info.First, info.Last)
	if err != nil {
		t.Fatal(err)
	}
	if info.Logs != 140 || len(ts) != 140 || info.Last-info.First != 19 {
		t.Fatalf("info %+v, %d transfers", info, len(ts))
	}
	for i, tr := range ts {
		if tr.Block != info.First+uint64(i/7) || tr.Amount.Int64() != 1 {
			t.Fatalf("transfer %d: %+v", i, tr)
		}
	}
}

// BenchmarkGetLogsFloor is the bare eth_getLogs loop over the large chain in
// ranges of benchRange blocks, results left as raw JSON: the floor any
// watcher benchmark on the same chain is compared against.
func BenchmarkGetLogsFloor(b *testing.B) {
	chain, info := large(b)
	rc, err := rpc.Dial(chain.URL())
	if err != nil {
		b.Fatal(err)
	}
	defer rc.Close()
	ctx := context.Background()
	b.ResetTimer()
	logs, reqs := 0, 0
	for b.Loop() {
		for from := info.First; from <= info.Last; from += benchRange {
			to := min(from+benchRange-1, info.Last)
			var raws []json.RawMessage
			err := rc.CallContext(ctx, &raws, "eth_getLogs", map[string]any{
				"fromBlock": hexutil.EncodeUint64(from),
				"toBlock":   hexutil.EncodeUint64(to),
				"address":   []common.Address{info.Token},
				"topics":    [][]common.Hash{{evm.TransferTopic}},
			})
			if err != nil {
				b.Fatal(err)
			}
			logs += len(raws)
			reqs++
		}
	}
	if logs != b.N*info.Logs {
		b.Fatalf("read %d logs in %d passes, want %d each", logs, b.N, info.Logs)
	}
	sec := b.Elapsed().Seconds()
	b.ReportMetric(float64(logs)/sec, "logs/s")
	b.ReportMetric(float64(b.N)*float64(info.Last-info.First+1)/sec, "blocks/s")
	b.ReportMetric(float64(reqs)/(float64(b.N)*float64(info.Last-info.First+1)), "req/block")
}

// BenchmarkClientTransfers reads the same chain through evm.Client
// (adaptive ranges, decoding, checks) for comparison with the floor.
func BenchmarkClientTransfers(b *testing.B) {
	chain, info := large(b)
	c, err := evm.New(evm.Config{
		Chain:      "ethereum",
		Tokens:     []evm.Token{{Symbol: "USDT", Contract: info.Token, Decimals: 6}},
		Endpoints:  []string{chain.URL()},
		MaxRange:   benchRange,
		TargetLogs: benchRange * largePerBlock,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	b.ResetTimer()
	start := c.Requests()
	for b.Loop() {
		ts, err := c.Transfers(ctx, info.First, info.Last)
		if err != nil {
			b.Fatal(err)
		}
		if len(ts) != info.Logs {
			b.Fatalf("%d transfers, want %d", len(ts), info.Logs)
		}
	}
	sec := b.Elapsed().Seconds()
	blocks := float64(b.N) * float64(info.Last-info.First+1)
	b.ReportMetric(float64(b.N)*float64(info.Logs)/sec, "logs/s")
	b.ReportMetric(blocks/sec, "blocks/s")
	b.ReportMetric(float64(c.Requests()-start)/blocks, "req/block")
}
