package webhooks

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/outbox"
)

// testSecret and testSecret2 are valid whsec_ secrets (32-byte keys).
var (
	testSecret  = "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	testSecret2 = "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Now().Truncate(time.Second)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// newRedis starts a private Redis of the topology redistest.TopologyEnv
// selects and returns a client whose pool fits 16 blocking readers plus
// workers.
func newRedis(t testing.TB) (redistest.Deployment, redis.UniversalClient) {
	t.Helper()
	d := redistest.NewDeployment(t)
	srv, ok := d.(*redistest.Server)
	if !ok {
		return d, d.Connect(t) // Cluster and Sentinel clients have pools of 128
	}
	return d, standaloneClient(t, srv)
}

func standaloneClient(t testing.TB, srv *redistest.Server) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), PoolSize: 128})
	t.Cleanup(func() { c.Close() })
	return c
}

// testEnv is a dispatcher under a fake clock with exact (unjittered)
// delays and a private metrics registry.
type testEnv struct {
	rdb   redis.UniversalClient
	d     *Dispatcher
	clock *fakeClock
	reg   *prometheus.Registry
	logs  *syncBuffer
}

func newEnv(t *testing.T, rdb redis.UniversalClient, eps []Endpoint) *testEnv {
	t.Helper()
	e := &testEnv{rdb: rdb, clock: newFakeClock(), reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	d, err := NewDispatcher(rdb, eps, Options{
		Consumer: "test", Now: e.clock.Now, Jitter: func(d time.Duration) time.Duration { return d },
		Logger: slog.New(slog.NewJSONHandler(e.logs, nil)), Registerer: e.reg, LeaseMargin: time.Second,
	})
	if err != nil {
		t.Fatalf("NewDispatcher: %v", err)
	}
	e.d = d
	return e
}

// pump moves every new outbox entry into deliveries, without blocking.
func (e *testEnv) pump(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, s := range outbox.Streams() {
		if err := e.d.ensureGroup(ctx, s); err != nil {
			t.Fatalf("group %s: %v", s, err)
		}
		msgs, err := e.d.read(ctx, s, ">", -1)
		if err != nil && err != redis.Nil {
			t.Fatalf("read %s: %v", s, err)
		}
		if err := e.d.store(ctx, s, msgs); err != nil {
			t.Fatalf("store %s: %v", s, err)
		}
	}
}

// drain attempts every delivery due at the fake clock's now and returns
// how many it attempted.
func (e *testEnv) drain(t *testing.T) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	for {
		jobs, err := e.d.claim(ctx, claimBatch)
		if err != nil {
			t.Fatalf("claim: %v", err)
		}
		if len(jobs) == 0 {
			return n
		}
		var wg sync.WaitGroup
		for _, j := range jobs {
			wg.Go(func() { e.d.attempt(ctx, j) })
		}
		wg.Wait()
		n += len(jobs)
	}
}

func (e *testEnv) delivery(t *testing.T, id string) Delivery {
	t.Helper()
	dl, err := e.d.Delivery(context.Background(), id)
	if err != nil {
		t.Fatalf("Delivery(%s): %v", id, err)
	}
	return dl
}

// addEvent appends an event to the outbox stream of a shard, as the
// ledger does.
func addEvent(t testing.TB, rdb redis.Cmdable, shard int, id, typ string, created time.Time) {
	t.Helper()
	err := rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: outbox.Stream(shard), Values: []any{
		outbox.FieldID, id, outbox.FieldType, typ,
		outbox.FieldCreatedAt, created.UTC().Format(time.RFC3339Nano),
		outbox.FieldData, `{"account":"acc_1","amount":"12.500000"}`,
	}}).Err()
	if err != nil {
		t.Fatalf("xadd: %v", err)
	}
}

// endpointFor returns an endpoint posting to a test server.
func endpointFor(name, url string) Endpoint {
	return Endpoint{Name: name, URL: url, Secrets: []string{testSecret}, Timeout: 5 * time.Second, AllowPrivate: true}
}

// statusServer answers every request with a fixed status and counts them.
func statusServer(t *testing.T, code int) (*httptest.Server, *counter) {
	t.Helper()
	c := &counter{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.add()
		w.WriteHeader(code)
	}))
	t.Cleanup(srv.Close)
	return srv, c
}

type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) add() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

func (c *counter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// nil2 is a client that is never dialled: NewDispatcher does not touch Redis.
func nil2(t *testing.T) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { c.Close() })
	return c
}

// counterValue reads a counter's current value.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func slogJSON(w *syncBuffer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

// attempt sends one leased delivery and records its outcome at once, as
// the due loop does in batches.
func (d *Dispatcher) attempt(ctx context.Context, j job) {
	if out, ok := d.decide(ctx, j); ok {
		d.record(ctx, []completion{{j, out}})
	}
}
