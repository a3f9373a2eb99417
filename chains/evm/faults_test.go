package evm

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/evm/evmtest"
)

// fakeClock is a settable clock for backoff deadlines.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var synthToken = Token{Symbol: "USDT", Contract: common.HexToAddress("0x00000000000000000000000000000000000000d1"), Decimals: 6}

const (
	synthBlocks   = 200
	synthPerBlock = 10
)

// synthNode serves 200 blocks with 10 transfers each.
func synthNode(t *testing.T) *evmtest.Node {
	t.Helper()
	n := evmtest.NewNode(t)
	if err := evmtest.Synthetic(n, synthToken.Contract, synthBlocks, synthPerBlock); err != nil {
		t.Fatal(err)
	}
	return n
}

type clientOpt func(*Config)

func synthClient(t *testing.T, clock *fakeClock, urls []string, opts ...clientOpt) *Client {
	t.Helper()
	cfg := Config{
		Chain:          "ethereum",
		Tokens:         []Token{synthToken},
		Endpoints:      urls,
		MaxRange:       200,
		MinBackoff:     time.Millisecond,
		MaxBackoff:     4 * time.Millisecond,
		RequestTimeout: 2 * time.Second,
	}
	if clock != nil {
		cfg.Now = clock.Now
	}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// checkComplete asserts ts is exactly every synthetic transfer of [from, to].
func checkComplete(t *testing.T, ts []chains.Transfer, from, to uint64) {
	t.Helper()
	want := int(to-from+1) * synthPerBlock
	if len(ts) != want {
		t.Fatalf("%d transfers, want %d", len(ts), want)
	}
	for i, tr := range ts {
		b := from + uint64(i/synthPerBlock)
		idx := uint32(i % synthPerBlock)
		if tr.Block != b || tr.Index != idx || tr.BlockHash != evmtest.BlockHash(b).Hex() || tr.Amount.Uint64() != b*1000+uint64(idx)+1 {
			t.Fatalf("transfer %d: block %d index %d amount %s hash %s", i, tr.Block, tr.Index, tr.Amount, tr.BlockHash)
		}
	}
}

// target100 keeps the range from growing back while a test watches it shrink:
// it grows only after answers of fewer than 50 logs (5 synthetic blocks).
func target100(c *Config) { c.TargetLogs = 100 }

func TestTransfersUnderFaults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault evmtest.Fault
		opts  []clientOpt
		// wantRange, if set, is the largest range size allowed after the call.
		wantRange uint64
		wantCalls int // minimum eth_getLogs calls seen by the proxy
	}{
		{"http 503 once", evmtest.Fault{Kind: evmtest.FaultHTTP, Method: "eth_getLogs", Times: 1}, nil, 0, 2},
		{"rpc error once", evmtest.Fault{Kind: evmtest.FaultError, Method: "eth_getLogs", Times: 1, Message: "internal error"}, nil, 0, 2},
		{"truncated body once", evmtest.Fault{Kind: evmtest.FaultTruncate, Method: "eth_getLogs", Times: 1}, nil, 0, 2},
		{"too many results", evmtest.Fault{Kind: evmtest.FaultTooMany, Method: "eth_getLogs", Limit: 100}, []clientOpt{target100}, 6, 6},
		{"provider range error", evmtest.Fault{Kind: evmtest.FaultError, Method: "eth_getLogs", Times: 2, Code: -32602,
			Message: "query exceeds max results 10000, response too large"}, []clientOpt{target100}, 50, 3},
		{"timeout halves", evmtest.Fault{Kind: evmtest.FaultHang, Method: "eth_getLogs", Times: 1},
			[]clientOpt{target100, func(c *Config) { c.RequestTimeout = time.Second }}, 100, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := synthNode(t)
			p := evmtest.NewProxy(t, n.URL())
			p.Inject(tc.fault)
			c := synthClient(t, nil, []string{p.URL()}, tc.opts...)
			ts, err := c.Transfers(context.Background(), 1, synthBlocks)
			if err != nil {
				t.Fatal(err)
			}
			checkComplete(t, ts, 1, synthBlocks)
			if got := p.Calls("eth_getLogs"); got < tc.wantCalls {
				t.Errorf("eth_getLogs calls %d, want ≥ %d", got, tc.wantCalls)
			}
			if tc.wantRange != 0 && c.RangeSize() > tc.wantRange {
				t.Errorf("range size %d, want ≤ %d", c.RangeSize(), tc.wantRange)
			}
		})
	}
}

