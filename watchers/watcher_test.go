package watchers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/chainstest"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/outbox"
)

func bigInt(n int64) *big.Int { return big.NewInt(n) }

func newRig(t *testing.T, finalDepth uint64) *rig {
	d := redistest.NewDeployment(t)
	rdb := d.Connect(t)
	return &rig{
		chain: chainstest.New("ethereum", finalDepth),
		redis: d,
		rdb:   rdb,
		rec:   &recorder{rdb: rdb},
		index: newIndex(chains.FamilyEVM, "alice", "bob"),
		clock: newClock(),
		cfg:   testConfig(),
	}
}

func usdt(to string, amount int64) chainstest.Payment {
	return chainstest.Payment{Token: "USDT", From: "stranger", To: to, Amount: amount, Decimals: 6}
}

// idOf is the id chainstest gives the i-th payment of block n on branch b.
func idOf(b int, n uint64, i int) string { return fmt.Sprintf("ethereum:b%d-%d-%d:0", b, n, i) }

func TestWatcherCreditsOnceAtFinality(t *testing.T) {
	r := newRig(t, 5)
	w := r.watcher(t)
	r.chain.Mine(
		usdt("alice", 500),
		usdt("bob", 50), // below the USDT minimum of 100
		chainstest.Payment{Token: "USDC", From: "stranger", To: "alice", Amount: 0}, // zero
		chainstest.Payment{Token: "USDT", From: "bob", To: "alice", Amount: 1000},   // self-transfer
		usdt("carol", 700), // not watched
		chainstest.Payment{Token: "FAKE", From: "stranger", To: "alice", Amount: 900}, // not a configured token
	)
	dep := idOf(0, 1, 0)
	steps := []struct {
		name      string
		mine      int
		wantSt    Status
		wantConfs uint64
		wantCreds int
	}{
		{"seen with one confirmation", 0, StatusSeen, 1, 0},
		{"confirmations grow", 1, StatusSeen, 2, 0},
		{"capped at required", 2, StatusSeen, 3, 0},
		{"credited when final", 2, StatusCredited, 3, 1},
		{"nothing more later", 3, StatusCredited, 3, 1},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			for range st.mine {
				r.chain.Mine()
			}
			poll(t, w)
			d := status(t, w, dep)
			if d.Status != st.wantSt || d.Confirmations != st.wantConfs || d.Required != 3 {
				t.Fatalf("deposit %s %d/%d, want %s %d/3", d.Status, d.Confirmations, d.Required, st.wantSt, st.wantConfs)
			}
			if _, n := r.rec.credited(t); n != st.wantCreds {
				t.Fatalf("credits %d, want %d", n, st.wantCreds)
			}
		})
	}
	checkExactlyOnce(t, r)
	t.Run("ignored transfers are counted by reason", func(t *testing.T) {
		for _, reason := range []string{ReasonBelowMin, ReasonZero, ReasonSelf, ReasonToken} {
			if got := counter(t, r.reg, "depositd_deposits_ignored_total", map[string]string{"reason": reason}); got != 1 {
				t.Errorf("ignored %s = %v, want 1", reason, got)
			}
		}
		if got := counter(t, r.reg, "depositd_deposits_credited_total", map[string]string{"chain": "ethereum", "token": "USDT"}); got != 1 {
			t.Errorf("credited metric %v", got)
		}
		if got := counter(t, r.reg, "depositd_credit_delay_seconds", nil); got != 1 {
			t.Errorf("credit delay samples %v", got)
		}
	})
	t.Run("status", func(t *testing.T) {
		st := w.Status()
		if st.Head != 9 || st.Scanned != 9 || st.Final != 4 || st.Lag != 0 || st.Paused || st.LastError != "" {
			t.Fatalf("status %+v", st)
		}
		loaded, err := LoadStatus(context.Background(), r.rdb, "ethereum")
		if err != nil || loaded != st {
			t.Fatalf("loaded %+v, %v; want %+v", loaded, err, st)
		}
	})
}

