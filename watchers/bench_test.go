package watchers

import (
	"context"
	"io"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/evm"
	"github.com/depositd/depositd/internal/devnet/evmnet"
	"github.com/depositd/depositd/internal/redistest"
)

// BenchmarkWatcherBackfill runs the final tier over the large simulated
// chain (5,000 blocks × 40 Transfer logs, as BenchmarkGetLogsFloor in
// internal/devnet/evmnet reads it) through the HTTP adapter, with 10 of its
// 1,000 recipients watched: 2,000 deposits credited into a real
// redis-server, the rest matched away in memory. Compare blocks/s and
// req/block with the floor.
func BenchmarkWatcherBackfill(b *testing.B) {
	const blocks, perBlock, rangeSize = 5000, 40, 100
	chain, err := evmnet.New()
	if err != nil {
		b.Fatal(err)
	}
	defer chain.Close()
	info, err := chain.BuildLarge(context.Background(), blocks, perBlock)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("large chain: blocks %d..%d, %d logs, built in %s", info.First, info.Last, info.Logs, info.Took)
	rs := redistest.New(b)
	rdb := rs.Client(b)
	ix := &mapIndex{family: chains.FamilyEVM, addrs: map[chains.AddrKey]string{}}
	for i := range 10 { // BuildLarge's recipients are 0x10000 + i, i < 1000
		ix.addrs[evm.AddrKey(common.BigToAddress(big.NewInt(int64(0x10000+i*100))))] = "acct"
	}
	ctx := context.Background()
	var reqs uint64
	credited := 0
	for b.Loop() {
		b.StopTimer()
		if err := rdb.FlushAll(ctx).Err(); err != nil {
			b.Fatal(err)
		}
		src, err := evm.New(evm.Config{
			Chain: "ethereum", Endpoints: []string{chain.URL()}, MaxRange: rangeSize, TargetLogs: rangeSize * perBlock,
			Tokens: []evm.Token{{Symbol: "USDT", Contract: info.Token, Decimals: 6}},
		})
		if err != nil {
			b.Fatal(err)
		}
		w, err := New(src, ix, &recorder{rdb: rdb}, rdb, Config{
			Family: chains.FamilyEVM, Tokens: []Token{{Symbol: "USDT"}}, Policy: PolicyConfirmations, Required: 1,
			StartBlock: info.First, MaxRange: rangeSize, ProgressEvery: time.Hour,
		}, Options{Metrics: testMetrics(b), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := w.Poll(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		reqs += src.Requests()
		src.Close()
		_, n := (&recorder{rdb: rdb}).credited(b)
		credited += n
		b.StartTimer()
	}
	passes := float64(b.N)
	if want := int(passes) * blocks * perBlock / 100; credited != want {
		b.Fatalf("credited %d, want %d", credited, want)
	}
	sec := b.Elapsed().Seconds()
	span := float64(info.Last - info.First + 1)
	b.ReportMetric(passes*span/sec, "blocks/s")
	b.ReportMetric(passes*float64(info.Logs)/sec, "logs/s")
	b.ReportMetric(float64(reqs)/(passes*span), "req/block")
	b.ReportMetric(float64(credited)/sec, "credits/s")
}
