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
// service — in alternating order, so ratio = backfill / floor compares
// passes under the same machine load. Goal: ratio ≤ 1.3. Wall time is at
// the mercy of other processes on a shared machine, so cpu_ratio (this
// process's CPU time, client and in-process node together; redis-server
// not counted) is reported beside it.
func BenchmarkTronBackfill(b *testing.B) {
	c := buildTB(b, benchBlocks)
	ix := NewIndex(benchWatched, true)
	ctx := context.Background()
	// Warm the node and the process before timing: one untimed floor pass,
	// and the index build's garbage collected, so the first timed pass is
	// not charged for either.
	if _, err := Floor(ctx, c); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var took, floor, tookCPU, floorCPU time.Duration
	for i := 0; b.Loop(); i++ {
		rs := redistest.New(b)
		rdb := rs.Client(b)
		cr := &evmbench.NXRecorder{RDB: rdb}
		runFloor := func() {
			cpu0 := cpuTime(b)
			d, err := Floor(ctx, c)
			if err != nil {
				b.Fatal(err)
			}
			floor, floorCPU = floor+d, floorCPU+cpuTime(b)-cpu0
		}
		if i%2 == 0 {
			runFloor()
		}
		cpu0 := cpuTime(b)
		d, err := Backfill(ctx, c, ix, cr, cr.Applied, len(c.Deposits), rdb)
		if err != nil {
			b.Fatal(err)
		}
		took, tookCPU = took+d, tookCPU+cpuTime(b)-cpu0
		if i%2 == 1 {
			runFloor()
		}
	}
	blocks := float64(b.N) * float64(c.Blocks())
	b.ReportMetric(blocks/took.Seconds(), "blocks/s")
	b.ReportMetric(blocks/floor.Seconds(), "floor_blocks/s")
	b.ReportMetric(took.Seconds()/floor.Seconds(), "ratio")
	b.ReportMetric(tookCPU.Seconds()/floorCPU.Seconds(), "cpu_ratio")
	b.ReportMetric(float64(b.N*len(c.Deposits))/took.Seconds(), "credits/s")
}

// cpuTime is the user and system CPU time of the whole process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
