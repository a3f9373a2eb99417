package e2e

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/addressbook"
	"github.com/depositd/depositd/chains"
	sol "github.com/depositd/depositd/chains/solana"
	"github.com/depositd/depositd/internal/devnet/solnet"
	"github.com/depositd/depositd/internal/ledgercredit"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/settlement/ledger"
	"github.com/depositd/depositd/watchers"
)

const solFinalLag = 4

// solMints are the watched mints: USDC under Token, PYUSD under Token-2022.
func solMints(usdc, pyusd solana.PublicKey) []sol.Mint {
	return []sol.Mint{
		{Symbol: "USDC", Mint: usdc, Program: solana.TokenProgramID, Decimals: 6},
		{Symbol: "PYUSD", Mint: pyusd, Program: solana.Token2022ProgramID, Decimals: 6},
	}
}

func bookMints(ms []sol.Mint) []addressbook.SolanaMint {
	var out []addressbook.SolanaMint
	for _, m := range ms {
		out = append(out, addressbook.SolanaMint{Mint: m.Mint, Program: m.Program})
	}
	return out
}

// solSource connects the adapter to the node; nested reports token accounts
// of ours (nil: none).
func solSource(url string, ms []sol.Mint, nested func(chains.AddrKey) bool) (*sol.Client, error) {
	return sol.New(sol.Config{
		Endpoints: []string{url}, Mints: ms, RequestTimeout: 2 * time.Second,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, NestedOwner: nested,
	})
}

