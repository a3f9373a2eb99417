package daemon

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/depositd/depositd/internal/redistest"
)

// TestStartWaitsForRedis: a daemon starting while redis-server is down
// (the chaos campaign started one during a Redis restart, and it exited
// on "LOADING") waits for it; without Redis it gives up after the limit.
func TestStartWaitsForRedis(t *testing.T) {
	rs := redistest.New(t)
	rdb := rs.Client(t)
	ctx := context.Background()
	if err := rdb.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	rs.Kill()
	if err := waitRedis(ctx, rdb, time.Second, slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("waitRedis answered nil with redis-server down")
	}
	done := make(chan error, 1)
	go func() { done <- waitRedis(ctx, rdb, 2*time.Minute, slog.New(slog.DiscardHandler)) }()
	time.Sleep(500 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("waitRedis returned %v before redis-server came back", err)
	default:
	}
	if err := rs.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("waitRedis after the restart: %v", err)
	}
	if v, err := rdb.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("after the restart: %q %v", v, err)
	}
}
