package evm

import (
	"context"
	"testing"
	"time"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/evm/evmtest"
)

func TestPickHeads(t *testing.T) {
	n := synthNode(t)
	n.SetHeads(200, 190, 160)
	c := synthClient(t, nil, []string{n.URL()})
	ctx := context.Background()
	before := c.Requests()
	h, err := c.PickHeads(ctx, false)
	if err != nil || h != (chains.Heads{Latest: 200}) || c.Requests()-before != 1 {
		t.Fatalf("latest only: %+v, %v, %d requests", h, err, c.Requests()-before)
	}
	before = c.Requests()
	h, err = c.PickHeads(ctx, true)
	if err != nil || h != (chains.Heads{Latest: 200, Final: 160}) || c.Requests()-before != 2 {
		t.Fatalf("with final: %+v, %v, %d requests", h, err, c.Requests()-before)
	}
	n.SetHeads(150, 150, 160)
	if _, err := c.PickHeads(ctx, true); err == nil {
		t.Fatal("finalized above latest: no error")
	}
}

// TestLinkedFallsBack: a node without eth_call answers Linked through
// header batches, and once it refused near the head it is not asked again.
func TestLinkedFallsBack(t *testing.T) {
	n := synthNode(t)
	p := evmtest.NewProxy(t, n.URL())
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	c := synthClient(t, clock, []string{p.URL()})
	ctx := context.Background()
	if _, err := c.Heads(ctx); err != nil {
		t.Fatal(err)
	}
	want, err := c.Headers(ctx, synthBlocks-20, synthBlocks)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		got, err := c.Linked(ctx, synthBlocks-20, synthBlocks)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || got[0] != want[0] || got[20] != want[20] {
			t.Fatalf("linked %d headers, first %+v, want %+v", len(got), got[0], want[0])
		}
		if calls := p.Calls("eth_call"); calls != 1+i/2 {
			t.Fatalf("round %d: %d eth_call, want %d", i, calls, 1+i/2)
		}
		if i == 1 {
			clock.Add(ancestryPause + time.Second) // the next round asks again
		}
	}
	if st := c.Endpoints()[0]; !st.Healthy || st.ConsecutiveFailures != 0 {
		t.Fatalf("a refused eth_call counted as an endpoint failure: %+v", st)
	}
}

// TestRunProbesOnlyStaleEndpoints: endpoints whose head the scan read within
// the probe interval are not probed.
func TestRunProbesOnlyStaleEndpoints(t *testing.T) {
	n := synthNode(t)
	used, spare := evmtest.NewProxy(t, n.URL()), evmtest.NewProxy(t, n.URL())
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	c := synthClient(t, clock, []string{used.URL(), spare.URL()})
	ctx := context.Background()
	if _, err := c.PickHeads(ctx, false); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Second)
	if err := c.probe(ctx, clock.Now().Add(-15*time.Second)); err != nil {
		t.Fatal(err)
	}
	if u, s := used.Calls("eth_blockNumber"), spare.Calls("eth_blockNumber"); u != 0 || s != 1 {
		t.Fatalf("eth_blockNumber: used %d, spare %d; want 0 and 1", u, s)
	}
	clock.Add(time.Minute)
	if err := c.probe(ctx, clock.Now().Add(-15*time.Second)); err != nil {
		t.Fatal(err)
	}
	if u, s := used.Calls("eth_blockNumber"), spare.Calls("eth_blockNumber"); u != 1 || s != 2 {
		t.Fatalf("eth_blockNumber after a minute: used %d, spare %d; want 1 and 2", u, s)
	}
}
