package watchers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/evm"
	"github.com/depositd/depositd/internal/devnet/evmnet"
	"github.com/depositd/depositd/internal/redistest"
)

const benchBlocks, benchPerBlock, benchRange = 5000, 40, 100

var (
	benchOnce  sync.Once
	benchChain *evmnet.Chain
	benchInfo  evmnet.Large
	benchErr   error
)

// BenchmarkWatcherBackfill runs the final tier over the large simulated
// chain (5,000 blocks × 40 Transfer logs, as BenchmarkGetLogsFloor in
// internal/devnet/evmnet reads it, 100-block ranges) through the HTTP
// adapter into a real redis-server (AOF, appendfsync always). "watched=0"
// is the scan alone; "watched=10" watches 10 of BuildLarge's 1,000
// recipients: 2,000 deposits credited. Compare blocks/s and req/block with
// the floor.
func BenchmarkWatcherBackfill(b *testing.B) {
	benchOnce.Do(func() {
		if benchChain, benchErr = evmnet.New(); benchErr == nil {
			benchInfo, benchErr = benchChain.BuildLarge(context.Background(), benchBlocks, benchPerBlock)
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	b.Logf("large chain: blocks %d..%d, %d logs, built in %s", benchInfo.First, benchInfo.Last, benchInfo.Logs, benchInfo.Took)
	for _, watched := range []int{0, 10} {
		b.Run(fmt.Sprintf("watched=%d", watched), func(b *testing.B) { benchBackfill(b, watched) })
	}
}

func benchBackfill(b *testing.B, watched int) {
	chain, info := benchChain, benchInfo
	blocks, perBlock, rangeSize := benchBlocks, benchPerBlock, uint64(benchRange)
	rs := redistest.New(b)
	rdb := rs.Client(b)
	ix := &mapIndex{family: chains.FamilyEVM, addrs: map[chains.AddrKey]string{}}
	for i := range watched { // BuildLarge's recipients are 0x10000 + i, i < 1000
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
			Chain: "ethereum", Endpoints: []string{chain.URL()}, MaxRange: rangeSize, TargetLogs: int(rangeSize) * perBlock,
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
	if want := int(passes) * blocks * perBlock * watched / 1000; credited != want {
		b.Fatalf("credited %d, want %d", credited, want)
	}
	sec := b.Elapsed().Seconds()
	span := float64(info.Last - info.First + 1)
	b.ReportMetric(passes*span/sec, "blocks/s")
	b.ReportMetric(passes*float64(info.Logs)/sec, "logs/s")
	b.ReportMetric(float64(reqs)/(passes*span), "req/block")
	b.ReportMetric(float64(credited)/sec, "credits/s")
}
