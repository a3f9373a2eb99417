package addressbook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/address"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/gagliardetto/solana-go"
	"github.com/redis/go-redis/v9"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newIndex(t *testing.T, rdb redis.UniversalClient, mints []SolanaMint) *Index {
	t.Helper()
	x, err := NewIndex(rdb, mints, IndexOptions{Block: 50 * time.Millisecond, BackoffMin: 20 * time.Millisecond, BackoffMax: 200 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// runIndex runs x.Run until the test ends and checks that it stopped with
// the context's error.
func runIndex(t *testing.T, x *Index) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- x.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
}

// eventually polls cond until it holds or 5s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func mustKey(t *testing.T, f chains.Family, s string) chains.AddrKey {
	t.Helper()
	_, k, err := address.Parse(f, s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestIndexLoadAndLookup(t *testing.T) {
	ctx := context.Background()
	b, rdb := newBook(t, Options{})
	for _, r := range []Registration{
		{"acct-1", chains.FamilyEVM, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"},
		{"acct-1", chains.FamilyTron, "TL1mBABLk68nZwt92dgGc43p5uk1j3YtY9"},
		{"acct-1", chains.FamilySolana, fixtureWallet},
		{"acct-2", chains.FamilyTron, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"},
	} {
		if _, err := b.Register(ctx, r.Account, r.Family, r.Address); err != nil {
			t.Fatal(err)
		}
	}
	x := newIndex(t, rdb, []SolanaMint{usdcMint, usdtMint})
	if err := x.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if x.Len() != 4 {
		t.Errorf("Len = %d, want 4", x.Len())
	}
	cases := []struct {
		name   string
		family chains.Family
		addr   string
		want   string // "" = not watched
	}{
		{"evm", chains.FamilyEVM, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94", "acct-1"},
		{"tron", chains.FamilyTron, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "acct-2"},
		{"solana wallet", chains.FamilySolana, fixtureWallet, "acct-1"},
		{"evm bytes under tron family", chains.FamilyTron, "41" + "9858effd232b4033e47d90003d41ec34ecaeda94", ""},
		{"tron bytes under evm family", chains.FamilyEVM, "0xa614f803b6fd780986a42c78ec9c7f77e6ded13c", ""},
		{"ata is not a wallet", chains.FamilySolana, fixtureATA, ""},
		{"unknown evm", chains.FamilyEVM, "0x0e747eb2ff0f26fb77c3a1ea67ee07fac2dbb783", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := x.Lookup(tc.family, mustKey(t, tc.family, tc.addr))
			if ok != (tc.want != "") || got != tc.want {
				t.Errorf("Lookup = %q %v, want %q", got, ok, tc.want)
			}
		})
	}
	t.Run("holder resolves to wallet", func(t *testing.T) {
		acct, wallet, ok := x.LookupHolder(mustKey(t, chains.FamilySolana, fixtureATA))
		if !ok || acct != "acct-1" || wallet != mustKey(t, chains.FamilySolana, fixtureWallet) {
			t.Errorf("LookupHolder = %q %x %v", acct, wallet, ok)
		}
		if _, _, ok := x.LookupHolder(mustKey(t, chains.FamilySolana, fixtureWallet)); ok {
			t.Errorf("a wallet resolved as a token account")
		}
	})
	t.Run("lookups allocate nothing", func(t *testing.T) {
		evm := mustKey(t, chains.FamilyEVM, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94")
		ata := mustKey(t, chains.FamilySolana, fixtureATA)
		allocs := testing.AllocsPerRun(200, func() {
			x.Lookup(chains.FamilyEVM, evm)
			x.LookupHolder(ata)
		})
		if allocs != 0 {
			t.Errorf("%v allocations per lookup pair, want 0", allocs)
		}
	})
}

func TestIndexMintsFollowConfig(t *testing.T) {
	ctx := context.Background()
	b, rdb := newBook(t, Options{Mints: []SolanaMint{usdcMint, usdtMint}})
	if _, err := b.Register(ctx, "acct-1", chains.FamilySolana, fixtureWallet); err != nil {
		t.Fatal(err)
	}
	wallet := mustKey(t, chains.FamilySolana, fixtureWallet)
	t22 := SolanaMint{Mint: solana.MustPublicKeyFromBase58("CKfatsPMUf8SkiURsDXs7eK6GWb4Jsd6UDbs7twMCWxo"), Program: solana.Token2022ProgramID}
	t22ATA, err := address.SolanaATA(solana.PublicKey(wallet), t22.Mint, t22.Program)
	if err != nil {
		t.Fatal(err)
	}
	usdtATA, err := address.SolanaATA(solana.PublicKey(wallet), usdtMint.Mint, usdtMint.Program)
	if err != nil {
		t.Fatal(err)
	}
	// Index configured with USDC and a Token-2022 mint added after the
	// registration; USDT is no longer configured.
	x := newIndex(t, rdb, []SolanaMint{usdcMint, t22})
	if err := x.Load(ctx); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		ata  chains.AddrKey
		ok   bool
	}{
		{"stored usdc ata", mustKey(t, chains.FamilySolana, fixtureATA), true},
		{"derived token-2022 ata", chains.AddrKey(t22ATA), true},
		{"dropped usdt ata", chains.AddrKey(usdtATA), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, w, ok := x.LookupHolder(tc.ata)
			if ok != tc.ok || ok && w != wallet {
				t.Errorf("LookupHolder = %x %v, want ok=%v", w, ok, tc.ok)
			}
		})
	}
}

func TestIndexFollowsNewRegistrations(t *testing.T) {
	ctx := context.Background()
	b, rdb := newBook(t, Options{})
	x := newIndex(t, rdb, []SolanaMint{usdcMint})
	runIndex(t, x)

	key := mustKey(t, chains.FamilyTron, "TBA6CypYJizwA9XdC7Ubgc5F1bxrQ7SqPt")
	if _, err := b.Register(ctx, "late", chains.FamilyTron, "TBA6CypYJizwA9XdC7Ubgc5F1bxrQ7SqPt"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "tron address in index", func() bool { a, ok := x.Lookup(chains.FamilyTron, key); return ok && a == "late" })

	t.Run("malformed entries are skipped, later ones applied", func(t *testing.T) {
		for _, v := range []map[string]any{
			{"family": "evm", "key": "zz", "account": "bad"},
			{"family": "evm", "key": "00", "account": "bad"},
			{"family": "btc", "key": "00", "account": "bad"},
			{"family": "solana", "key": fmt.Sprintf("%x", make([]byte, 32))},
		} {
			if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: LogStream, Values: v}).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := b.Register(ctx, "after-bad", chains.FamilySolana, fixtureWallet); err != nil {
			t.Fatal(err)
		}
		eventually(t, "solana holder in index", func() bool {
			a, _, ok := x.LookupHolder(mustKey(t, chains.FamilySolana, fixtureATA))
			return ok && a == "after-bad"
		})
		if x.Len() != 2 {
			t.Errorf("Len = %d, want 2", x.Len())
		}
	})

	t.Run("reads while writing", func(t *testing.T) {
		const n = 3000
		regs := make([]Registration, n)
		for i := range regs {
			regs[i] = Registration{Account: fmt.Sprintf("rw-%d", i), Family: chains.FamilyEVM, Address: fmt.Sprintf("0x%040x", i+1)}
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
						x.Lookup(chains.FamilyTron, key)
						x.LookupHolder(key)
						_ = x.Len()
					}
				}
			}()
		}
		for _, r := range b.RegisterMany(ctx, regs) {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
		eventually(t, "all bulk addresses in index", func() bool { return x.Len() == n+2 })
		close(stop)
		wg.Wait()
	})
}

func TestIndexSurvivesRedisRestart(t *testing.T) {
	ctx := context.Background()
	srv := redistest.New(t)
	rdb := srv.Client(t)
	b, err := New(rdb, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Register(ctx, "before", chains.FamilyEVM, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94"); err != nil {
		t.Fatal(err)
	}
	x := newIndex(t, rdb, nil)
	runIndex(t, x)
	eventually(t, "index loaded", func() bool { return x.Len() == 1 })

	// Restart kills the server first: Run's blocked XREAD loses its
	// connection, fails, and backs off until the server is back.
	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Register(ctx, "after", chains.FamilyEVM, "0x6Fac4D18c912343BF86fa7049364Dd4E424Ab9C0"); err != nil {
		t.Fatal(err)
	}
	key := mustKey(t, chains.FamilyEVM, "0x6Fac4D18c912343BF86fa7049364Dd4E424Ab9C0")
	eventually(t, "address registered after restart", func() bool { a, ok := x.Lookup(chains.FamilyEVM, key); return ok && a == "after" })
	if x.Len() != 2 {
		t.Errorf("Len = %d, want 2 (nothing applied twice)", x.Len())
	}
}

func TestIndexRunStopsOnCancel(t *testing.T) {
	rdb := redistest.NewClient(t)
	x, err := NewIndex(rdb, nil, IndexOptions{Block: 100 * time.Millisecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- x.Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return within 3s of cancellation")
	}
}