func TestRangeGrowsBack(t *testing.T) {
	n := synthNode(t)
	p := evmtest.NewProxy(t, n.URL())
	p.Inject(evmtest.Fault{Kind: evmtest.FaultTooMany, Method: "eth_getLogs", Limit: 100})
	c := synthClient(t, nil, []string{p.URL()}, func(c *Config) { c.TargetLogs = 1000 })
	if _, err := c.Transfers(context.Background(), 1, 100); err != nil {
		t.Fatal(err)
	}
	small := c.RangeSize()
	p.Clear()
	ts, err := c.Transfers(context.Background(), 1, synthBlocks)
	if err != nil {
		t.Fatal(err)
	}
	checkComplete(t, ts, 1, synthBlocks)
	if c.RangeSize() <= small {
		t.Errorf("range stayed at %d after sparse answers (was %d)", c.RangeSize(), small)
	}
}

func TestTransfersNeverPartial(t *testing.T) {
	for _, tc := range []struct {
		name    string
		fault   evmtest.Fault
		lag     uint64
		wantErr string
	}{
		{"second sub-range always fails", evmtest.Fault{Kind: evmtest.FaultError, Method: "eth_getLogs", Param: `"fromBlock":"0x33"`}, 0, "injected error"},
		{"single block over the limit", evmtest.Fault{Kind: evmtest.FaultTooMany, Method: "eth_getLogs", Limit: 5}, 0, "single block too large"},
		{"endpoint lags behind the range", evmtest.Fault{}, 5, "endpoint head 195 below block 200"},
		{"http 500 forever", evmtest.Fault{Kind: evmtest.FaultHTTP, Status: http.StatusInternalServerError}, 0, "500"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := synthNode(t)
			p := evmtest.NewProxy(t, n.URL())
			if tc.fault.Kind != 0 {
				p.Inject(tc.fault)
			}
			p.SetLag(tc.lag)
			c := synthClient(t, nil, []string{p.URL()}, func(c *Config) { c.MaxRange = 50 })
			ts, err := c.Transfers(context.Background(), 1, synthBlocks)
			if err == nil || ts != nil {
				t.Fatalf("got %d transfers, err %v: want an error and nothing", len(ts), err)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err %v, want it to mention %q", err, tc.wantErr)
			}
		})
	}
}

func TestLaggingEndpoint(t *testing.T) {
	t.Run("fails over before asking", func(t *testing.T) {
		n := synthNode(t)
		lagging := evmtest.NewProxy(t, n.URL())
		lagging.SetLag(5)
		c := synthClient(t, nil, []string{lagging.URL(), n.URL()})
		ts, err := c.Transfers(context.Background(), 1, synthBlocks)
		if err != nil {
			t.Fatal(err)
		}
		checkComplete(t, ts, 1, synthBlocks)
		if lagging.Calls("eth_getLogs") != 0 {
			t.Errorf("lagging endpoint got %d eth_getLogs", lagging.Calls("eth_getLogs"))
		}
		st := c.Endpoints()
		if !st[0].Lagging || st[0].Head != 195 || st[1].Lagging {
			t.Errorf("status %+v", st)
		}
	})
	t.Run("beyond head error is retried elsewhere", func(t *testing.T) {
		n := synthNode(t)
		lagging := evmtest.NewProxy(t, n.URL())
		c := synthClient(t, nil, []string{lagging.URL(), n.URL()})
		if _, err := c.Heads(context.Background()); err != nil { // learns head 200 from the first endpoint
			t.Fatal(err)
		}
		lagging.SetLag(5)
		ts, err := c.Transfers(context.Background(), 1, synthBlocks)
		if err != nil {
			t.Fatal(err)
		}
		checkComplete(t, ts, 1, synthBlocks)
		if lagging.Calls("eth_getLogs") != 1 {
			t.Errorf("lagging endpoint got %d eth_getLogs, want the one refused", lagging.Calls("eth_getLogs"))
		}
		if got := c.Endpoints()[0]; got.ConsecutiveFailures != 1 || !strings.Contains(got.LastError, "beyond current head") {
			t.Errorf("status %+v", got)
		}
	})
}

