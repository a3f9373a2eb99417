package scaleout

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/depositd/depositd/addressbook"
	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/internal/devnet/evmnet"
	"github.com/depositd/depositd/internal/lease"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/settlement/ledger"
	"github.com/depositd/depositd/watchers"
)

const (
	processes     = 3
	kills         = 6
	confirmations = 3
	leaseTTL      = time.Second
	accounts      = 5
)

// TestThreeProcessesHolderKilled runs three depositd processes against one
// redis-server and a simulated EVM chain over HTTP while deposits stream
// in; the holder of the chain's lease is killed with SIGKILL again and
// again (its slot restarts it), then frozen with SIGSTOP past its lease and
// woken after the takeover. Every deposit on the chain is credited
// exactly once, `depositd verify` is clean, and each takeover (kill → the
// new holder's first published scan) is measured.
func TestThreeProcessesHolderKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-process kill test: skipped in -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "depositd")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/depositd/depositd/cmd/depositd").CombinedOutput(); err != nil {
		t.Fatalf("go build depositd: %v\n%s", err, out)
	}
	srv := redistest.New(t)
	rdb := srv.Client(t)
	ctx := context.Background()

	chain, err := evmnet.New(evmnet.WithAccounts(2))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	token, err := chain.DeployToken("USDT", 6)
	if err != nil {
		t.Fatal(err)
	}
	sender := chain.Accounts()[0]
	if _, err := chain.Mint(token, sender.Address, big.NewInt(1e15)); err != nil {
		t.Fatal(err)
	}
	if err := chain.CommitBlocks(2); err != nil {
		t.Fatal(err)
	}
	recipients := setupAccounts(t, rdb)
	recv, hookURL := startReceiver(t)

	params := cfgParams{RedisURL: srv.URL(), RPC: chain.URL(), Token: token.Hex(), TTL: leaseTTL.String(),
		ChainID: evmnet.ChainID, Confirmations: confirmations, WebhookURL: hookURL}
	runCtx, stopAll := context.WithCancel(ctx)
	defer stopAll()
	g, gctx := errgroup.WithContext(runCtx)
	procs := make([]*proc, processes)
	for i := range procs {
		procs[i] = newProc(t, i, bin, dir, params)
		g.Go(func() error { return procs[i].supervise(gctx) })
	}
	defer func() {
		if t.Failed() {
			for _, p := range procs {
				b, _ := os.ReadFile(p.logPath)
				t.Logf("depositd %d log (last 3000 bytes):\n%s", p.id, tail(b, 3000))
			}
		}
	}()

	// Blocks every 100ms; a deposit every 150ms to a random account.
	var sent sync.WaitGroup
	streamCtx, stopStream := context.WithCancel(runCtx)
	sent.Add(1)
	var sendErrs int
	go func() {
		defer sent.Done()
		rng := rand.New(rand.NewPCG(7, 7))
		tick := time.NewTicker(150 * time.Millisecond)
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-streamCtx.Done():
				return
			case <-tick.C:
			}
			to := recipients[rng.IntN(len(recipients))]
			if _, err := chain.Transfer(token, sender, to, big.NewInt(int64(10_000+rng.IntN(5_000_000)))); err != nil {
				sendErrs++
			}
			if n%2 == 1 {
				if _, err := chain.Commit(); err != nil {
					sendErrs++
				}
			}
		}
	}()

	waitFor(t, 60*time.Second, "a first holder", func() bool { _, _, ok := holder(t, rdb); return ok })
	var took []time.Duration
	for k := range kills {
		time.Sleep(time.Duration(1500+rand.IntN(1500)) * time.Millisecond)
		id, tok, ok := holder(t, rdb)
		if !ok {
			t.Fatalf("kill %d: nobody holds the lease", k)
		}
		p := procOf(t, procs, id)
		killed := time.Now()
		p.kill9()
		var newTok int64
		waitFor(t, 60*time.Second, "a new holder's first scan", func() bool {
			_, nt, ok := holder(t, rdb)
			if !ok || nt <= tok {
				return false
			}
			st, err := watchers.LoadStatus(ctx, rdb, "ethereum")
			if err != nil {
				t.Fatal(err)
			}
			newTok = nt
			return st.UpdatedAt.After(killed)
		})
		d := time.Since(killed)
		took = append(took, d)
		t.Logf("kill %d: holder %s (token %d) killed; token %d scanned %v later", k+1, id, tok, newTok, d.Round(time.Millisecond))
	}
	pauseHolder(t, rdb, procs)
	stopStream()
	sent.Wait()
	if sendErrs > 0 {
		t.Logf("%d sends failed (the chain's truth is what the checker uses)", sendErrs)
	}
	if err := chain.CommitBlocks(confirmations + 1); err != nil {
		t.Fatal(err)
	}
	head, _, err := chain.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	final := head + 1 - confirmations
	quiet := time.Now()
	waitFor(t, 120*time.Second, "the final cursor to reach the final marker", func() bool {
		n, err := rdb.Get(ctx, "chain:ethereum:cursor_final").Uint64()
		return err == nil && n >= final
	})
	caught := time.Since(quiet)
	checkAPI(t, rdb, procs, final)
	events, repeats := checkWebhooks(t, rdb, recv)
	t.Logf("after the stream: final cursor caught up in %v, every event delivered %v later", caught.Round(time.Millisecond), (time.Since(quiet) - caught).Round(time.Millisecond))
	stopAll()
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	want := chainDeposits(t, chain.URL(), token, recipients, final)
	checkLedger(t, rdb, want)
	out, err := exec.Command(bin, "verify", "--redis", srv.URL()).CombinedOutput()
	if err != nil {
		t.Fatalf("depositd verify: %v\n%s", err, out)
	}
	slices.Sort(took)
	var sum time.Duration
	for _, d := range took {
		sum += d
	}
	t.Logf("%d webhook events delivered by %d processes, %d repeated deliveries", events, processes, repeats)
	t.Logf("%d deposits credited exactly once across %d processes and %d holder kills; takeover (kill → new holder's first scan, lease ttl %v): median %v, mean %v, max %v",
		len(want), processes, kills, leaseTTL, took[len(took)/2].Round(time.Millisecond), (sum / time.Duration(len(took))).Round(time.Millisecond), took[len(took)-1].Round(time.Millisecond))
	if max := took[len(took)-1]; max > 2*leaseTTL+5*time.Second {
		t.Errorf("slowest takeover %v, want within two lease periods (%v) plus scheduling slack", max, 2*leaseTTL)
	}
}

