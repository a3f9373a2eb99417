package addressbook

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/address"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/gagliardetto/solana-go"
	"github.com/redis/go-redis/v9"
)

var (
	usdcMint = SolanaMint{Mint: solana.MustPublicKeyFromBase58("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"), Program: solana.TokenProgramID}
	usdtMint = SolanaMint{Mint: solana.MustPublicKeyFromBase58("Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"), Program: solana.TokenProgramID}
)

const (
	fixtureWallet = "3UJQqKq8Xyx4aVRmHgEwpQZiW7toYRQCTy6Bgp1RdKnK"
	fixtureATA    = "8dqL6jKduEJwfAem49yAvXB8YczkDPgVCgU88VPfTnAP" // its USDC token account
)

func newBook(t *testing.T, opts Options) (*Book, redis.UniversalClient) {
	t.Helper()
	rdb := redistest.NewClient(t)
	if opts.Mints == nil {
		opts.Mints = []SolanaMint{usdcMint, usdtMint}
	}
	b, err := New(rdb, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return b, rdb
}

func TestRegister(t *testing.T) {
	ctx := context.Background()
	b, _ := newBook(t, Options{})
	cases := []struct {
		name    string
		account string
		family  chains.Family
		in      string
		norm    string
		wantErr error
	}{
		{"evm lowercase normalised", "acct-1", chains.FamilyEVM, "0x9e96e6f92d132a82ea8024682a633cc7d0f5c4c3", "", nil},
		{"evm checksummed", "acct-2", chains.FamilyEVM, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94", "0x9858EfFD232B4033E47d90003D41EC34EcaEda94", nil},
		{"tron base58", "acct-1", chains.FamilyTron, "TL1mBABLk68nZwt92dgGc43p5uk1j3YtY9", "TL1mBABLk68nZwt92dgGc43p5uk1j3YtY9", nil},
		{"tron hex", "acct-2", chains.FamilyTron, "41a614f803b6fd780986a42c78ec9c7f77e6ded13c", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", nil},
		{"solana wallet", "acct-1", chains.FamilySolana, fixtureWallet, fixtureWallet, nil},
		{"evm bad checksum", "acct-3", chains.FamilyEVM, "0x9858efFD232B4033E47d90003D41EC34EcaEda94", "", address.ErrInvalid},
		{"tron bad checksum", "acct-3", chains.FamilyTron, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", "", address.ErrInvalid},
		{"solana ata is not a wallet", "acct-3", chains.FamilySolana, fixtureATA, "", address.ErrInvalid},
		{"unknown family", "acct-3", chains.Family("btc"), "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "", address.ErrInvalid},
		{"empty account", "", chains.FamilyEVM, "0x0e747eb2ff0f26fb77c3a1ea67ee07fac2dbb783", "", ErrInvalidAccount},
		{"account with space", "a b", chains.FamilyEVM, "0x0e747eb2ff0f26fb77c3a1ea67ee07fac2dbb783", "", ErrInvalidAccount},
		{"duplicate other spelling", "acct-3", chains.FamilyEVM, "0x9858EFFD232B4033E47D90003D41EC34ECAEDA94", "", ErrDuplicate},
		{"duplicate tron as base58", "acct-3", chains.FamilyTron, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "", ErrDuplicate},
		{"duplicate same account", "acct-1", chains.FamilySolana, fixtureWallet, "", ErrDuplicate},
		{"second evm for account", "acct-1", chains.FamilyEVM, "0x0e747eb2ff0f26fb77c3a1ea67ee07fac2dbb783", "", ErrFamilyTaken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := b.Register(ctx, tc.account, tc.family, tc.in)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Register: %v", err)
			}
			if tc.norm != "" && e.Address != tc.norm {
				t.Errorf("Address = %s, want %s", e.Address, tc.norm)
			}
			owner, err := b.Owner(ctx, tc.family, tc.in)
			if err != nil || owner != tc.account {
				t.Errorf("Owner(%s) = %q, %v; want %s", tc.in, owner, err, tc.account)
			}
		})
	}

	t.Run("errors name the owner and the existing address", func(t *testing.T) {
		_, err := b.Register(ctx, "acct-9", chains.FamilyEVM, "0x9858EfFD232B4033E47d90003D41EC34EcaEda94")
		var dup *DuplicateError
		if !errors.As(err, &dup) || dup.Owner != "acct-2" || !strings.Contains(err.Error(), "acct-2") {
			t.Errorf("err = %v, want duplicate owned by acct-2", err)
		}
		_, err = b.Register(ctx, "acct-2", chains.FamilyEVM, "0x0e747eb2ff0f26fb77c3a1ea67ee07fac2dbb783")
		var taken *FamilyTakenError
		if !errors.As(err, &taken) || taken.Address != "0x9858EfFD232B4033E47d90003D41EC34EcaEda94" {
			t.Errorf("err = %v, want family taken by 0x9858…", err)
		}
	})
	t.Run("addresses of an account", func(t *testing.T) {
		got, err := b.AddressesOf(ctx, "acct-1")
		if err != nil {
			t.Fatal(err)
		}
		want := map[chains.Family]string{
			chains.FamilyEVM:    "0x9E96e6F92D132a82eA8024682a633cc7D0f5C4C3",
			chains.FamilyTron:   "TL1mBABLk68nZwt92dgGc43p5uk1j3YtY9",
			chains.FamilySolana: fixtureWallet,
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("AddressesOf = %v, want %v", got, want)
		}
		none, err := b.AddressesOf(ctx, "nobody")
		if err != nil || len(none) != 0 {
			t.Errorf("AddressesOf(nobody) = %v, %v", none, err)
		}
	})
	t.Run("owner of unknown and invalid", func(t *testing.T) {
		if _, err := b.Owner(ctx, chains.FamilyEVM, "0x0e747eb2ff0f26fb77c3a1ea67ee07fac2dbb783"); !errors.Is(err, ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
		if _, err := b.Owner(ctx, chains.FamilyTron, "nope"); !errors.Is(err, address.ErrInvalid) {
			t.Errorf("err = %v, want address.ErrInvalid", err)
		}
	})
}

func TestRegisterSolanaStoresATAs(t *testing.T) {
	ctx := context.Background()
	b, rdb := newBook(t, Options{})
	e, err := b.Register(ctx, "acct-1", chains.FamilySolana, fixtureWallet)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.ATAs) != 2 || e.ATAs[0].Mint != usdcMint.Mint.String() || e.ATAs[0].Account != fixtureATA {
		t.Fatalf("ATAs = %+v, want USDC ATA %s first of 2", e.ATAs, fixtureATA)
	}
	msgs, err := rdb.XRange(ctx, LogStream, "-", "+").Result()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("addrlog = %v, %v; want one entry", msgs, err)
	}
	v := msgs[0].Values
	for field, want := range map[string]string{
		"family":                        "solana",
		"address":                       fixtureWallet,
		"account":                       "acct-1",
		"key":                           fmt.Sprintf("%x", e.Key[:]),
		"ata:" + usdcMint.Mint.String(): fixtureATA,
		"ata:" + usdtMint.Mint.String(): e.ATAs[1].Account,
	} {
		if v[field] != want {
			t.Errorf("addrlog %s = %v, want %s", field, v[field], want)
		}
	}
}

func TestRegisterConcurrentOneWinner(t *testing.T) {
	ctx := context.Background()
	b, rdb := newBook(t, Options{})
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = b.Register(ctx, fmt.Sprintf("acct-%d", i), chains.FamilyTron, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")
		}()
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, ErrDuplicate):
			t.Errorf("unexpected error %v", err)
		}
	}
	if wins != 1 {
		t.Errorf("%d registrations won, want exactly 1", wins)
	}
	if l := rdb.XLen(ctx, LogStream).Val(); l != 1 {
		t.Errorf("addrlog has %d entries, want 1", l)
	}
}

