package tron_test

import (
	"context"
	"errors"
	"math/big"
	"strings"
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