// pauseHolder freezes the holder (SIGSTOP) until another process has
// taken the chain over and scanned, then lets it run again (SIGCONT): the
// woken process must end its stale term (a "lease lost" log line) and its
// writes, if any got out, are refused by the fence.
func pauseHolder(t *testing.T, rdb redis.UniversalClient, procs []*proc) {
	t.Helper()
	id, tok, ok := holder(t, rdb)
	if !ok {
		t.Fatal("pause: nobody holds the lease")
	}
	p := procOf(t, procs, id)
	paused := time.Now()
	if err := p.signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "a takeover from the paused holder", func() bool {
		_, nt, ok := holder(t, rdb)
		if !ok || nt <= tok {
			return false
		}
		st, err := watchers.LoadStatus(context.Background(), rdb, "ethereum")
		return err == nil && st.UpdatedAt.After(paused)
	})
	took := time.Since(paused)
	if err := p.signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the woken holder to end its stale term", func() bool {
		return p.logged(`"msg":"lease lost"`, fmt.Sprintf(`"token":%d`, tok))
	})
	t.Logf("holder %s (token %d) paused; taken over and scanned %v later; on waking it ended its term", id, tok, took.Round(time.Millisecond))
}

// setupAccounts creates the ledger accounts and registers one EVM
// address each before any process starts.
func setupAccounts(t *testing.T, rdb redis.UniversalClient) []common.Address {
	t.Helper()
	ctx := context.Background()
	l := ledger.New(rdb, time.Now)
	book, err := addressbook.New(rdb, addressbook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out []common.Address
	for i := range accounts {
		id := "cust-" + strconv.Itoa(i)
		if err := l.CreateAccount(ctx, ledger.Account{ID: ledger.AccountID(id), Name: id}); err != nil {
			t.Fatal(err)
		}
		a := common.BigToAddress(big.NewInt(int64(0xdead0000 + i)))
		if _, err := book.Register(ctx, id, chains.FamilyEVM, a.Hex()); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func holder(t *testing.T, rdb redis.UniversalClient) (string, int64, bool) {
	t.Helper()
	id, tok, ok, err := lease.Holder(context.Background(), rdb, "ethereum")
	if err != nil {
		t.Fatal(err)
	}
	return id, tok, ok
}

// procOf finds the slot whose running process is holder id ("host/pid/…").
func procOf(t *testing.T, procs []*proc, id string) *proc {
	t.Helper()
	parts := strings.Split(id, "/")
	if len(parts) != 3 {
		t.Fatalf("holder id %q: want host/pid/suffix", id)
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil {
		t.Fatalf("holder id %q: %v", id, err)
	}
	for _, p := range procs {
		if p.pid() == pid {
			return p
		}
	}
	t.Fatalf("holder %s is none of the running processes", id)
	return nil
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