func TestHeadsUnderFaults(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fault     evmtest.Fault
		wantCalls int
	}{
		{"one batch element fails", evmtest.Fault{Kind: evmtest.FaultError, Method: "eth_getBlockByNumber", Param: "finalized", Times: 1}, 6},
		{"truncated batch", evmtest.Fault{Kind: evmtest.FaultTruncate, Times: 1}, 6},
		{"http 502", evmtest.Fault{Kind: evmtest.FaultHTTP, Status: http.StatusBadGateway, Times: 2}, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := synthNode(t)
			n.SetHeads(200, 198, 150)
			p := evmtest.NewProxy(t, n.URL())
			p.Inject(tc.fault)
			c := synthClient(t, nil, []string{p.URL()})
			heads, err := c.Heads(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if heads != (chains.Heads{Latest: 200, Safe: 198, Final: 150}) {
				t.Errorf("heads %+v", heads)
			}
			if got := p.Calls("eth_getBlockByNumber"); got != tc.wantCalls {
				t.Errorf("eth_getBlockByNumber calls %d, want %d", got, tc.wantCalls)
			}
			if r := c.Requests(); r != uint64(tc.wantCalls) {
				t.Errorf("client counted %d requests, want %d", r, tc.wantCalls)
			}
		})
	}
	t.Run("inconsistent tags are an error", func(t *testing.T) {
		n := synthNode(t)
		n.SetHeads(100, 90, 95)
		c := synthClient(t, nil, []string{n.URL()}, func(c *Config) { c.Attempts = 1 })
		if _, err := c.Heads(context.Background()); err == nil || !strings.Contains(err.Error(), "inconsistent heads") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestHeadersUnderFaults(t *testing.T) {
	n := synthNode(t)
	p := evmtest.NewProxy(t, n.URL())
	p.Inject(evmtest.Fault{Kind: evmtest.FaultError, Method: "eth_getBlockByNumber", Param: `"0x96"`, Times: 1})
	c := synthClient(t, nil, []string{p.URL()})
	hs, err := c.Headers(context.Background(), 1, synthBlocks)
	if err != nil {
		t.Fatal(err)
	}
	if len(hs) != synthBlocks {
		t.Fatalf("%d headers", len(hs))
	}
	for i, h := range hs {
		if h.Number != uint64(i+1) || h.Hash != evmtest.BlockHash(h.Number).Hex() {
			t.Fatalf("header %d: %+v", i, h)
		}
	}
	// 200 blocks in batches of 100, the second batch sent twice.
	if got := p.Calls("eth_getBlockByNumber"); got != 300 {
		t.Errorf("eth_getBlockByNumber calls %d, want 300", got)
	}
}

func TestFailoverAndBackoff(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	n := synthNode(t)
	bad := evmtest.NewProxy(t, n.URL())
	bad.Inject(evmtest.Fault{Kind: evmtest.FaultHTTP})
	good := evmtest.NewProxy(t, n.URL())
	c := synthClient(t, clock, []string{bad.URL(), good.URL()})
	ctx := context.Background()

	// The preferred endpoint fails; the batch moves to the next one.
	if _, err := c.Heads(ctx); err != nil {
		t.Fatal(err)
	}
	// Probes keep failing: the backoff doubles up to its 4ms cap.
	for _, want := range []time.Duration{2, 4, 4} {
		clock.Add(time.Hour)
		_ = c.Probe(ctx)
		if st := c.Endpoints()[0]; st.Backoff != want*time.Millisecond {
			t.Errorf("backoff %s, want %s", st.Backoff, want*time.Millisecond)
		}
	}
	st := c.Endpoints()
	if st[0].Healthy || st[0].ConsecutiveFailures != 4 || !strings.Contains(st[0].LastError, "503") {
		t.Errorf("bad endpoint %+v: want 4 failures and unhealthy", st[0])
	}
	if !st[1].Healthy || st[1].ConsecutiveFailures != 0 {
		t.Errorf("good endpoint %+v", st[1])
	}
	if strings.Contains(st[0].Name, "?") || !strings.HasPrefix(st[0].Name, "http://127.0.0.1:") {
		t.Errorf("name %q", st[0].Name)
	}
	// Past its backoff but not yet recovered, the failing endpoint still
	// comes after the healthy one.
	clock.Add(time.Hour)
	if _, err := c.Heads(ctx); err != nil {
		t.Fatal(err)
	}
	if got := bad.Calls("eth_getBlockByNumber"); got != 3 {
		t.Errorf("bad endpoint asked %d eth_getBlockByNumber, want only the first batch of 3", got)
	}
	// Once it answers a probe, its backoff resets and it is preferred again.
	bad.Clear()
	clock.Add(time.Hour)
	if err := c.Probe(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.Endpoints()[0]; !st.Healthy || st.ConsecutiveFailures != 0 || st.Backoff != 0 {
		t.Errorf("recovered endpoint %+v", st)
	}
	if _, err := c.Heads(ctx); err != nil {
		t.Fatal(err)
	}
	if got := bad.Calls("eth_getBlockByNumber"); got != 6 {
		t.Errorf("recovered endpoint asked %d eth_getBlockByNumber, want 6", got)
	}
	if r := c.Requests(); r != 4*3+4*2 {
		t.Errorf("requests %d, want 20 (4 batches of 3, one failed; 4 probes of 2 endpoints)", r)
	}
}

func TestAllEndpointsDown(t *testing.T) {
	n := synthNode(t)
	p := evmtest.NewProxy(t, n.URL())
	p.Inject(evmtest.Fault{Kind: evmtest.FaultHTTP})
	c := synthClient(t, nil, []string{p.URL()}, func(c *Config) { c.Attempts = 3 })
	_, err := c.Heads(context.Background())
	if err == nil || !strings.Contains(err.Error(), "3 attempts") {
		t.Fatalf("err %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Transfers(ctx, 1, 10); err == nil {
		t.Fatal("cancelled context: no error")
	}
}

func TestProbe(t *testing.T) {
	n := synthNode(t)
	lagging := evmtest.NewProxy(t, n.URL())
	lagging.SetLag(10)
	down := evmtest.NewProxy(t, n.URL())
	down.Inject(evmtest.Fault{Kind: evmtest.FaultHTTP})
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	c := synthClient(t, clock, []string{down.URL(), lagging.URL(), n.URL()})
	if err := c.Probe(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := c.Endpoints()
	for i, want := range []struct {
		healthy, lagging bool
		head             uint64
	}{{false, false, 0}, {true, true, 190}, {true, false, 200}} {
		if st[i].Healthy != want.healthy || st[i].Lagging != want.lagging || st[i].Head != want.head {
			t.Errorf("endpoint %d: %+v, want %+v", i, st[i], want)
		}
	}
	// The next request skips the down endpoint and prefers the current one.
	if _, err := c.Transfers(context.Background(), 1, 10); err != nil {
		t.Fatal(err)
	}
	if down.Calls("eth_getLogs")+lagging.Calls("eth_getLogs") != 0 {
		t.Errorf("down or lagging endpoint got eth_getLogs")
	}

	all := synthClient(t, nil, []string{down.URL()})
	if err := all.Probe(context.Background()); err == nil {
		t.Error("probe with every endpoint down: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := all.Run(ctx); err != context.Canceled {
		t.Errorf("Run after cancel: %v", err)
	}
}

func TestSingleBlockTimeoutFailsOver(t *testing.T) {
	n := synthNode(t)
	slow := evmtest.NewProxy(t, n.URL())
	slow.Inject(evmtest.Fault{Kind: evmtest.FaultHang, Method: "eth_getLogs"})
	c := synthClient(t, nil, []string{slow.URL(), n.URL()}, func(c *Config) { c.RequestTimeout = 500 * time.Millisecond })
	ts, err := c.Transfers(context.Background(), 7, 7)
	if err != nil {
		t.Fatal(err)
	}
	checkComplete(t, ts, 7, 7)
	if got := slow.Calls("eth_getLogs"); got != 1 {
		t.Errorf("hanging endpoint got %d eth_getLogs, want 1", got)
	}
}
