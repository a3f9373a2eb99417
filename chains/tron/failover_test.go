package tron_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/depositd/depositd/chains/tron"
	"github.com/depositd/depositd/internal/devnet/tronnet"
)

// TestFailover scans the same range with faults on the first endpoints and
// checks the answer equals the fault-free one: no gaps, no extras.
func TestFailover(t *testing.T) {
	e := newEnv(t, tronnet.Options{SolidLag: 4, FullNodes: 2, SolidityNodes: 2})
	var want []string
	for range 12 {
		want = append(want, e.transfer(t, 1))
		e.node.Mine()
	}
	head := e.node.Head()
	full, solid := e.node.Addrs(), e.node.SolidityAddrs()
	tests := []struct {
		name  string
		fault func(t *testing.T)
		cfg   func(*tron.Config)
	}{
		{"no fault", func(*testing.T) {}, nil},
		{"errors on first endpoints", func(t *testing.T) {
			must(t, e.node.FailNext(full[0], 5))
			must(t, e.node.FailNext(solid[0], 5))
		}, nil},
		{"timeouts on first endpoints", func(t *testing.T) {
			must(t, e.node.DelayNext(full[0], 3, time.Minute))
			must(t, e.node.DelayNext(solid[0], 3, time.Minute))
		}, func(c *tron.Config) { c.CallTimeout = 100 * time.Millisecond }},
		{"lagging full node", func(t *testing.T) { must(t, e.node.SetLag(full[0], 6)) }, nil},
		{"every endpoint fails for a while", func(t *testing.T) {
			for _, a := range append(full, solid...) {
				must(t, e.node.FailNext(a, 2))
			}
		}, func(c *tron.Config) { c.Attempts = 8 }},
		{"full node only", func(*testing.T) {}, func(c *tron.Config) { c.SolidityNodes = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := e.config()
			cfg.Concurrency = 1
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			c := e.client(t, cfg)
			tt.fault(t)
			t.Cleanup(func() {
				for _, a := range append(full, solid...) {
					must(t, e.node.SetLag(a, 0))
					must(t, e.node.FailNext(a, 0))
					must(t, e.node.DelayNext(a, 0, 0))
				}
			})
			heads, err := c.Heads(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			// A lagging replica may report a lower head; never a higher one.
			if heads.Latest > head || heads.Final > heads.Latest {
				t.Fatalf("heads %+v, head %d", heads, head)
			}
			ts, err := c.Transfers(context.Background(), 1, head)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tr := range ts {
				if tr.From == alice {
					got = append(got, tr.TxID)
				}
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("got %d transfers, want %d:\n%v\n%v", len(got), len(want), got, want)
			}
		})
	}
	t.Run("endpoint health reports the failure", func(t *testing.T) {
		c := e.client(t, e.config())
		must(t, e.node.FailNext(full[0], 1))
		if _, err := c.Heads(context.Background()); err != nil {
			t.Fatal(err)
		}
		st := c.Endpoints()
		if len(st) != 4 || st[0].URL != full[0] || st[0].Healthy || !strings.Contains(st[0].LastError, "injected fault") || !st[1].Healthy {
			t.Fatalf("endpoints %+v", st)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestAPIKeyOnEveryCall(t *testing.T) {
	e := newEnv(t, tronnet.Options{SolidLag: 2})
	c := e.client(t, e.config())
	e.transfer(t, 1)
	e.mineTo(6)
	ctx := context.Background()
	heads, err := c.Heads(ctx)
	must(t, err)
	_, err = c.Transfers(ctx, 1, heads.Latest)
	must(t, err)
	_, err = c.Headers(ctx, 1, heads.Latest)
	must(t, err)
	for _, addr := range append(e.node.Addrs(), e.node.SolidityAddrs()...) {
		calls, err := e.node.Calls(addr)
		must(t, err)
		if len(calls) == 0 {
			t.Errorf("%s: no calls", addr)
		}
		for call, n := range calls {
			if call.APIKey != apiKey {
				t.Errorf("%s: %d calls of %s with key %q", addr, n, call.Method, call.APIKey)
			}
		}
	}
}

// TestReorgDuringScan forks the chain between the range read and the final
// check of Transfers: the scan must fail with ErrReorged, not return
// transfers tagged with a replaced block's hash.
func TestReorgDuringScan(t *testing.T) {
	var (
		e    env
		fork atomic.Bool
	)
	e = newEnv(t, tronnet.Options{SolidLag: 10, OnCall: func(_, method string) {
		if method == "GetBlock" && fork.CompareAndSwap(true, false) {
			if err := e.node.Fork(1); err != nil {
				t.Error(err)
			}
		}
	}})
	e.mineTo(15)
	e.transfer(t, 5)
	h, _ := e.node.Mine()
	c := e.client(t, e.config())
	ctx := context.Background()
	if _, err := c.Heads(ctx); err != nil {
		t.Fatal(err)
	}
	fork.Store(true)
	if _, err := c.Transfers(ctx, h-2, h); !errors.Is(err, tron.ErrReorged) {
		t.Fatalf("err %v, want ErrReorged", err)
	}
	t.Run("retry sees the new chain", func(t *testing.T) {
		ts, err := c.Transfers(ctx, h-2, h)
		if err != nil || len(ts) != 0 {
			t.Fatalf("transfers %+v, %v: the forked-out transfer must be gone", ts, err)
		}
	})
}

// TestLaggingSolidityReplica: a solidity replica behind the solid height
// already seen answers empty receipt lists; the adapter must fail over
// rather than report those blocks as empty.
func TestLaggingSolidityReplica(t *testing.T) {
	e := newEnv(t, tronnet.Options{SolidLag: 2, SolidityNodes: 2})
	var want []string
	for range 8 {
		want = append(want, e.transfer(t, 1))
		e.node.Mine()
	}
	c := e.client(t, e.config())
	ctx := context.Background()
	heads, err := c.Heads(ctx)
	must(t, err)
	must(t, e.node.SetLag(e.node.SolidityAddr(), 5))
	ts, err := c.Transfers(ctx, 2, heads.Final)
	must(t, err)
	if len(ts) != len(want)-2 {
		t.Fatalf("%d transfers in [2, %d], want %d", len(ts), heads.Final, len(want)-2)
	}
	// Concurrent calls below its lag may still succeed there, so the last
	// error, not the health flag, shows what happened.
	if st := c.Endpoints(); !strings.Contains(st[1].LastError, "0 infos") || !st[2].Healthy {
		t.Errorf("lagging solidity replica not recorded: %+v", st)
	}
}

// TestBackoffSchedule fails every endpoint for two rounds and checks the
// waits between rounds double from Backoff, through the injected timer.
func TestBackoffSchedule(t *testing.T) {
	e := newEnv(t, tronnet.Options{FullNodes: 2})
	cfg := e.config()
	cfg.SolidityNodes = nil
	cfg.Backoff = time.Second
	cfg.MaxBackoff = 3 * time.Second
	cfg.Attempts = 8
	var waits []time.Duration
	cfg.After = func(d time.Duration) <-chan time.Time {
		waits = append(waits, d)
		ch := make(chan time.Time, 1)
		ch <- time.Time{}
		return ch
	}
	c := e.client(t, cfg)
	for _, a := range e.node.Addrs() {
		must(t, e.node.FailNext(a, 3))
	}
	if _, err := c.Heads(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}
	if len(waits) != len(want) {
		t.Fatalf("waits %v, want %v", waits, want)
	}
	for i := range want {
		if waits[i] != want[i] {
			t.Fatalf("waits %v, want %v", waits, want)
		}
	}
}
