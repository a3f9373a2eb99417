package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/outbox"
)

// BenchmarkDeliveries measures end-to-end delivery from outbox append to
// a verified receipt on a local receiver: deliveries/s and p50/p99
// latency. "burst" appends b.N events as fast as one pipeline can;
// "paced_1000/s" appends at a steady 1,000 events/s so latency excludes
// queueing behind a backlog.
func BenchmarkDeliveries(b *testing.B) {
	b.Run("burst", func(b *testing.B) { benchDeliveries(b, 0) })
	b.Run("paced_1000/s", func(b *testing.B) { benchDeliveries(b, 1000) })
}

func benchDeliveries(b *testing.B, perSecond int) {
	_, rdb := newRedis(b)
	rcv := NewReceiver([]string{testSecret}, nil)
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	done := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev struct {
			CreatedAt time.Time `json:"created_at"`
		}
		_ = json.Unmarshal(body, &ev)
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		rcv.ServeHTTP(w, r)
		mu.Lock()
		lat = append(lat, time.Since(ev.CreatedAt))
		if len(lat) == b.N {
			close(done)
		}
		mu.Unlock()
	}))
	b.Cleanup(hook.Close)
	d, err := NewDispatcher(rdb, []Endpoint{endpointFor("bench", hook.URL)}, Options{
		Consumer: "bench", Workers: 64, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		<-runErr
	})

	redisCPU0, procCPU0 := redisCPUSeconds(b, rdb), processCPUSeconds()
	b.ResetTimer()
	start := time.Now()
	var tick *time.Ticker
	if perSecond > 0 {
		tick = time.NewTicker(time.Second / time.Duration(perSecond/10)) // batches of 10
		defer tick.Stop()
	}
	batch := 100
	if perSecond > 0 {
		batch = 10
	}
	for i := 0; i < b.N; i += batch {
		if tick != nil {
			<-tick.C
		}
		pipe := rdb.Pipeline()
		for j := i; j < min(i+batch, b.N); j++ {
			pipe.XAdd(ctx, &redis.XAddArgs{Stream: outbox.Stream(j % outbox.Shards), Values: []any{
				outbox.FieldID, fmt.Sprintf("evt_b%07d", j), outbox.FieldType, outbox.DepositCredited,
				outbox.FieldCreatedAt, time.Now().UTC().Format(time.RFC3339Nano),
				outbox.FieldData, `{"account":"acc_1","amount":"12.500000","chain":"tron"}`,
			}})
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(5*time.Minute + time.Duration(b.N)*time.Millisecond):
		b.Fatalf("only %d of %d delivered", rcv.Unique(), b.N)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	redisCPU := redisCPUSeconds(b, rdb) - redisCPU0
	procCPU := processCPUSeconds() - procCPU0
	mu.Lock()
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(p(0.50), "p50_ms")
	b.ReportMetric(p(0.99), "p99_ms")
	mu.Unlock()
	// CPU spent per delivery, so that figures from a shared machine can be
	// read against its load: the test process (dispatcher, receiver and
	// producer) and redis-server.
	b.ReportMetric(procCPU*1e6/float64(b.N), "proc_cpu_us/op")
	b.ReportMetric(redisCPU*1e6/float64(b.N), "redis_cpu_us/op")
}

// redisCPUSeconds reads redis-server's user+system CPU time.
func redisCPUSeconds(b *testing.B, rdb redis.UniversalClient) float64 {
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	total := 0.0
	for _, line := range strings.Split(info, "\r\n") {
		k, v, _ := strings.Cut(line, ":")
		if k == "used_cpu_user" || k == "used_cpu_sys" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatalf("INFO cpu %s: %v", line, err)
			}
			total += f
		}
	}
	return total
}

// processCPUSeconds is this process's user+system CPU time.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
