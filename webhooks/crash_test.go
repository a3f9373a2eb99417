package webhooks

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/outbox"
)

// Environment of a dispatcher child process started by the crash test.
const (
	envChild    = "WEBHOOKS_CRASH_CHILD"
	envRedis    = "WEBHOOKS_CRASH_REDIS"
	envReceiver = "WEBHOOKS_CRASH_RECEIVER"
)

func TestMain(m *testing.M) {
	if name := os.Getenv(envChild); name != "" {
		os.Exit(runCrashChild(name))
	}
	os.Exit(m.Run())
}

// crashEndpoint is the child's endpoint: the schedule scaled from days to
// seconds.
func crashEndpoint(url string) Endpoint {
	ep := endpointFor("crash", url)
	ep.Timeout = time.Second
	ep.Schedule = []time.Duration{0, 20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
		200 * time.Millisecond, 300 * time.Millisecond, 500 * time.Millisecond, time.Second, time.Second, 2 * time.Second}
	return ep
}

// runCrashChild is a dispatcher process that runs until it is killed.
func runCrashChild(name string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv(envRedis), PoolSize: 64})
	defer rdb.Close()
	d, err := NewDispatcher(rdb, []Endpoint{crashEndpoint(os.Getenv(envReceiver))}, Options{
		Consumer: name, Workers: 32, PollInterval: 20 * time.Millisecond, ReadBlock: 100 * time.Millisecond,
		ClaimIdle: 500 * time.Millisecond, LeaseMargin: 500 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := d.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestCrashKillAndRedisRestart delivers 2,000 events to a receiver that
// fails 30% of first attempts while dispatcher processes are killed with
// SIGKILL and redis-server is restarted, and proves every event arrives.
func TestCrashKillAndRedisRestart(t *testing.T) {
	const events = 2000
	srv := redistest.New(t) // the child processes dial it by address
	rdb := standaloneClient(t, srv)
	rcv := NewReceiver([]string{testSecret}, nil)
	var mu sync.Mutex
	seen := map[string]bool{}
	var firstFailures atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(HeaderID)
		mu.Lock()
		first := !seen[id]
		seen[id] = true
		mu.Unlock()
		if first && failFirst(id, 30) {
			firstFailures.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		rcv.ServeHTTP(w, r)
	}))
	t.Cleanup(hook.Close)

	logDir := t.TempDir()
	children := map[string]*exec.Cmd{}
	start := func(name string) *exec.Cmd {
		t.Helper()
		logf, err := os.Create(filepath.Join(logDir, name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { logf.Close() })
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envChild+"="+name, envRedis+"="+srv.Addr(), envReceiver+"="+hook.URL)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start child %s: %v", name, err)
		}
		children[name] = cmd
		return cmd
	}
	kill := func(cmd *exec.Cmd) {
		t.Helper()
		if err := cmd.Process.Kill(); err != nil {
			t.Fatalf("kill -9: %v", err)
		}
		_ = cmd.Wait()
	}
	t.Cleanup(func() {
		for _, c := range children {
			if c.ProcessState == nil {
				_ = c.Process.Kill()
				_ = c.Wait()
			}
		}
		if t.Failed() {
			for name := range children {
				b, _ := os.ReadFile(filepath.Join(logDir, name+".log"))
				t.Logf("child %s log (tail):\n%s", name, tail(b, 2000))
			}
		}
	})

	// The producer appends events gradually, retrying through the Redis
	// restart; a retried append may duplicate an entry, which the
	// deterministic delivery ids absorb.
	produced := make(chan struct{})
	var appended atomic.Int32
	go func() {
		defer close(produced)
		prod := redis.NewClient(&redis.Options{Addr: srv.Addr()})
		defer prod.Close()
		for i := 0; i < events; {
			id := fmt.Sprintf("evt_crash_%05d", i)
			err := prod.XAdd(context.Background(), &redis.XAddArgs{Stream: outbox.Stream(i % outbox.Shards), Values: []any{
				outbox.FieldID, id, outbox.FieldType, outbox.DepositCredited,
				outbox.FieldCreatedAt, time.Now().UTC().Format(time.RFC3339Nano),
				outbox.FieldData, fmt.Sprintf(`{"n":%d}`, i),
			}}).Err()
			if err != nil {
				time.Sleep(10 * time.Millisecond) // the test's producer waits out the restart
				continue
			}
			appended.Store(int32(i + 1))
			i++
			if i%20 == 0 {
				time.Sleep(5 * time.Millisecond) // about 4,000 appends a second
			}
		}
	}()

	a := start("A")
	waitFor(t, 30*time.Second, func() bool { return rcv.Unique() >= 300 })
	kill(a)
	t.Logf("killed A at %d received, %d appended", rcv.Unique(), appended.Load())
	b := start("B")
	waitFor(t, 30*time.Second, func() bool { return rcv.Unique() >= 800 })
	if err := srv.Restart(context.Background()); err != nil {
		t.Fatalf("redis restart: %v", err)
	}
	t.Logf("restarted redis at %d received, %d appended", rcv.Unique(), appended.Load())
	waitFor(t, 30*time.Second, func() bool { return rcv.Unique() >= 1300 })
	kill(b)
	t.Logf("killed B at %d received, %d appended", rcv.Unique(), appended.Load())
	start("C")
	start("D")
	<-produced
	waitFor(t, 60*time.Second, func() bool { return rcv.Unique() == events })

	counts := rcv.Counts()
	dups := 0
	for i := range events {
		id := fmt.Sprintf("evt_crash_%05d", i)
		switch n := counts[id]; {
		case n == 0:
			t.Fatalf("%s never received", id)
		case n > 1:
			dups += n - 1
		}
	}
	// Entries the killed consumers held are taken over, and every
	// delivery ends delivered.
	ctx := context.Background()
	waitFor(t, 30*time.Second, func() bool {
		for _, s := range outbox.Streams() {
			p, err := rdb.XPending(ctx, s, "webhooks").Result()
			if err != nil || p.Count != 0 {
				return false
			}
		}
		return true
	})
	d, err := NewDispatcher(rdb, []Endpoint{crashEndpoint(hook.URL)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() bool {
		ids, _ := listAll(t, d, Filter{Status: StatusDelivered, Limit: 500})
		return len(ids) == events
	})
	t.Logf("%d events delivered; %d first attempts failed on purpose; %d duplicate receipts (at-least-once)",
		events, firstFailures.Load(), dups)
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
