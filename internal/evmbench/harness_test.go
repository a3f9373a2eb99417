package evmbench

import (
	"context"
	"testing"
	"time"

	"github.com/depositd/depositd/internal/devnet/evmnet"
	"github.com/depositd/depositd/internal/ledgercredit"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/settlement/ledger"
	"github.com/depositd/depositd/watchers"
)

// buildSpan builds a BuildLarge chain of blocks × perBlock logs; keep
// closes it when tb ends unless the caller shares it beyond tb.
func buildSpan(tb testing.TB, blocks, perBlock int, keep bool) Span {
	tb.Helper()
	chain, err := evmnet.New()
	if err != nil {
		tb.Fatal(err)
	}
	if !keep {
		tb.Cleanup(func() { chain.Close() })
	}
	info, err := chain.BuildLarge(context.Background(), blocks, perBlock)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("chain: blocks %d..%d, %d Transfer logs, built in %s", info.First, info.Last, info.Logs, info.Took)
	return Span{URL: chain.URL(), Large: info}
}

// crediterCase makes a fresh crediter on an emptied redis.
type crediterCase struct {
	name string
	make func(tb testing.TB, rs *redistest.Server) (watchers.Crediter, func() int64)
}

var crediterCases = []crediterCase{
	{"ledger", func(tb testing.TB, rs *redistest.Server) (watchers.Crediter, func() int64) {
		rdb := rs.Client(tb)
		l := ledger.New(rdb, time.Now)
		if err := OpenAccounts(context.Background(), l, len(WatchedRecipients())); err != nil {
			tb.Fatal(err)
		}
		c := &ledgercredit.Crediter{Ledger: l, Rate: ledgercredit.OneUSD}
		return c, c.Applied
	}},
	{"setnx", func(tb testing.TB, rs *redistest.Server) (watchers.Crediter, func() int64) {
		c := &NXRecorder{RDB: rs.Client(tb)}
		return c, c.Applied
	}},
}

// TestHarnessTiny runs every measurement of the benchmarks at a tiny size:
// 25 blocks × 40 logs (10 deposits), a 5,000-address index, and a short
// steady run with 20 ms blocks.
func TestHarnessTiny(t *testing.T) {
	ctx := context.Background()
	span := buildSpan(t, 25, 40, false)
	ix := NewIndex(5000, WatchedRecipients())
	if ix.Len() != 5000 {
		t.Fatalf("index holds %d addresses, want 5000", ix.Len())
	}
	t.Run("floor", func(t *testing.T) {
		p, err := Floor(ctx, span)
		if err != nil {
			t.Fatal(err)
		}
		if p.Logs != 1000 || p.Requests != 1 {
			t.Fatalf("floor read %d logs in %d requests, want 1000 in 1", p.Logs, p.Requests)
		}
	})
	for _, cc := range crediterCases {
		t.Run("backfill/"+cc.name, func(t *testing.T) {
			rs := redistest.New(t)
			cr, applied := cc.make(t, rs)
			p, err := Backfill(ctx, span, ix, cr, applied, span.WantDeposits(), rs.Client(t))
			if err != nil {
				t.Fatal(err)
			}
			if applied() != 10 || p.Requests == 0 {
				t.Fatalf("%d credits, %d requests; want 10 credits", applied(), p.Requests)
			}
		})
	}
	t.Run("backfill/none watched", func(t *testing.T) {
		rs := redistest.New(t)
		cr := &NXRecorder{RDB: rs.Client(t)}
		if _, err := Backfill(ctx, span, NewIndex(5000, nil), cr, cr.Applied, 0, rs.Client(t)); err != nil {
			t.Fatal(err)
		}
		rs2 := redistest.New(t) // a fresh redis: the first watcher stored its cursor
		cr2 := &NXRecorder{RDB: rs2.Client(t)}
		if _, err := Backfill(ctx, span, ix, cr2, cr2.Applied, 0, rs2.Client(t)); err == nil {
			t.Fatal("10 unexpected credits not reported")
		}
	})
	t.Run("steady refuses no warmup", func(t *testing.T) {
		_, err := RunSteady(ctx, Steady{BlockEvery: time.Millisecond, Blocks: 1, Required: 1, Timeout: time.Second}, ix, nil)
		if err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("steady", func(t *testing.T) {
		rs := redistest.New(t)
		cfg := Steady{BlockEvery: 20 * time.Millisecond, Warmup: 2, Blocks: 10, Poll: 20 * time.Millisecond,
			ProbeInterval: time.Second, Required: 2, Deposits: 2, Others: 3, Timeout: 30 * time.Second}
		r, err := RunSteady(ctx, cfg, ix, rs.Client(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Delays) != 20 || r.Requests == 0 {
			t.Fatalf("%d delays, %d requests; want 20 delays", len(r.Delays), r.Requests)
		}
		if r.Methods["eth_getBlockByNumber"] == 0 || r.Methods["eth_getLogs"] == 0 || r.Window <= 0 {
			t.Fatalf("methods %v in %s: want block and log reads", r.Methods, r.Window)
		}
		for _, d := range r.Delays {
			if d < 0 || d > 10*time.Second {
				t.Fatalf("delay %s out of range", d)
			}
		}
	})
}

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	for _, tc := range []struct {
		name string
		ds   []time.Duration
		q    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"median of odd", ms(30, 10, 20), 0.5, 20 * time.Millisecond},
		{"p99 is the max of few", ms(1, 2, 3, 4, 5), 0.99, 5 * time.Millisecond},
		{"p0 is the min", ms(7, 3, 9), 0, 3 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.ds, tc.q); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{{nil, 0}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{7}, 7}} {
		if got := Median(tc.xs); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}
