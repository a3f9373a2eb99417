package e2e

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/addressbook"
	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/address"
	"github.com/depositd/depositd/chains/tron"
	"github.com/depositd/depositd/internal/devnet/tronnet"
	"github.com/depositd/depositd/internal/ledgercredit"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/settlement/ledger"
	"github.com/depositd/depositd/watchers"
)

const tronSolidLag = 4

// tronSource connects the adapter to the node's full and solidity services.
func tronSource(ctx context.Context, full, solid, token string) (*tron.Client, error) {
	return tron.New(ctx, tron.Config{
		FullNodes: []string{full}, SolidityNodes: []string{solid},
		Tokens:      []tron.Token{{Symbol: "USDT", Contract: token, Decimals: 6}},
		CallTimeout: 2 * time.Second, Backoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
	})
}

// runTronChild watches the node (args: full, solidity, token) with the
// addressbook index over Redis, crediting through the ledger, until killed.
func runTronChild(ctx context.Context, rdb *redis.Client, args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("tron child args %q: want full,solidity,token", args)
	}
	src, err := tronSource(ctx, args[0], args[1], args[2])
	if err != nil {
		return err
	}
	defer src.Close()
	ix, err := addressbook.NewIndex(rdb, nil, addressbook.IndexOptions{})
	if err != nil {
		return err
	}
	if err := ix.Load(ctx); err != nil {
		return err
	}
	m, err := watchers.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		return err
	}
	w, err := watchers.New(src, ix, &ledgercredit.Crediter{Ledger: ledger.New(rdb, time.Now), Rate: ledgercredit.OneUSD}, rdb, watchers.Config{
		Family: chains.FamilyTron, Tokens: []watchers.Token{{Symbol: "USDT"}},
		Policy: watchers.PolicyFinalized, Required: tronSolidLag, StartBlock: 1, MaxRange: 8, Rescan: 2,
		PollInterval: 15 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
	}, watchers.Options{Metrics: m, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	return w.Run(ctx)
}

// tronAddr makes a deterministic Tron address from a label.
func tronAddr(label string) string {
	h := sha256.Sum256([]byte(label))
	var k chains.AddrKey
	copy(k[:20], h[:20])
	return address.Format(chains.FamilyTron, k)
}

// TestTronKill9 mines TRC-20 deposits (with failed transfers that keep
// their logs, and forks above the solidified height) while watcher
// processes, killed with SIGKILL at random points, credit them through the
// ledger; then every successful canonical deposit at or below solid must be
// credited exactly once and nothing else.
func TestTronKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 campaign: skipped in -short")
	}
	ctx := context.Background()
	rs := redistest.New(t)
	rdb := rs.Client(t)
	node, err := tronnet.Start(ctx, tronnet.Options{SolidLag: tronSolidLag})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	usdt, err := node.DeployTRC20("USDT", 6)
	if err != nil {
		t.Fatal(err)
	}
	payer := tronAddr("payer")
	if _, err := node.Mint(usdt, payer, big.NewInt(1e15)); err != nil {
		t.Fatal(err)
	}
	node.Mine()

	const nRecipients, blocks, perBlock = 20, 40, 8
	book, err := addressbook.New(rdb, addressbook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := ledger.New(rdb, time.Now)
	recipients := make([]string, nRecipients)
	for i := range recipients {
		recipients[i] = tronAddr("recipient-" + strconv.Itoa(i))
		acct := "acct-" + strconv.Itoa(i)
		if _, err := book.Register(ctx, acct, chains.FamilyTron, recipients[i]); err != nil {
			t.Fatal(err)
		}
		if err := l.CreateAccount(ctx, ledger.Account{ID: ledger.AccountID(acct)}); err != nil {
			t.Fatal(err)
		}
	}
	stranger := tronAddr("stranger")

	env := []string{childEnv + "=tron", childRedis + "=" + rs.Addr(),
		childArgs + "=" + node.Addr() + "," + node.SolidityAddr() + "," + usdt}
	rng := rand.New(rand.NewPCG(2026, 6))
	forbidden := map[string]string{} // txid → why it must never be credited
	sent := map[uint64][]string{}    // block → txids of the watched transfers mined in it
	c := startChild(t, env)
	kills, forks, failed, orphaned := 0, 0, 0, 0
	for b := range blocks {
		var ids []string
		for i := range perBlock {
			amount := big.NewInt(int64(1_000_000 + b*100 + i))
			id, err := node.Transfer(usdt, payer, recipients[rng.IntN(nRecipients)], amount)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if _, err := node.Transfer(usdt, payer, stranger, big.NewInt(7)); err != nil {
			t.Fatal(err)
		}
		for _, res := range []core.Transaction_ResultContractResult{core.Transaction_Result_REVERT, core.Transaction_Result_OUT_OF_ENERGY} {
			id, err := node.FailedTransfer(usdt, payer, recipients[rng.IntN(nRecipients)], big.NewInt(5_000_000), res)
			if err != nil {
				t.Fatal(err)
			}
			forbidden[id] = "a failed transfer (" + res.String() + ")"
			failed++
		}
		num, _ := node.Mine()
		sent[num] = ids
		if b%6 == 5 { // a fork above solid: the newest 1–2 blocks are replaced by empty ones
			waitScanned(t, rdb, "tron", c.started, node.Head())
			depth := 1 + rng.IntN(2)
			head := node.Head()
			if err := node.Fork(depth); err != nil {
				t.Fatal(err)
			}
			for n := head - uint64(depth) + 1; n <= head; n++ {
				for _, id := range sent[n] {
					forbidden[id] = "orphaned by a fork"
					orphaned++
				}
			}
			forks++
			waitScanned(t, rdb, "tron", c.started, node.Head()) // the same child walked back over it
		}
		<-time.After(time.Duration(rng.IntN(30)) * time.Millisecond)
		if rng.IntN(3) == 0 {
			c.kill9()
			kills++
			c = startChild(t, env)
		}
	}
	for range tronSolidLag + 1 {
		node.Mine()
	}
	solid := node.Solid()
	waitFinal(t, rdb, "tron", solid, 20*time.Second)
	c.kill9()

	// The node's truth: successful transfers to watched addresses in the
	// canonical blocks up to solid, read through a fresh client.
	src, err := tronSource(ctx, node.Addr(), node.SolidityAddr(), usdt)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ts, err := src.Transfers(ctx, 1, solid)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, tr := range ts {
		if slices.Contains(recipients, tr.To) {
			want = append(want, tr.ID())
		}
		if why, ok := forbidden[tr.TxID]; ok {
			t.Fatalf("the canonical chain holds %s as a successful transfer, but the test made it %s", tr.ID(), why)
		}
	}
	slices.Sort(want)
	t.Logf("tron: %d deposits credited, %d failed and %d orphaned transfers not credited, %d kills, %d forks, solid %d",
		len(want), failed, orphaned, kills, forks, solid)
	if len(want) != blocks*perBlock-orphaned {
		t.Fatalf("the chain holds %d deposits, want %d sent less %d orphaned", len(want), blocks*perBlock, orphaned)
	}
	if kills == 0 || forks == 0 || orphaned == 0 {
		t.Fatalf("kills %d, forks %d, orphaned %d, deposits %d: the campaign did not exercise them", kills, forks, orphaned, len(want))
	}
	checkExactlyOnce(t, l, want, forbidden)
}
