package tron_test

import (
	"context"
	"testing"
	"time"

	"github.com/depositd/depositd/internal/devnet/tronnet"
	"github.com/fbsobreira/gotron-sdk/pkg/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// benchBlocks is the scanned range: blocks 1..benchBlocks, one USDT
// transfer each.
const benchBlocks = 10_000

// BenchmarkScan compares the floor — a bare sequential loop of gotron-sdk's
// GetBlockInfoByNum over the blocks — with the adapter's Transfers over the
// same blocks in ranges of 100, as the watcher calls it. Each iteration
// scans all blocks; ns/block is reported. The ratio is adapter/bare.
func BenchmarkScan(b *testing.B) {
	e := newEnv(b, tronnet.Options{})
	for range benchBlocks {
		e.transfer(b, 1)
		e.node.Mine()
	}
	ctx := context.Background()

	b.Run("bare", func(b *testing.B) {
		gc := client.NewGrpcClientWithTimeout(e.node.Addr(), 5*time.Second)
		if err := gc.Start(grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
			b.Fatal(err)
		}
		defer gc.Stop()
		for b.Loop() {
			for n := int64(1); n <= benchBlocks; n++ {
				if _, err := gc.GetBlockInfoByNumCtx(ctx, n); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBlocks), "ns/block")
	})
	for _, bc := range []struct {
		name        string
		concurrency int
	}{{"adapter", 0}, {"adapter-sequential", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			cfg := e.config()
			cfg.SolidityNodes = nil
			cfg.Concurrency = bc.concurrency
			c := e.client(b, cfg)
			for b.Loop() {
				found := 0
				for from := uint64(1); from <= benchBlocks; from += 100 {
					ts, err := c.Transfers(ctx, from, from+99)
					if err != nil {
						b.Fatal(err)
					}
					found += len(ts)
				}
				if found != benchBlocks {
					b.Fatalf("found %d transfers, want %d", found, benchBlocks)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBlocks), "ns/block")
		})
	}
}