func TestRegisterMany(t *testing.T) {
	ctx := context.Background()
	b, rdb := newBook(t, Options{})
	regs := []Registration{
		{"a1", chains.FamilyEVM, "0x0e747eb2ff0f26fb77c3a1ea67ee07fac2dbb783"},
		{"a2", chains.FamilyEVM, "not an address"},
		{"a3", chains.FamilyEVM, "0x0E747EB2FF0F26FB77C3A1EA67EE07FAC2DBB783"}, // same as a1
		{"a1", chains.FamilyEVM, "0x9e96e6f92d132a82ea8024682a633cc7d0f5c4c3"}, // a1 has evm already
		{"a1", chains.FamilyTron, "TWpZXLfsvVuQuJZLkdWNY7XY2teePqPpz7"},
		{"a4", chains.FamilySolana, "B1nzrk99FEDAYB2M82yepdvEv1YBRJKcx5Y5R6MSDW1Q"},
	}
	want := []error{nil, address.ErrInvalid, ErrDuplicate, ErrFamilyTaken, nil, nil}
	res := b.RegisterMany(ctx, regs)
	if len(res) != len(regs) {
		t.Fatalf("%d results for %d registrations", len(res), len(regs))
	}
	for i, r := range res {
		t.Run(fmt.Sprintf("item %d %s", i, regs[i].Address), func(t *testing.T) {
			if want[i] == nil && r.Err != nil || want[i] != nil && !errors.Is(r.Err, want[i]) {
				t.Errorf("err = %v, want %v", r.Err, want[i])
			}
		})
	}
	if l := rdb.XLen(ctx, LogStream).Val(); l != 3 {
		t.Errorf("addrlog has %d entries, want 3", l)
	}

	t.Run("large bulk spans pipeline chunks", func(t *testing.T) {
		const n = 2*bulkChunk + 17
		regs := make([]Registration, n)
		for i := range regs {
			regs[i] = Registration{Account: fmt.Sprintf("bulk-%d", i), Family: chains.FamilyEVM, Address: fmt.Sprintf("0x%040x", i+1)}
		}
		for i, r := range b.RegisterMany(ctx, regs) {
			if r.Err != nil {
				t.Fatalf("item %d: %v", i, r.Err)
			}
		}
		owner, err := b.Owner(ctx, chains.FamilyEVM, fmt.Sprintf("0x%040x", n))
		if err != nil || owner != fmt.Sprintf("bulk-%d", n-1) {
			t.Errorf("Owner of last = %q, %v", owner, err)
		}
	})

	t.Run("script reloaded after the server forgot it", func(t *testing.T) {
		if err := rdb.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		res := b.RegisterMany(ctx, []Registration{{"after-flush", chains.FamilyTron, "TBA6CypYJizwA9XdC7Ubgc5F1bxrQ7SqPt"}})
		if res[0].Err != nil {
			t.Errorf("err = %v after SCRIPT FLUSH", res[0].Err)
		}
	})
}

func TestNewRejectsBadOptions(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { rdb.Close() })
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"mint twice", Options{Mints: []SolanaMint{usdcMint, usdcMint}}, "configured twice"},
		{"mint with system program", Options{Mints: []SolanaMint{{Mint: usdcMint.Mint, Program: solana.SystemProgramID}}}, "neither Token nor Token-2022"},
		{"solana xpub", Options{XPubs: map[chains.Family]string{chains.FamilySolana: evmAccountXPub}}, "only evm and tron"},
		{"garbage xpub", Options{XPubs: map[chains.Family]string{chains.FamilyEVM: "xpub-nope"}}, "xpub for evm"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(rdb, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want …%s…", err, tc.want)
			}
		})
	}
}
