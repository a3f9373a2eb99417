package watchers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/evm"
	"github.com/depositd/depositd/internal/devnet/evmnet"

	"github.com/depositd/depositd/internal/ledgercredit"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/settlement/ledger"
)

// The kill -9 test re-executes this test binary as a watcher process; these
// variables tell the child what to watch.
const (
	childEnv      = "DEPOSITD_WATCHER_CHILD"
	childRedis    = "DEPOSITD_WATCHER_REDIS"
	childRPC      = "DEPOSITD_WATCHER_RPC"
	childToken    = "DEPOSITD_WATCHER_TOKEN"
	childTo       = "DEPOSITD_WATCHER_RECIPIENTS"
	childLog      = "DEPOSITD_WATCHER_LOG"
	killRequired  = 6
	killChainName = "ethereum"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		if err := runChild(); err != nil {
			fmt.Fprintln(os.Stderr, "watcher child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// evmWatcher builds the watcher (and its EVM source) that the child runs
// and the checker reads through, from the same facts.
func evmWatcher(rdb redis.UniversalClient, rpcURL string, token common.Address, recipients []common.Address, log *slog.Logger) (*Watcher, *evm.Client, error) {
	src, err := evm.New(evm.Config{
		Chain:      killChainName,
		Tokens:     []evm.Token{{Symbol: "USDT", Contract: token, Decimals: 6}},
		Endpoints:  []string{rpcURL},
		MaxRange:   16,
		MinBackoff: 10 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond,
	})
	if err != nil {
		return nil, nil, err
	}
	ix := &mapIndex{family: chains.FamilyEVM, addrs: map[chains.AddrKey]string{}}
	for i, a := range recipients {
		ix.addrs[evm.AddrKey(a)] = "acct-" + strconv.Itoa(i)
	}
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		return nil, nil, err
	}
	cr := &ledgerCrediter{l: &ledgercredit.Crediter{Ledger: ledger.New(rdb, time.Now), Rate: ledgercredit.OneUSD}, rec: &recorder{rdb: rdb}}
	w, err := New(src, ix, cr, rdb, Config{
		Family: chains.FamilyEVM, Tokens: []Token{{Symbol: "USDT", MinRaw: big.NewInt(1)}},
		Policy: PolicyConfirmations, Required: killRequired, StartBlock: 1, MaxRange: 16, Rescan: 4, ReuseTipReads: true,
		PollInterval: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
	}, Options{Metrics: m, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	return w, src, nil
}

// runChild is the watcher process: it runs until killed.
func runChild() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var recipients []common.Address
	for _, a := range strings.Split(os.Getenv(childTo), ",") {
		recipients = append(recipients, common.HexToAddress(a))
	}
	f, err := os.OpenFile(os.Getenv(childLog), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv(childRedis)})
	defer rdb.Close()
	w, src, err := evmWatcher(rdb, os.Getenv(childRPC), common.HexToAddress(os.Getenv(childToken)), recipients,
		slog.New(slog.NewJSONHandler(f, nil)).With("pid", os.Getpid()))
	if err != nil {
		return err
	}
	defer src.Close()
	return w.Run(ctx)
}

type child struct {
	cmd     *exec.Cmd
	started time.Time
}

func startChild(t *testing.T, env []string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start watcher child: %v", err)
	}
	return &child{cmd: cmd, started: time.Now()}
}

func (c *child) kill9() {
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.cmd.Wait()
}

// TestEVMKill9 runs watcher processes over the simulated EVM chain through
// the real HTTP adapter while 500 deposits (and shallow reorgs) flow, and
// SIGKILLs them at random points; a checker then proves every final
// deposit was credited exactly once.
func TestEVMKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 campaign: skipped in -short")
	}
	rs := redistest.New(t)
	rdb := rs.Client(t)
	chain, err := evmnet.New(evmnet.WithAccounts(2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	token, err := chain.DeployToken("USDT", 6)
	if err != nil {
		t.Fatal(err)
	}
	payer := chain.Accounts()[1]
	if _, err := chain.Mint(token, payer.Address, big.NewInt(1e15)); err != nil {
		t.Fatal(err)
	}
	if _, err := chain.Commit(); err != nil {
		t.Fatal(err)
	}
	const nRecipients, blocks, perBlock = 25, 50, 10
	recipients := make([]common.Address, nRecipients)
	hexes := make([]string, nRecipients)
	for i := range recipients {
		k, err := crypto.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		recipients[i] = crypto.PubkeyToAddress(k.PublicKey)
		hexes[i] = recipients[i].Hex()
	}
	l := ledger.New(rdb, time.Now)
	for i := range recipients {
		if err := l.CreateAccount(context.Background(), ledger.Account{ID: ledger.AccountID("acct-" + strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	logPath := filepath.Join(t.TempDir(), "watchers.log")
	env := []string{
		childEnv + "=1", childRedis + "=" + rs.Addr(), childRPC + "=" + chain.URL(),
		childToken + "=" + token.Hex(), childTo + "=" + strings.Join(hexes, ","), childLog + "=" + logPath,
	}
	rng := rand.New(rand.NewPCG(2026, 11))
	ctx := context.Background()
	c := startChild(t, env)
	kills, forks := 0, 0
	for b := range blocks {
		to := make([]common.Address, perBlock)
		for i := range to {
			to[i] = recipients[rng.IntN(nRecipients)]
		}
		if _, err := chain.BatchTransfer(token, payer, to, big.NewInt(int64(1_000_000+b))); err != nil {
			t.Fatal(err)
		}
		if _, err := chain.Commit(); err != nil {
			t.Fatal(err)
		}
		if b%7 == 6 { // a reorg shallower than finality: the dropped txs are re-included
			head, _, err := chain.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			waitScanned(t, rdb, c.started, head) // the running child knows the blocks about to be dropped
			parent, err := chain.Client().HeaderByNumber(ctx, new(big.Int).SetUint64(head-uint64(1+rng.IntN(2))))
			if err != nil {
				t.Fatal(err)
			}
			if err := chain.Fork(parent.Hash()); err != nil {
				t.Fatal(err)
			}
			// A fresh transaction (to an unwatched address) makes the new
			// branch differ from the old one even where it re-mines the same
			// transactions.
			if _, err := chain.Transfer(token, payer, common.BigToAddress(big.NewInt(int64(0xfee0+b))), big.NewInt(1)); err != nil {
				t.Fatal(err)
			}
			if err := chain.CommitBlocks(3); err != nil {
				t.Fatal(err)
			}
			forks++
			if head, _, err = chain.Head(ctx); err != nil {
				t.Fatal(err)
			}
			waitScanned(t, rdb, c.started, head) // the same child has walked back over the fork
		}
		<-time.After(time.Duration(rng.IntN(40)) * time.Millisecond)
		if rng.IntN(4) == 0 {
			c.kill9()
			kills++
			c = startChild(t, env)
		}
	}
	if err := chain.CommitBlocks(killRequired + 2); err != nil {
		t.Fatal(err)
	}
	head, _, err := chain.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	final := head + 1 - killRequired
	waitCursor(t, rdb, "cursor_final", final, 60*time.Second)
	c.kill9()

	// The checker reads the canonical final transfers through its own client.
	w, src, err := evmWatcher(rdb, chain.URL(), token, recipients, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ts, err := src.Transfers(ctx, 1, final)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, tr := range ts {
		if slices.Contains(recipients, common.HexToAddress(tr.To)) {
			want = append(want, tr.ID())
		}
	}
	slices.Sort(want)
	rec := &recorder{rdb: rdb}
	got, n := rec.credited(t)
	calls, err := rdb.Get(ctx, recCallsKey).Int()
	if err != nil {
		t.Fatal(err)
	}
	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	orphanedBlocks := strings.Count(string(logs), "block left the canonical chain")
	orphanedDeposits := strings.Count(string(logs), "deposit orphaned")
	t.Logf("%d deposits, %d kills, %d reorgs (watchers saw %d blocks and %d deposits orphaned), %d blocks, %d credit calls",
		len(want), kills, forks, orphanedBlocks, orphanedDeposits, head, calls)
	if len(want) != blocks*perBlock {
		t.Fatalf("chain holds %d deposits, want %d", len(want), blocks*perBlock)
	}
	if !slices.Equal(got, want) || n != len(want) {
		t.Fatalf("credited %d ids (counter %d), want %d; missing %v extra %v", len(got), n, len(want), diff(want, got), diff(got, want))
	}
	// Every fork dropped blocks the running child had scanned: its tip tier
	// must have walked back each time.
	if kills == 0 || orphanedBlocks < forks || orphanedDeposits == 0 {
		t.Fatalf("kills %d, forks %d, orphaned blocks %d, deposits %d: the campaign did not exercise them",
			kills, forks, orphanedBlocks, orphanedDeposits)
	}
	dep, err := l.DepositIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dep, want) {
		t.Fatalf("ledger holds %d deposit entries, want %d; missing %v extra %v", len(dep), len(want), diff(want, dep), diff(dep, want))
	}
	if breaches, err := l.Verify(ctx); err != nil || len(breaches) > 0 {
		t.Fatalf("ledger verify: %v %v", breaches, err)
	}
	credited := 0
	for cursor := ""; ; {
		page, next, err := w.Deposits().List(ctx, Filter{Status: StatusCredited, Chain: killChainName}, cursor, MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		credited += len(page)
		if next == "" {
			break
		}
		cursor = next
	}
	if credited != len(want) {
		t.Fatalf("%d deposit records credited, want %d", credited, len(want))
	}
}

func waitCursor(t *testing.T, rdb *redis.Client, which string, target uint64, limit time.Duration) {
	t.Helper()
	deadline := time.After(limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		n, ok, err := loadCursor(context.Background(), rdb, killChainName, which)
		if err != nil {
			t.Fatal(err)
		}
		if ok && n >= target {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("%s %d (stored %v) did not reach %d", which, n, ok, target)
		case <-tick.C:
		}
	}
}

// waitScanned waits until a status published after since (so by the child
// started then, its predecessors being dead) reports head scanned.
func waitScanned(t *testing.T, rdb *redis.Client, since time.Time, head uint64) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := LoadStatus(context.Background(), rdb, killChainName)
		if err != nil {
			t.Fatal(err)
		}
		if st.UpdatedAt.After(since) && st.Scanned >= head {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("status %+v: head %d not scanned by the child started at %v", st, head, since)
		case <-tick.C:
		}
	}
}

func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// ledgerCrediter credits through the real ledger, as the daemon does, and
// counts every call in the recorder (repeats are absorbed by the ledger's
// idempotency).
type ledgerCrediter struct {
	l   *ledgercredit.Crediter
	rec *recorder
}

func (c *ledgerCrediter) Credit(ctx context.Context, t chains.Transfer, account string) error {
	if err := c.rec.Credit(ctx, t, account); err != nil {
		return err
	}
	return c.l.Credit(ctx, t, account)
}
