package tron_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/tron"
	"github.com/depositd/depositd/internal/devnet/tronnet"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/api"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

const (
	alice  = "TL1mBABLk68nZwt92dgGc43p5uk1j3YtY9"
	bob    = "TBA6CypYJizwA9XdC7Ubgc5F1bxrQ7SqPt"
	apiKey = "test-key"
)

type env struct {
	node *tronnet.Node
	usdt string
}

func newEnv(t testing.TB, opts tronnet.Options) env {
	t.Helper()
	n, err := tronnet.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Error(err)
		}
	})
	usdt, err := n.DeployTRC20("USDT", 6)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Mint(usdt, alice, big.NewInt(1_000_000_000)); err != nil {
		t.Fatal(err)
	}
	n.Mine()
	return env{node: n, usdt: usdt}
}

func (e env) config() tron.Config {
	return tron.Config{
		FullNodes:     e.node.Addrs(),
		SolidityNodes: e.node.SolidityAddrs(),
		APIKey:        apiKey,
		Tokens:        []tron.Token{{Symbol: "USDT", Contract: e.usdt, Decimals: 6}},
		CallTimeout:   2 * time.Second,
		Backoff:       time.Millisecond,
	}
}

func (e env) client(t testing.TB, cfg tron.Config) *tron.Client {
	t.Helper()
	c, err := tron.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (e env) transfer(t testing.TB, amount int64) string {
	t.Helper()
	id, err := e.node.Transfer(e.usdt, alice, bob, big.NewInt(amount))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (e env) mineTo(h uint64) {
	for e.node.Head() < h {
		e.node.Mine()
	}
}

func byTx(ts []chains.Transfer, txid string) []chains.Transfer {
	var out []chains.Transfer
	for _, tr := range ts {
		if tr.TxID == txid {
			out = append(out, tr)
		}
	}
	return out
}

func TestCreditAtSolidHeight(t *testing.T) {
	e := newEnv(t, tronnet.Options{SolidLag: 5})
	c := e.client(t, e.config())
	ctx := context.Background()
	txid := e.transfer(t, 25_000_000)
	h, id := e.node.Mine()

	heads, err := c.Heads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if heads.Latest != h || heads.Final >= h || heads.Safe != heads.Final {
		t.Fatalf("heads %+v with transfer at %d", heads, h)
	}
	t.Run("pending on the tip tier", func(t *testing.T) {
		ts, err := c.Transfers(ctx, heads.Final+1, heads.Latest)
		if err != nil {
			t.Fatal(err)
		}
		if got := byTx(ts, txid); len(got) != 1 || got[0].BlockHash != id {
			t.Fatalf("tip transfers %+v", got)
		}
	})
	e.mineTo(h + 5)
	if heads, err = c.Heads(ctx); err != nil || heads.Final != h {
		t.Fatalf("heads %+v, %v; want final %d", heads, err, h)
	}
	ts, err := c.Transfers(ctx, 1, heads.Final)
	if err != nil {
		t.Fatal(err)
	}
	got := byTx(ts, txid)
	if len(got) != 1 {
		t.Fatalf("%d transfers of %s in the final range, want 1: %+v", len(got), txid, ts)
	}
	tr := got[0]
	checks := []struct{ name, got, want string }{
		{"id", tr.ID(), "tron:" + txid + ":0"},
		{"to", tr.To, bob},
		{"from", tr.From, alice},
		{"amount", tr.Amount.String(), "25000000"},
		{"block hash", tr.BlockHash, id},
		{"contract", tr.Contract, e.usdt},
	}
	for _, ck := range checks {
		t.Run(ck.name, func(t *testing.T) {
			if ck.got != ck.want {
				t.Errorf("%s = %s, want %s", ck.name, ck.got, ck.want)
			}
		})
	}
	t.Run("rescan is identical", func(t *testing.T) {
		again, err := c.Transfers(ctx, h, h)
		if err != nil || len(again) != 1 || again[0].ID() != tr.ID() || again[0].BlockHash != tr.BlockHash {
			t.Fatalf("rescan %+v, %v", again, err)
		}
	})
}

func TestFailedTransfersNeverCredited(t *testing.T) {
	e := newEnv(t, tronnet.Options{SolidLag: 2})
	c := e.client(t, e.config())
	ctx := context.Background()
	tests := []struct {
		name   string
		result core.Transaction_ResultContractResult
	}{
		{"revert", core.Transaction_Result_REVERT},
		{"out of energy", core.Transaction_Result_OUT_OF_ENERGY},
		{"out of time", core.Transaction_Result_OUT_OF_TIME},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txid, err := e.node.FailedTransfer(e.usdt, alice, bob, big.NewInt(7), tt.result)
			if err != nil {
				t.Fatal(err)
			}
			okID := e.transfer(t, 3)
			h, _ := e.node.Mine()
			e.mineTo(h + 2)
			if _, err := c.Heads(ctx); err != nil {
				t.Fatal(err)
			}
			// The log is there: only the result flags keep it from being credited.
			conn, err := grpc.NewClient(e.node.SolidityAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			list, err := api.NewWalletSolidityClient(conn).GetTransactionInfoByBlockNum(ctx, &api.NumberMessage{Num: int64(h)})
			if err != nil {
				t.Fatal(err)
			}
			logs := 0
			for _, ti := range list.GetTransactionInfo() {
				logs += len(ti.GetLog())
			}
			if logs != 2 {
				t.Fatalf("block %d carries %d logs, want 2 (failed and good)", h, logs)
			}
			ts, err := c.Transfers(ctx, h, h)
			if err != nil {
				t.Fatal(err)
			}
			if len(byTx(ts, txid)) != 0 || len(byTx(ts, okID)) != 1 || len(ts) != 1 {
				t.Fatalf("transfers %+v: want only %s", ts, okID)
			}
		})
	}
}

func TestForkOrphansPending(t *testing.T) {
	e := newEnv(t, tronnet.Options{SolidLag: 10})
	c := e.client(t, e.config())
	ctx := context.Background()
	e.mineTo(12)
	txid := e.transfer(t, 11)
	h, oldID := e.node.Mine()
	e.node.Mine()

	hs, err := c.Headers(ctx, h-1, h+1)
	if err != nil {
		t.Fatal(err)
	}
	if hs[1].Hash != oldID || hs[2].Parent != oldID {
		t.Fatalf("headers %+v, want block %d = %s", hs, h, oldID)
	}
	ts, err := c.Transfers(ctx, h, h)
	if err != nil || len(byTx(ts, txid)) != 1 {
		t.Fatalf("before fork: %+v, %v", ts, err)
	}
	if err := e.node.Fork(2); err != nil {
		t.Fatal(err)
	}
	after, err := c.Headers(ctx, h-1, h+1)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("headers show the new hashes", func(t *testing.T) {
		if after[0].Hash != hs[0].Hash {
			t.Errorf("common ancestor changed: %s → %s", hs[0].Hash, after[0].Hash)
		}
		for i := 1; i < 3; i++ {
			if after[i].Hash == hs[i].Hash {
				t.Errorf("block %d kept hash %s across the fork", after[i].Number, hs[i].Hash)
			}
		}
	})
	t.Run("transfer orphaned", func(t *testing.T) {
		ts, err := c.Transfers(ctx, h, e.node.Head())
		if err != nil {
			t.Fatal(err)
		}
		if len(byTx(ts, txid)) != 0 {
			t.Fatalf("orphaned transfer still reported: %+v", ts)
		}
	})
	t.Run("fork into solidified blocks refused", func(t *testing.T) {
		if err := e.node.Fork(11); err == nil {
			t.Fatal("node forked a solidified block")
		}
	})
}

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

func TestTokenCheckAtStart(t *testing.T) {
	e := newEnv(t, tronnet.Options{})
	tests := []struct {
		name  string
		token tron.Token
		want  string
	}{
		{"decimals", tron.Token{Symbol: "USDT", Contract: e.usdt, Decimals: 18}, "tokens[USDT].decimals: chain says 6, config 18"},
		{"symbol", tron.Token{Symbol: "USDC", Contract: e.usdt, Decimals: 6}, `tokens[USDC].symbol: chain says "USDT", config "USDC"`},
		{"not a contract", tron.Token{Symbol: "USDT", Contract: bob, Decimals: 6}, "CONTRACT_VALIDATE_ERROR"},
		{"bad address", tron.Token{Symbol: "USDT", Contract: "T123", Decimals: 6}, "tokens[USDT].contract"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := e.config()
			cfg.Tokens = []tron.Token{tt.token}
			cfg.Attempts = 1
			_, err := tron.New(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func TestAboveHeadIsNotFound(t *testing.T) {
	e := newEnv(t, tronnet.Options{})
	c := e.client(t, e.config())
	head := e.node.Head()
	ctx := context.Background()
	t.Run("headers", func(t *testing.T) {
		if _, err := c.Headers(ctx, head, head+1); !errors.Is(err, chains.ErrNotFound) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("transfers", func(t *testing.T) {
		if _, err := c.Transfers(ctx, head+1, head+1); !errors.Is(err, chains.ErrNotFound) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("inverted range", func(t *testing.T) {
		if _, err := c.Transfers(ctx, 2, 1); err == nil {
			t.Fatal("no error")
		}
	})
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
