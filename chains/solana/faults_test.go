package solana

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/internal/devnet/solnet"
)

func TestFailover(t *testing.T) {
	tests := []struct {
		name  string
		fault solnet.Fault
		// healthy is the first endpoint's health after the call.
		healthy bool
	}{
		{name: "HTTP 503", fault: solnet.Fault{HTTPStatus: 503}},
		{name: "internal JSON-RPC error", fault: solnet.Fault{Code: -32603}},
		{name: "block not available yet (-32004)", fault: solnet.Fault{Code: -32004, Methods: []string{"getBlock"}}, healthy: true},
		{name: "null block", fault: solnet.Fault{NullBlock: true}, healthy: true},
		{name: "lagging replica", fault: solnet.Fault{Lag: 3}, healthy: true},
		{name: "replica lagging on getBlocks only", fault: solnet.Fault{Lag: 3, Methods: []string{"getBlocks"}}, healthy: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := startNet(t, solnet.Options{Endpoints: 2})
			wallet := n.node.NewWallet()
			c := n.client(t, nil)
			_, err := c.Heads(ctxT(t))
			must(t, err)
			sig, err := n.node.Transfer(usdcMint, n.sender, wallet, 10)
			must(t, err)
			slot := n.node.Mine()
			// The lagging replica must see slot as its future; Heads above
			// is from before the transfer, so the range check will refresh.
			f := tc.fault
			n.node.SetFault(0, &f)
			ts, err := c.Transfers(ctxT(t), slot, slot)
			must(t, err)
			if len(ts) != 1 || ts[0].TxID != sig {
				t.Fatalf("transfers %+v; want %s", ts, sig)
			}
			eps := c.Endpoints()
			if eps[0].Healthy != tc.healthy || !eps[1].Healthy || eps[1].Requests == 0 {
				t.Fatalf("endpoints %+v; want first healthy=%v, second used", eps, tc.healthy)
			}
		})
	}
}

func TestNotYetEverywhereIsNotFound(t *testing.T) {
	n := startNet(t, solnet.Options{Endpoints: 2})
	c := n.client(t, nil)
	slot := n.node.Mine()
	for i := range 2 {
		n.node.SetFault(i, &solnet.Fault{Code: -32004, Methods: []string{"getBlock"}})
	}
	if _, err := c.Transfers(ctxT(t), slot, slot); !errors.Is(err, chains.ErrNotFound) {
		t.Fatalf("Transfers with -32004 everywhere: %v; want ErrNotFound", err)
	}
	for i := range 2 {
		n.node.SetFault(i, nil)
	}
	if _, err := c.Transfers(ctxT(t), slot, slot); err != nil {
		t.Fatalf("Transfers after recovery: %v", err)
	}
}

func TestSkippedListedSlot(t *testing.T) {
	n := startNet(t, solnet.Options{})
	c := n.client(t, nil)
	first := n.node.Mine()
	last := n.node.Mine()
	n.node.SetFault(0, &solnet.Fault{Code: -32007, Methods: []string{"getBlock"}, Calls: 1})
	hs, err := c.Headers(ctxT(t), first, last)
	must(t, err)
	if len(hs) != 1 {
		t.Fatalf("headers %+v; want the slot answering -32007 left out", hs)
	}
}

func TestBackoffAfterFullRound(t *testing.T) {
	n := startNet(t, solnet.Options{Endpoints: 2})
	var waits atomic.Int32
	c := n.client(t, func(cfg *Config) {
		cfg.Attempts = 5
		cfg.After = func(time.Duration) <-chan time.Time {
			waits.Add(1)
			ch := make(chan time.Time, 1)
			ch <- time.Time{}
			return ch
		}
	})
	for i := range 2 {
		n.node.SetFault(i, &solnet.Fault{HTTPStatus: 502})
	}
	if _, err := c.Heads(ctxT(t)); err == nil {
		t.Fatal("Heads with every endpoint down succeeded")
	}
	if w := waits.Load(); w != 2 {
		t.Fatalf("%d backoff waits over 5 attempts on 2 endpoints; want 2", w)
	}
	if n.node.Calls(0)["getSlot"]+n.node.Calls(1)["getSlot"] != 5 {
		t.Fatalf("calls %v %v; want 5 getSlot in all", n.node.Calls(0), n.node.Calls(1))
	}
}

func TestReorgDuringScan(t *testing.T) {
	var (
		node   atomic.Pointer[solnet.Node]
		blocks atomic.Int32
		armed  atomic.Bool
	)
	n := startNet(t, solnet.Options{OnCall: func(_ int, method string) {
		if method == "getBlock" && armed.Load() && blocks.Add(1) == 3 {
			if err := node.Load().Fork(2); err != nil {
				panic(err)
			}
		}
	}})
	node.Store(n.node)
	c := n.client(t, func(cfg *Config) { cfg.Concurrency = 1 })
	for range 3 {
		n.node.Mine()
	}
	conf, _ := n.node.Slot()
	_, err := c.Heads(ctxT(t))
	must(t, err)
	armed.Store(true)
	if _, err := c.Headers(ctxT(t), conf-2, conf); !errors.Is(err, ErrReorged) {
		t.Fatalf("Headers across a fork mid-read: %v; want ErrReorged", err)
	}
	hs, err := c.Headers(ctxT(t), conf-2, conf+1)
	must(t, err)
	if len(hs) != 4 {
		t.Fatalf("headers after the fork %+v", hs)
	}
}

func TestFinalNeverMovesBack(t *testing.T) {
	n := startNet(t, solnet.Options{FinalLag: 2})
	c := n.client(t, nil)
	for range 8 {
		n.node.Mine()
	}
	first, err := c.Heads(ctxT(t))
	must(t, err)
	n.node.SetFault(0, &solnet.Fault{Lag: 5})
	again, err := c.Heads(ctxT(t))
	must(t, err)
	if again.Final != first.Final || again.Latest != first.Latest {
		t.Fatalf("heads %+v after a lagging answer, were %+v: must not move back", again, first)
	}
	if n.node.Calls(0)["getSlot"] != 4 {
		t.Fatalf("getSlot calls %v; want both Heads served by the lagging endpoint", n.node.Calls(0))
	}
}
