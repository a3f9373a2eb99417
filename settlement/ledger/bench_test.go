package ledger

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
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

// meter measures CPU time per credit on both sides, which a shared machine
// disturbs far less than wall-clock rates: redis-server's own (INFO cpu)
// and this process's (getrusage).
type meter struct {
	e             *env
	redis, client float64 // seconds at start
}

func startMeter(b *testing.B, e *env) *meter {
	m := &meter{e: e}
	m.redis, m.client = redisCPU(b, e), clientCPU(b)
	b.ResetTimer()
	return m
}

func (m *meter) report(b *testing.B, credits int64) {
	b.StopTimer()
	b.ReportMetric(float64(credits)/b.Elapsed().Seconds(), "credits/s")
	if credits > 0 {
		b.ReportMetric((redisCPU(b, m.e)-m.redis)*1e6/float64(credits), "redis-cpu-µs/credit")
		b.ReportMetric((clientCPU(b)-m.client)*1e6/float64(credits), "client-cpu-µs/credit")
	}
}

func redisCPU(b *testing.B, e *env) float64 {
	info, err := e.rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		if k == "used_cpu_sys" || k == "used_cpu_user" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatal(err)
			}
			total += f
		}
	}
	return total
}

func clientCPU(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkCredit is one Credit at a time: two round trips each.
func BenchmarkCredit(b *testing.B) {
	e, next := benchEnv(b)
	m := startMeter(b, e)
	ctx := context.Background()
	var credits int64
	for b.Loop() {
		if _, err := e.l.Credit(ctx, next()); err != nil {
			b.Fatal(err)
		}
		credits++
	}
	m.report(b, credits)
}

// BenchmarkCreditParallel is many goroutines calling Credit, as several
// chain watchers would.
func BenchmarkCreditParallel(b *testing.B) {
	e, next := benchEnv(b)
	m := startMeter(b, e)
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
	m.report(b, credits.Load())
}

// BenchmarkCreditBatch credits through CreditBatch, 256 deposits per call
// (a watcher's block range): one op is one credit.
func BenchmarkCreditBatch(b *testing.B) {
	e, next := benchEnv(b)
	m := startMeter(b, e)
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
	m.report(b, credits)
}

// BenchmarkCreditBatchParallel is 4*GOMAXPROCS goroutines each crediting
// through CreditBatch, 256 per call, as several chain watchers would.
func BenchmarkCreditBatchParallel(b *testing.B) {
	e, next := benchEnv(b)
	m := startMeter(b, e)
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
	m.report(b, credits.Load())
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
