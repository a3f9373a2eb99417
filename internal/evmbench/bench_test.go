package evmbench

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/watchers"
)

// Run with: go test -run '^$' -bench . -benchtime 1x ./internal/evmbench
//
// The backfill chain (5,000 blocks × 40 Transfer logs = 200,000 logs, 1 in
// 100 to a watched recipient) is built once per test binary; the build
// takes about a minute on 2 shared cores and is logged.
const (
	largeBlocks   = 5000
	largePerBlock = 40
	watchedTotal  = 1_000_000
)

var (
	largeOnce  sync.Once
	largeSpan  Span
	largeIndex *Index
)

func large(b *testing.B) (Span, *Index) {
	largeOnce.Do(func() {
		largeSpan = buildSpan(b, largeBlocks, largePerBlock, true) // lives as long as the test binary
		start := time.Now()
		largeIndex = NewIndex(watchedTotal, WatchedRecipients())
		b.Logf("index: %d addresses in %s", largeIndex.Len(), time.Since(start))
	})
	if largeIndex == nil {
		b.Fatal("large chain not built (see the first benchmark's failure)")
	}
	return largeSpan, largeIndex
}

// BenchmarkBackfillFloor is the bare eth_getLogs loop over the backfill
// chain in ranges of Range blocks.
func BenchmarkBackfillFloor(b *testing.B) {
	span, _ := large(b)
	var took time.Duration
	var reqs uint64
	for b.Loop() {
		p, err := Floor(context.Background(), span)
		if err != nil {
			b.Fatal(err)
		}
		took += p.Took
		reqs += p.Requests
	}
	blocks := float64(b.N) * float64(span.Blocks())
	b.ReportMetric(blocks/took.Seconds(), "blocks/s")
	b.ReportMetric(float64(b.N*span.Large.Logs)/took.Seconds(), "logs/s")
	b.ReportMetric(float64(reqs)/blocks, "requests/block")
}

// BenchmarkBackfill is one watcher poll from the chain's first block
// (final tier crediting every deposit, 1 confirmation) against 1,000,000
// watched addresses, crediting through the ledger or a SET NX recorder.
// Each iteration also runs the floor loop right before, so ratio =
// backfill time / floor time compares runs under the same machine load;
// median_ratio is the median of the iterations' ratios (run several
// iterations, -benchtime 5x, when other work shares the machine).
// "crediter=none" watches 1,000,000 addresses none of which is paid: the
// scan and matching alone.
func BenchmarkBackfill(b *testing.B) {
	span, ix := large(b)
	noneWatched := NewIndex(watchedTotal, nil)
	cases := append([]crediterCase{{"none", func(tb testing.TB, rs *redistest.Server) (watchers.Crediter, func() int64) {
		c := &NXRecorder{RDB: rs.Client(tb)}
		return c, c.Applied
	}}}, crediterCases...)
	for _, cc := range cases {
		b.Run("crediter="+cc.name, func(b *testing.B) {
			ix, want := ix, span.WantDeposits()
			if cc.name == "none" {
				ix, want = noneWatched, 0
			}
			var took, floor time.Duration
			var reqs uint64
			var ratios []float64
			for b.Loop() {
				b.StopTimer()
				rs := redistest.New(b)
				cr, applied := cc.make(b, rs)
				fp, err := Floor(context.Background(), span)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				p, err := Backfill(context.Background(), span, ix, cr, applied, want, rs.Client(b))
				if err != nil {
					b.Fatal(err)
				}
				took, floor, reqs = took+p.Took, floor+fp.Took, reqs+p.Requests
				ratios = append(ratios, p.Took.Seconds()/fp.Took.Seconds())
			}
			blocks := float64(b.N) * float64(span.Blocks())
			b.ReportMetric(blocks/took.Seconds(), "blocks/s")
			b.ReportMetric(blocks/floor.Seconds(), "floor_blocks/s")
			b.ReportMetric(took.Seconds()/floor.Seconds(), "ratio")
			b.ReportMetric(Median(ratios), "median_ratio")
			b.ReportMetric(float64(reqs)/blocks, "requests/block")
			b.ReportMetric(float64(b.N*want)/took.Seconds(), "credits/s")
		})
	}
}

// timeScale is how much faster than real time the steady-state chain
// runs: 1 s blocks become 100 ms blocks and every interval is divided the
// same way, so a 12 s poll is 1.2 s.
const timeScale = 10

// BenchmarkSteadyStateRequests follows a chain of (scaled) 1 s blocks, 2
// deposits and 48 other transfers each, for 120 measured blocks, with the
// evm client's endpoint probes running as in the daemon (15 s, scaled), and
// reports the client's requests per block (batch elements counted one
// each) at a 12 s and a 1 s poll interval, the mean block interval the
// producer achieved (block_s, in unscaled seconds; 1 when it kept up) and
// logs the requests per block by method.
func BenchmarkSteadyStateRequests(b *testing.B) {
	_, ix := large(b)
	for _, tc := range []struct {
		name string
		poll time.Duration
	}{
		{"poll=12s", 12 * time.Second},
		{"poll=1s", time.Second},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := Steady{
				BlockEvery: time.Second / timeScale, Warmup: 15, Blocks: 120, Poll: tc.poll / timeScale,
				ProbeInterval: 15 * time.Second / timeScale, Required: 12, Deposits: 2, Others: 48,
				Timeout: 2 * time.Minute,
			}
			var perBlock, blockS float64
			for b.Loop() {
				r := runSteady(b, cfg, ix)
				perBlock += r.PerBlock()
				blockS += r.Window.Seconds() * timeScale / float64(r.Blocks)
				for m, n := range r.Methods {
					b.Logf("%s: %.3f per block", m, float64(n)/float64(r.Blocks))
				}
			}
			b.ReportMetric(perBlock/float64(b.N), "requests/block")
			b.ReportMetric(blockS/float64(b.N), "block_s")
		})
	}
}

// BenchmarkCreditLatency measures, in real time (1 s blocks, 1 s poll, 3
// confirmations, 3 deposits per block over 40 measured blocks), the delay
// from the block that brings a deposit's block to the policy being
// committed to the deposit's credit in the ledger.
func BenchmarkCreditLatency(b *testing.B) {
	_, ix := large(b)
	cfg := Steady{
		BlockEvery: time.Second, Warmup: 3, Blocks: 40, Poll: time.Second, ProbeInterval: 15 * time.Second,
		Required: 3, Deposits: 3, Others: 17, Timeout: 2 * time.Minute,
	}
	var delays []time.Duration
	for b.Loop() {
		delays = append(delays, runSteady(b, cfg, ix).Delays...)
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(Percentile(delays, 0.5)), "p50_ms")
	b.ReportMetric(ms(Percentile(delays, 0.99)), "p99_ms")
	b.ReportMetric(ms(Percentile(delays, 1)), "max_ms")
	b.ReportMetric(float64(len(delays)), "deposits")
}

func runSteady(b *testing.B, cfg Steady, ix *Index) SteadyResult {
	b.Helper()
	rs := redistest.New(b)
	r, err := RunSteady(context.Background(), cfg, ix, rs.Client(b))
	if err != nil {
		b.Fatal(err)
	}
	if want := cfg.Blocks * cfg.Deposits; len(r.Delays) != want {
		b.Fatalf("%d credit delays, want %d", len(r.Delays), want)
	}
	return r
}