func TestWatcherReorgOrphansAndReincludes(t *testing.T) {
	r := newRig(t, 3)
	w := r.watcher(t)
	r.chain.Mine()
	r.chain.Mine(usdt("alice", 500))
	poll(t, w)
	id := idOf(0, 2, 0)
	if d := status(t, w, id); d.Status != StatusSeen || d.Block != 2 {
		t.Fatalf("before reorg %+v", d)
	}
	dropped := r.chain.Fork(1)
	r.chain.Mine()
	r.chain.Include(dropped...) // re-included one block later, on the new branch
	r.chain.Mine()
	poll(t, w)
	d := status(t, w, id)
	if d.Status != StatusSeen || d.Block != 3 {
		t.Fatalf("after reorg %+v, want seen in block 3", d)
	}
	if got := counter(t, r.reg, "depositd_deposits_orphaned_total", nil); got != 1 {
		t.Fatalf("orphaned metric %v", got)
	}
	for range 3 {
		r.chain.Mine()
	}
	poll(t, w)
	if d := status(t, w, id); d.Status != StatusCredited || d.Block != 3 {
		t.Fatalf("final %+v", d)
	}
	checkExactlyOnce(t, r)
	want := []string{outbox.DepositSeen, outbox.DepositOrphaned, outbox.DepositSeen}
	if got := outboxTypes(t, r.rdb, "acct-alice"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

func TestWatcherOrphanWhileDown(t *testing.T) {
	r := newRig(t, 3)
	w := r.watcher(t)
	r.chain.Mine(usdt("alice", 500))
	poll(t, w)
	r.chain.Fork(0) // the deposit's block vanishes while no watcher runs
	for range 5 {
		r.chain.Mine()
	}
	w2 := r.watcher(t)
	poll(t, w2)
	if d := status(t, w2, idOf(0, 1, 0)); d.Status != StatusOrphaned {
		t.Fatalf("stale seen deposit %+v, want orphaned by the final tier", d)
	}
	checkExactlyOnce(t, r)
}

func TestWatcherRejectsInconsistentTransfers(t *testing.T) {
	r := newRig(t, 3)
	w := r.watcher(t)
	r.chain.Mine()
	r.chain.Mine(usdt("alice", 500))
	fired := false
	r.chain.SetHook(func(method string, _, to uint64) error {
		if method == chainstest.MethodTransfers && to == 2 && !fired {
			fired = true // the chain reorgs between the Headers and Transfers calls
			r.chain.Include(r.chain.Fork(1)...)
		}
		return nil
	})
	if err := w.Poll(context.Background()); !errors.Is(err, ErrInconsistent) {
		t.Fatalf("poll err %v, want ErrInconsistent", err)
	}
	if st := w.Status(); st.Scanned != 0 || !strings.Contains(st.LastError, "inconsistent") {
		t.Fatalf("status after inconsistent answer %+v", st)
	}
	poll(t, w)
	hs, _ := r.chain.Headers(context.Background(), 2, 2)
	if d := status(t, w, idOf(0, 2, 0)); d.BlockHash != hs[0].Hash {
		t.Fatalf("deposit in %s, canonical %s", d.BlockHash, hs[0].Hash)
	}
}

func TestWatcherSourceErrorsNoGaps(t *testing.T) {
	r := newRig(t, 3)
	w := r.watcher(t)
	rng := rand.New(rand.NewPCG(7, 11))
	r.chain.SetHook(func(string, uint64, uint64) error {
		if rng.IntN(10) < 3 {
			return errors.New("rpc: connection reset")
		}
		return nil
	})
	labels := []string{"alice", "bob", "carol"}
	failures := 0
	for i := range 60 {
		var pays []chainstest.Payment
		for range rng.IntN(4) {
			pays = append(pays, usdt(labels[rng.IntN(3)], int64(rng.IntN(1000))))
		}
		r.chain.Mine(pays...)
		if i%9 == 8 { // a shallow reorg, some transfers re-included
			dropped := r.chain.Fork(r.chain.Latest() - 2)
			r.chain.Mine()
			if len(dropped) > 0 {
				r.chain.Include(dropped[:len(dropped)/2+1]...)
			}
		}
		if i%13 == 0 {
			r.rec.mu.Lock()
			r.rec.fails = 1
			r.rec.mu.Unlock()
		}
		if err := w.Poll(context.Background()); err != nil {
			failures++
		}
	}
	if failures == 0 {
		t.Fatal("no poll failed: the test injects nothing")
	}
	r.chain.SetHook(nil)
	poll(t, w)
	checkExactlyOnce(t, r)
	if len(expected(r)) < 20 {
		t.Fatalf("only %d deposits: too few to mean anything", len(expected(r)))
	}
}

func TestWatcherRestartResumes(t *testing.T) {
	r := newRig(t, 3)
	r.cfg.Rescan = 6
	w := r.watcher(t)
	for i := range 20 {
		r.chain.Mine(usdt("alice", int64(100+i)), usdt("bob", int64(200+i)))
		if i == 11 {
			poll(t, w)
		}
	}
	r.rec.mu.Lock()
	callsBefore := r.rec.calls
	r.rec.mu.Unlock()
	w2 := r.watcher(t) // a new process: empty memory, same Redis
	poll(t, w2)
	checkExactlyOnce(t, r)
	r.rec.mu.Lock()
	repeats := r.rec.calls - callsBefore
	r.rec.mu.Unlock()
	// w2 re-scans 6 blocks below the stored cursor 9: 12 repeated credits
	// absorbed by idempotency, then blocks 10..17 bring 16 new ones.
	if repeats != 12+16 {
		t.Fatalf("credit calls after restart %d, want 28", repeats)
	}
	if st := w2.Status(); st.Final != 17 {
		t.Fatalf("final cursor %d, want 17", st.Final)
	}
}

func TestWatcherPause(t *testing.T) {
	r := newRig(t, 3)
	w := r.watcher(t)
	ctx := context.Background()
	if err := w.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	r.chain.Mine(usdt("alice", 500))
	for range 4 {
		r.chain.Mine()
	}
	poll(t, w)
	if st := w.Status(); !st.Paused || st.Head != 5 || st.Scanned != 0 {
		t.Fatalf("paused status %+v", st)
	}
	if n := r.chain.Calls(chainstest.MethodTransfers) + r.chain.Calls(chainstest.MethodHeaders); n != 0 {
		t.Fatalf("paused watcher scanned: %d calls", n)
	}
	if err := w.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	poll(t, w)
	if st := w.Status(); st.Paused || st.Final != 2 {
		t.Fatalf("resumed status %+v", st)
	}
	checkExactlyOnce(t, r)
}

func TestWatcherReorgPastFinalReverses(t *testing.T) {
	r := newRig(t, 3)
	w := r.watcher(t)
	r.chain.Mine()
	r.chain.Mine(usdt("alice", 500))
	for range 4 {
		r.chain.Mine()
	}
	poll(t, w)
	id := idOf(0, 2, 0)
	if d := status(t, w, id); d.Status != StatusCredited {
		t.Fatalf("before %+v", d)
	}
	r.chain.Fork(1) // the chain breaks its own finality
	for range 7 {
		r.chain.Mine()
	}
	if err := w.Poll(context.Background()); !errors.Is(err, ErrReorgPastFinal) {
		t.Fatalf("poll err %v, want ErrReorgPastFinal", err)
	}
	if d := status(t, w, id); d.Status != StatusReversed {
		t.Fatalf("after %+v, want reversed", d)
	}
	if st, _ := LoadStatus(context.Background(), r.rdb, "ethereum"); !st.Paused {
		t.Fatalf("chain not halted: %+v", st)
	}
	// Final at the first poll, the deposit was never "seen" by the tip tier.
	want := []string{outbox.DepositReversed}
	if got := outboxTypes(t, r.rdb, "acct-alice"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if _, n := r.rec.credited(t); n != 1 {
		t.Fatalf("credits %d: a reversal never debits or re-credits", n)
	}
}

func TestWatcherSolanaSkippedSlotsAndHolders(t *testing.T) {
	r := newRig(t, 3)
	r.cfg.Family = chains.FamilySolana
	r.index = newIndex(chains.FamilySolana, "alice")
	_, alice := chainstest.Addr("alice")
	_, aliceATA := chainstest.Addr("alice-ata")
	_, mallory := chainstest.Addr("mallory")
	r.index.holders[aliceATA] = holder{account: "acct-alice", wallet: alice}
	w := r.watcher(t)
	tr := func(tx string, owner chains.AddrKey) chains.Transfer {
		return chains.Transfer{Token: "USDT", TxID: tx, To: "owner", ToKey: owner, Holder: "ata", HolderKey: aliceATA, Amount: bigInt(1000), Decimals: 6}
	}
	r.chain.Skip(4)
	r.chain.Include(tr("sig-ok", alice), tr("sig-handed-over", mallory)) // slot 5
	poll(t, w)
	if d := status(t, w, "ethereum:sig-ok:0"); d.Status != StatusSeen || d.Block != 5 {
		t.Fatalf("deposit %+v", d)
	}
	r.chain.Skip(2)
	r.chain.Mine() // slot 8
	r.chain.Skip(3)
	r.chain.Mine() // slot 12: final marker 9 is a skipped slot
	poll(t, w)
	if d := status(t, w, "ethereum:sig-ok:0"); d.Status != StatusCredited || d.Block != 5 {
		t.Fatalf("deposit %+v", d)
	}
	if _, err := w.Deposits().Get(context.Background(), "ethereum:sig-handed-over:0"); !errors.Is(err, ErrNoDeposit) {
		t.Fatalf("owner-mismatch transfer recorded: %v", err)
	}
	if got := counter(t, r.reg, "depositd_deposits_ignored_total", map[string]string{"reason": ReasonNotOwner}); got != 1 {
		t.Fatalf("holder mismatch count %v", got)
	}
	if _, n := r.rec.credited(t); n != 1 {
		t.Fatalf("credits %d", n)
	}
}

func TestFinalMarker(t *testing.T) {
	heads := chains.Heads{Latest: 100, Safe: 98, Final: 97}
	tests := []struct {
		name string
		cfg  Config
		h    chains.Heads
		want uint64
	}{
		{"finalized tag", Config{Policy: PolicyFinalized, Required: 12}, heads, 97},
		{"finalized and min depth binds", Config{Policy: PolicyFinalized, Required: 5, MinDepth: 5}, heads, 96},
		{"finalized and min depth loose", Config{Policy: PolicyFinalized, Required: 2, MinDepth: 2}, heads, 97},
		{"confirmations", Config{Policy: PolicyConfirmations, Required: 12}, heads, 89},
		{"confirmations on a young chain", Config{Policy: PolicyConfirmations, Required: 12}, chains.Heads{Latest: 5}, 0},
		{"exactly enough", Config{Policy: PolicyConfirmations, Required: 6}, chains.Heads{Latest: 5}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &Watcher{cfg: tc.cfg}
			if got := w.finalMarker(tc.h); got != tc.want {
				t.Fatalf("final marker %d, want %d", got, tc.want)
			}
		})
	}
}

func TestWatcherRunBacksOff(t *testing.T) {
	r := newRig(t, 3)
	r.cfg.PollInterval = time.Second
	r.cfg.MaxBackoff = 8 * time.Second
	w := r.watcher(t)
	fails := 5
	r.chain.SetHook(func(method string, _, _ uint64) error {
		if method == chainstest.MethodHeads && fails > 0 {
			fails--
			return errors.New("rpc down")
		}
		return nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.clock.onAfter = func(n int) {
		if n == 7 {
			cancel()
		}
	}
	if err := w.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := []time.Duration{1, 2, 4, 8, 8, 1, 1}
	for i := range want {
		want[i] *= time.Second
	}
	if fmt.Sprint(r.clock.waits) != fmt.Sprint(want) {
		t.Fatalf("waits %v, want %v", r.clock.waits, want)
	}
}

func TestWatcherBackfillProgress(t *testing.T) {
	r := newRig(t, 3)
	r.cfg.ProgressEvery = 5 * time.Second
	for range 60 {
		r.chain.Mine(usdt("alice", 150))
	}
	var buf bytes.Buffer
	w := r.watcher(t)
	w.log = slog.New(slog.NewTextHandler(&buf, nil))
	poll(t, w)
	lines := strings.Count(buf.String(), "msg=backfill")
	if lines < 2 || !strings.Contains(buf.String(), "blocks_per_s=") || !strings.Contains(buf.String(), "done=true") {
		t.Fatalf("%d backfill lines:\n%s", lines, buf.String())
	}
	checkExactlyOnce(t, r)
}

func TestNewRejectsBadConfig(t *testing.T) {
	reg := testMetrics(t)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"family", Config{Family: "btc", Required: 1, Tokens: []Token{{Symbol: "USDT"}}}, "family"},
		{"policy", Config{Family: chains.FamilyEVM, Policy: "vibes", Required: 1, Tokens: []Token{{Symbol: "USDT"}}}, "policy"},
		{"required", Config{Family: chains.FamilyEVM, Tokens: []Token{{Symbol: "USDT"}}}, "required"},
		{"tokens", Config{Family: chains.FamilyEVM, Required: 1}, "tokens"},
		{"negative minimum", Config{Family: chains.FamilyEVM, Required: 1, Tokens: []Token{{Symbol: "USDT", MinRaw: bigInt(-1)}}}, "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(chainstest.New("x", 1), newIndex(chains.FamilyEVM), nil, nil, tc.cfg, Options{Metrics: reg})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
