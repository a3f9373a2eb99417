package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
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
	if os.Getenv("BENCH_FSYNC") != "" {
		rdb.ConfigSet(context.Background(), "appendfsync", os.Getenv("BENCH_FSYNC"))
	}
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
	if os.Getenv("BENCH_REDIS_CPU") != "" {
		info, _ := rdb.Info(context.Background(), "cpu").Result()
		b.Log(info)
	}
	mu.Lock()
	slices.Sort(lat)
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(p(0.50), "p50_ms")
	b.ReportMetric(p(0.99), "p99_ms")
	mu.Unlock()
}
