package ledger

import (
	"context"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
)

// The benchmarks credit unique deposits spread over 64 accounts (all 16
// shards) on a private redis-server with appendonly yes, appendfsync always.
// Run: go test -run '^$' -bench Credit -benchtime 3s ./settlement/ledger/
// LEDGER_BENCH_FSYNC=everysec measures the same without a per-write fsync.

const benchAccounts = 64

func benchEnv(b *testing.B) (*env, func() Deposit) {
	e := newEnv(b)
	ids := make([]AccountID, benchAccounts)
	for i := range ids {
		ids[i] = AccountID("bench" + strconv.Itoa(i))
	}
	e.open(b, ids...)
	if v := os.Getenv("LEDGER_BENCH_FSYNC"); v != "" {
		e.rdb.ConfigSet(context.Background(), "appendfsync", v)
	}
	var n atomic.Int64
	next := func() Deposit {
		i := n.Add(1)
		return usdt(ids[i%benchAccounts], "0x"+strconv.FormatInt(i, 16), uint32(i%7), 1_234567)
	}
	return e, next
}

func reportRate(b *testing.B, credits int64) {
	b.ReportMetric(float64(credits)/b.Elapsed().Seconds(), "credits/s")
}

// BenchmarkCredit is one Credit at a time: two round trips each.
func BenchmarkCredit(b *testing.B) {
	e, next := benchEnv(b)
	ctx := context.Background()
	var credits int64
	for b.Loop() {
		if _, err := e.l.Credit(ctx, next()); err != nil {
			b.Fatal(err)
		}
		credits++
	}
	reportRate(b, credits)
}

// BenchmarkCreditParallel is many goroutines calling Credit, as several
// chain watchers would.
func BenchmarkCreditParallel(b *testing.B) {
	e, next := benchEnv(b)
	ctx := context.Background()
	var credits atomic.Int64
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.l.Credit(ctx, next()); err != nil {
				b.Error(err)
				return
			}
			credits.Add(1)
		}
	})
	reportRate(b, credits.Load())
}

// BenchmarkCreditBatch credits through CreditBatch, 256 deposits per call
// (a watcher's block range): one op is one credit.
func BenchmarkCreditBatch(b *testing.B) {
	e, next := benchEnv(b)
	var credits int64
	batch := make([]Deposit, 0, batchSize)
	for b.Loop() {
		batch = append(batch, next())
		if len(batch) == batchSize {
			credits += flush(b, e, batch)
			batch = batch[:0]
		}
	}
	credits += flush(b, e, batch)
	reportRate(b, credits)
}

// BenchmarkCreditBatchParallel is 4*GOMAXPROCS goroutines each crediting
// through CreditBatch, 256 per call, as several chain watchers would.
func BenchmarkCreditBatchParallel(b *testing.B) {
	e, next := benchEnv(b)
	var credits atomic.Int64
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		batch := make([]Deposit, 0, batchSize)
		for pb.Next() {
			batch = append(batch, next())
			if len(batch) == batchSize {
				credits.Add(flush(b, e, batch))
				batch = batch[:0]
			}
		}
		credits.Add(flush(b, e, batch))
	})
	reportRate(b, credits.Load())
}

const batchSize = 256

// flush credits a batch and returns how many were credited. Under load a
// pipeline can time out and go-redis resends it; the replay then reports
// Applied=false for a credit this call made, so errors alone are failures.
func flush(b *testing.B, e *env, batch []Deposit) int64 {
	if len(batch) == 0 {
		return 0
	}
	for _, r := range e.l.CreditBatch(context.Background(), batch) {
		if r.Err != nil {
			b.Error(r.Err)
			return 0
		}
	}
	return int64(len(batch))
}
