package tron_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/depositd/depositd/chains/tron"
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
// same blocks in ranges of 100, as the watcher calls it, at the default
// concurrency and at concurrency 1; a fourth pass is the bare loop with the
// API key and a per-call deadline, as production calls carry them. Each iteration runs the passes
// back to back, in rotating order, so they share the machine's load, and
// reports ns/block of each and the ratios adapter/bare.
func BenchmarkScan(b *testing.B) {
	e := newEnv(b, tronnet.Options{})
	for range benchBlocks {
		e.transfer(b, 1)
		e.node.Mine()
	}
	ctx := context.Background()
	gc := client.NewGrpcClientWithTimeout(e.node.Addr(), 5*time.Second)
	if err := gc.Start(grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
		b.Fatal(err)
	}
	defer gc.Stop()
	adapter := func(concurrency int) *tron.Client {
		cfg := e.config()
		cfg.SolidityNodes = nil
		cfg.Concurrency = concurrency
		return e.client(b, cfg)
	}
	concurrent, sequential := adapter(0), adapter(1)

	bare := func() {
		for n := int64(1); n <= benchBlocks; n++ {
			if _, err := gc.GetBlockInfoByNumCtx(ctx, n); err != nil {
				b.Fatal(err)
			}
		}
	}
	// The production floor: the same loop with the API key and a per-call
	// deadline, which every adapter call carries.
	keyed := client.NewGrpcClientWithTimeout(e.node.Addr(), 5*time.Second)
	if err := keyed.Start(grpc.WithTransportCredentials(insecure.NewCredentials())); err != nil {
		b.Fatal(err)
	}
	defer keyed.Stop()
	if err := keyed.SetAPIKey(apiKey); err != nil {
		b.Fatal(err)
	}
	bareKeyed := func() {
		for n := int64(1); n <= benchBlocks; n++ {
			cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := keyed.GetBlockInfoByNumCtx(cctx, n)
			cancel()
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	scan := func(c *tron.Client) {
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
	// Wall time is at the mercy of other processes on a shared machine;
	// the process's CPU time (client and in-process node together) is the
	// steadier measure of cost, so both are reported.
	type cost struct{ wall, cpu time.Duration }
	timed := func(f func()) cost {
		start, cpu0 := time.Now(), cpuTime(b)
		f()
		return cost{time.Since(start), cpuTime(b) - cpu0}
	}
	var bareC, keyedC, concC, seqC cost
	add := func(sum *cost, c cost) { sum.wall += c.wall; sum.cpu += c.cpu }
	passes := []struct {
		sum *cost
		run func()
	}{{&bareC, bare}, {&keyedC, bareKeyed}, {&concC, func() { scan(concurrent) }}, {&seqC, func() { scan(sequential) }}}
	for i := 0; b.Loop(); i++ {
		// Rotate the order so no pass always follows another's garbage.
		for j := range passes {
			p := passes[(i+j)%len(passes)]
			add(p.sum, timed(p.run))
		}
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N*benchBlocks) }
	b.ReportMetric(per(bareC.wall), "bare-ns/block")
	b.ReportMetric(per(concC.wall), "adapter-ns/block")
	b.ReportMetric(per(seqC.wall), "adapter-seq-ns/block")
	b.ReportMetric(float64(concC.wall)/float64(bareC.wall), "ratio")
	b.ReportMetric(float64(seqC.wall)/float64(bareC.wall), "ratio-seq")
	b.ReportMetric(float64(concC.cpu)/float64(bareC.cpu), "cpu-ratio")
	b.ReportMetric(float64(seqC.cpu)/float64(bareC.cpu), "cpu-ratio-seq")
	b.ReportMetric(float64(keyedC.cpu)/float64(bareC.cpu), "cpu-ratio-keyed-floor")
}

// cpuTime is the user and system CPU time of the whole process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