// runSolanaChild watches the node (args: url, usdc mint, pyusd mint) with
// the addressbook index over Redis, crediting through the ledger, until
// killed.
func runSolanaChild(ctx context.Context, rdb *redis.Client, args []string) error {
	if len(args) != 3 {
		return fmt.Errorf("solana child args %q: want url,usdc,pyusd", args)
	}
	usdc, err := solana.PublicKeyFromBase58(args[1])
	if err != nil {
		return err
	}
	pyusd, err := solana.PublicKeyFromBase58(args[2])
	if err != nil {
		return err
	}
	ms := solMints(usdc, pyusd)
	ix, err := addressbook.NewIndex(rdb, bookMints(ms), addressbook.IndexOptions{})
	if err != nil {
		return err
	}
	if err := ix.Load(ctx); err != nil {
		return err
	}
	src, err := solSource(args[0], ms, func(k chains.AddrKey) bool { _, _, ok := ix.LookupHolder(k); return ok })
	if err != nil {
		return err
	}
	defer src.Close()
	m, err := watchers.NewMetrics(prometheus.NewRegistry())
	if err != nil {
		return err
	}
	w, err := watchers.New(src, ix, &ledgercredit.Crediter{Ledger: ledger.New(rdb, time.Now), Rate: ledgercredit.OneUSD}, rdb, watchers.Config{
		Family: chains.FamilySolana, Tokens: []watchers.Token{{Symbol: "USDC"}, {Symbol: "PYUSD"}},
		Policy: watchers.PolicyFinalized, Required: solFinalLag, StartBlock: 1, MaxRange: 8, Rescan: 2,
		PollInterval: 15 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
	}, watchers.Options{Metrics: m, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	return w.Run(ctx)
}

// solWallet makes a deterministic wallet (an ed25519 key, on the curve as
// the address book requires) from a label.
func solWallet(label string) solana.PublicKey {
	seed := sha256.Sum256([]byte(label))
	return solana.PublicKeyFromBytes(ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey))
}

// TestSolanaKill9 mines SPL Token and Token-2022 deposits to registered
// wallets' associated token accounts, with failed transactions, a foreign
// mint, nested ATAs, owner-changed accounts and forks above finalized,
// while watcher processes killed with SIGKILL at random points credit them
// through the ledger; then every canonical deposit at or below finalized
// must be credited exactly once and nothing else.
func TestSolanaKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 campaign: skipped in -short")
	}
	ctx := context.Background()
	rs := redistest.New(t)
	rdb := rs.Client(t)
	node, err := solnet.Start(ctx, solnet.Options{FinalLag: solFinalLag})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	usdc, err := node.CreateMint(solana.TokenProgramID, 6)
	if err != nil {
		t.Fatal(err)
	}
	pyusd, err := node.CreateMint(solana.Token2022ProgramID, 6)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := node.CreateMint(solana.TokenProgramID, 6)
	if err != nil {
		t.Fatal(err)
	}
	ms := solMints(usdc, pyusd)
	payer := node.NewWallet()
	for _, m := range []solana.PublicKey{usdc, pyusd, foreign} {
		if _, err := node.MintTo(m, payer, 1e15); err != nil {
			t.Fatal(err)
		}
	}
	node.Mine()

	const nRecipients, nVictims, slots, perSlot = 20, 4, 40, 6
	book, err := addressbook.New(rdb, addressbook.Options{Mints: bookMints(ms)})
	if err != nil {
		t.Fatal(err)
	}
	l := ledger.New(rdb, time.Now)
	register := func(i int) solana.PublicKey {
		w := solWallet("recipient-" + strconv.Itoa(i))
		acct := "acct-" + strconv.Itoa(i)
		if _, err := book.Register(ctx, acct, chains.FamilySolana, w.String()); err != nil {
			t.Fatal(err)
		}
		if err := l.CreateAccount(ctx, ledger.Account{ID: ledger.AccountID(acct)}); err != nil {
			t.Fatal(err)
		}
		return w
	}
	recipients := make([]solana.PublicKey, nRecipients)
	for i := range recipients {
		recipients[i] = register(i)
	}
	// Victims are registered wallets whose USDC account is handed to
	// another owner: nothing paid into it afterwards is theirs.
	victims := make([]solana.PublicKey, nVictims)
	for i := range victims {
		victims[i] = register(nRecipients + i)
	}
	must := func(sig string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	sent := map[uint64][]string{} // slot → signatures of the deposits mined in it
	var opening []string          // the victims' first deposits create their USDC accounts
	for _, v := range victims {
		opening = append(opening, must(node.Transfer(usdc, payer, v, 1_500_000)))
	}
	sent[node.Mine()] = opening
	total := len(opening)

	env := []string{childEnv + "=solana", childRedis + "=" + rs.Addr(),
		childArgs + "=" + node.URL() + "," + usdc.String() + "," + pyusd.String()}
	rng := rand.New(rand.NewPCG(2026, 7))
	forbidden := map[string]string{} // signature → why it must never be credited
	c := startChild(t, env)
	kills, forks, orphaned := 0, 0, 0
	for s := range slots {
		var sigs []string
		for i := range perSlot {
			mint := []solana.PublicKey{usdc, pyusd}[i%2]
			sigs = append(sigs, must(node.Transfer(mint, payer, recipients[rng.IntN(nRecipients)], uint64(1_000_000+s*100+i))))
		}
		to := recipients[rng.IntN(nRecipients)]
		forbidden[must(node.FailedTransfer(usdc, payer, to, 5_000_000))] = "a failed transaction"
		forbidden[must(node.Transfer(foreign, payer, to, 3_000_000))] = "a foreign mint"
		switch s % 10 {
		case 7: // a nested ATA: paid to the ATA of to's ATA
			sig, _, err := node.NestedTransfer(usdc, payer, to, 4_000_000)
			forbidden[must(sig, err)] = "a nested ATA"
		case 0, 1, 2, 3: // a victim's USDC account changes owner as it is paid, then is paid again
			v := victims[s%10]
			ata, err := node.ATA(v, usdc)
			if err != nil {
				t.Fatal(err)
			}
			if s < 10 {
				forbidden[must(node.TransferAndSetOwner(usdc, payer, ata, node.NewWallet(), 6_000_000))] = "an owner-changing transfer"
			} else {
				forbidden[must(node.Transfer(usdc, payer, v, 7_000_000))] = "a transfer into an account of a new owner"
			}
		}
		mined := node.Mine()
		sent[mined] = sigs
		total += len(sigs)
		if s%6 == 5 { // a fork above finalized: the newest 1–2 slots are replaced by empty ones
			confirmed, _ := node.Slot()
			waitScanned(t, rdb, "solana", c.started, confirmed)
			depth := 1 + rng.IntN(2)
			var dropped []uint64
			for n := confirmed; len(dropped) < depth; n-- {
				if _, ok := node.Block(n); ok {
					dropped = append(dropped, n)
				}
			}
			if err := node.Fork(depth); err != nil {
				t.Fatal(err)
			}
			for _, n := range dropped {
				for _, sig := range sent[n] {
					forbidden[sig] = "orphaned by a fork"
					orphaned++
				}
			}
			forks++
			confirmed, _ = node.Slot()
			waitScanned(t, rdb, "solana", c.started, confirmed) // the same child walked back over it
		}
		<-time.After(time.Duration(rng.IntN(30)) * time.Millisecond)
		if rng.IntN(3) == 0 {
			c.kill9()
			kills++
			c = startChild(t, env)
		}
	}
	for range solFinalLag + 1 {
		node.Mine()
	}
	_, final := node.Slot()
	waitFinal(t, rdb, "solana", final, 20*time.Second)
	c.kill9()

	// The node's truth: deposits of the watched mints into registered
	// wallets' own associated token accounts, in canonical slots up to
	// finalized, read through a fresh client.
	src, err := solSource(node.URL(), ms, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ts, err := src.Transfers(ctx, 1, final)
	if err != nil {
		t.Fatal(err)
	}
	atas := map[chains.AddrKey]chains.AddrKey{} // ATA → wallet
	for _, w := range append(slices.Clone(recipients), victims...) {
		for _, m := range []solana.PublicKey{usdc, pyusd} {
			a, err := node.ATA(w, m)
			if err != nil {
				t.Fatal(err)
			}
			atas[chains.AddrKey(a)] = chains.AddrKey(w)
		}
	}
	var want []string
	for _, tr := range ts {
		if w, ok := atas[tr.HolderKey]; ok && w == tr.ToKey {
			want = append(want, tr.ID())
			if why, ok := forbidden[tr.TxID]; ok {
				t.Fatalf("the canonical chain holds %s as a deposit, but the test made it %s", tr.ID(), why)
			}
		}
	}
	slices.Sort(want)
	reasons := map[string]int{}
	for _, why := range forbidden {
		reasons[why]++
	}
	t.Logf("solana: %d deposits credited, not credited: %v; %d kills, %d forks, finalized %d",
		len(want), reasons, kills, forks, final)
	if len(want) != total-orphaned {
		t.Fatalf("the chain holds %d deposits, want %d sent less %d orphaned", len(want), total, orphaned)
	}
	if kills == 0 || forks == 0 || orphaned == 0 {
		t.Fatalf("kills %d, forks %d, orphaned %d: the campaign did not exercise them", kills, forks, orphaned)
	}
	checkExactlyOnce(t, l, want, forbidden)
}
