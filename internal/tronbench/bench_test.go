package tronbench

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/depositd/depositd/internal/evmbench"
	"github.com/depositd/depositd/internal/redistest"
)

const (
	benchBlocks  = 10_000    // blocks backfilled, one transfer each
	benchWatched = 1_000_000 // addresses in the index
)

// BenchmarkTronBackfill is one watcher poll from the chain's first
// transfer block to the solidified height (final tier, solidified policy,
// ranges of Range blocks, the adapter's default concurrency) against
// 1,000,000 indexed addresses, 1 transfer in 100 a deposit credited through
// a SET NX recorder. Each iteration also runs the floor — a bare sequential
// GetTransactionInfoByBlockNum loop over the same blocks on the same
// service — ListFloor and Scan, in rotating order, so ratio = backfill / floor
// compares passes under the same machine load. Goal: ratio ≤ 1.3.
//
// Wall time is at the mercy of other processes on a shared machine, so
// cpu_ratio (this process's CPU time, client and in-process node together;
// redis-server not counted) is reported beside it; list_ratio is ListFloor
// / Floor, the share of the gap the block list alone explains, scan_ratio
// Scan / Floor, the adapter's share (the rest is the watcher's); calls/block
// is what the watcher asked of the node per block.
func BenchmarkTronBackfill(b *testing.B) { benchBackfill(b, true) }

// BenchmarkTronBackfillNoDeposits is BenchmarkTronBackfill with 1,000,000
// indexed addresses none of which is paid: the scan, matching and the
// watcher's per-range Redis writes, without the credits.
func BenchmarkTronBackfillNoDeposits(b *testing.B) { benchBackfill(b, false) }

func benchBackfill(b *testing.B, watched bool) {
	c := buildTB(b, benchBlocks)
	ix := NewIndex(benchWatched, watched)
	want := 0
	if watched {
		want = len(c.Deposits)
	}
	ctx := context.Background()
	// Warm the node and the process before timing: one untimed floor pass,
	// and the index build's garbage collected, so the first timed pass is
	// not charged for either.
	if _, err := ListFloor(ctx, c); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	type cost struct{ wall, cpu time.Duration }
	var back, bare, list, scan cost
	calls := 0
	timed := func(sum *cost, f func() (time.Duration, error)) {
		cpu0 := cpuTime(b)
		d, err := f()
		if err != nil {
			b.Fatal(err)
		}
		sum.wall, sum.cpu = sum.wall+d, sum.cpu+cpuTime(b)-cpu0
	}
	for i := 0; b.Loop(); i++ {
		rs := redistest.New(b)
		rdb := rs.Client(b)
		cr := &evmbench.NXRecorder{RDB: rdb}
		passes := []func(){
			func() { timed(&bare, func() (time.Duration, error) { return Floor(ctx, c) }) },
			func() { timed(&list, func() (time.Duration, error) { return ListFloor(ctx, c) }) },
			func() { timed(&scan, func() (time.Duration, error) { return Scan(ctx, c) }) },
			func() {
				before := nodeCalls(b, c)
				timed(&back, func() (time.Duration, error) {
					return Backfill(ctx, c, ix, cr, cr.Applied, want, rdb)
				})
				calls += nodeCalls(b, c) - before
			},
		}
		for j := range passes {
			passes[(i+j)%len(passes)]()
		}
	}
	blocks := float64(b.N) * float64(c.Blocks())
	b.ReportMetric(blocks/back.wall.Seconds(), "blocks/s")
	b.ReportMetric(blocks/bare.wall.Seconds(), "floor_blocks/s")
	b.ReportMetric(back.wall.Seconds()/bare.wall.Seconds(), "ratio")
	b.ReportMetric(back.cpu.Seconds()/bare.cpu.Seconds(), "cpu_ratio")
	b.ReportMetric(list.wall.Seconds()/bare.wall.Seconds(), "list_ratio")
	b.ReportMetric(scan.wall.Seconds()/bare.wall.Seconds(), "scan_ratio")
	b.ReportMetric(float64(calls)/blocks, "calls/block")
	b.ReportMetric(float64(b.N*want)/back.wall.Seconds(), "credits/s")
}

func nodeCalls(b *testing.B, c *Chain) int {
	n, err := c.Calls()
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// cpuTime is the user and system CPU time of the whole process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
