package addressbook

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/depositd/depositd/chains"
)

// The BIP39 mnemonic "abandon ×11 about" with an empty passphrase. Its
// addresses below are published by several independent wallets and
// libraries (MetaMask/ethers, BlueWallet, the Ledger Tron app test script,
// Trust Wallet core tests); the test derives the account xpubs from the seed
// itself — a test may hold a private key, production code never does.
const (
	testMnemonic = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
	testSeedHex  = "5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4"
	// m/44'/60'/0' of the mnemonic (published in several wallet libraries'
	// tests and in py_crypto_hd_wallet's documentation).
	evmAccountXPub = "xpub6DCoCpSuQZB2jawqnGMEPS63ePKWkwWPH4TU45Q7LPXWuNd8TMtVxRrgjtEshuqpK3mdhaWHPFsBngh5GFZaM6si3yZdUsT8ddYM3PwnATt"
	// m/44'/60'/0'/0 (one level too deep), as BlueWallet's self-test publishes it.
	evmExternalXPub = "xpub6EF8jXqFeFEW5bwMU7RpQtHkzE4KJxcqJtvkCjJumzW8CPpacXkb92ek4WzLQXjL93HycJwTPUAcuNxCqFPKKU5m5Z2Vq4nCyh5CyPeBFFr"
)

var evmVectors = []string{ // m/44'/60'/0'/0/i
	"0x9858EfFD232B4033E47d90003D41EC34EcaEda94",
	"0x6Fac4D18c912343BF86fa7049364Dd4E424Ab9C0",
	"0xb6716976A3ebe8D39aCEB04372f22Ff8e6802D7A",
	"0xF3f50213C1d2e255e4B2bAD430F8A38EEF8D718E",
	"0x51cA8ff9f1C0a99f88E86B8112eA3237F55374cA",
}

// m/44'/195'/0'/0/0 and /1 of the mnemonic.
const (
	tronVector0 = "TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH"
	tronVector1 = "TSeJkUh4Qv67VNFwY8LaAxERygNdy6NQZK"
)

// accountKey returns m/44'/coin'/0' of the test mnemonic, private.
func accountKey(t *testing.T, coin uint32) *hdkeychain.ExtendedKey {
	t.Helper()
	seed, err := pbkdf2.Key(sha512.New, testMnemonic, []byte("mnemonic"), 2048, 64)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(seed) != testSeedHex {
		t.Fatalf("seed = %x, want the published BIP39 seed", seed)
	}
	k, err := hdkeychain.NewMaster(seed, &chaincfg.MainNetParams)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []uint32{44, coin, 0} {
		if k, err = k.Derive(hdkeychain.HardenedKeyStart + i); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

func accountXPub(t *testing.T, coin uint32) string {
	t.Helper()
	pub, err := accountKey(t, coin).Neuter()
	if err != nil {
		t.Fatal(err)
	}
	return pub.String()
}

func TestAccountXPubMatchesPublished(t *testing.T) {
	if got := accountXPub(t, 60); got != evmAccountXPub {
		t.Errorf("m/44'/60'/0' xpub = %s, want %s", got, evmAccountXPub)
	}
}

func TestDerive(t *testing.T) {
	ctx := context.Background()
	b, _ := newBook(t, Options{XPubs: map[chains.Family]string{
		chains.FamilyEVM:  evmAccountXPub,
		chains.FamilyTron: accountXPub(t, 195),
	}})
	derive := func(t *testing.T, f chains.Family, account string) Entry {
		t.Helper()
		e, err := b.Derive(ctx, f, account)
		if err != nil {
			t.Fatalf("Derive(%s, %s): %v", f, account, err)
		}
		return e
	}

	t.Run("published vectors in index order", func(t *testing.T) {
		for i, want := range evmVectors[:2] {
			e := derive(t, chains.FamilyEVM, fmt.Sprintf("acct-%d", i))
			if e.Address != want || e.Path != fmt.Sprintf("m/44'/60'/0'/0/%d", i) {
				t.Errorf("index %d: %s at %s, want %s", i, e.Address, e.Path, want)
			}
		}
		for i, want := range []string{tronVector0, tronVector1} {
			e := derive(t, chains.FamilyTron, fmt.Sprintf("acct-%d", i))
			if e.Address != want || e.Path != fmt.Sprintf("m/44'/195'/0'/0/%d", i) {
				t.Errorf("tron index %d: %s at %s, want %s", i, e.Address, e.Path, want)
			}
		}
	})
	t.Run("index to account and address to account stored", func(t *testing.T) {
		acct, ok, err := b.DerivedAccount(ctx, chains.FamilyEVM, 1)
		if err != nil || !ok || acct != "acct-1" {
			t.Errorf("DerivedAccount(evm, 1) = %q %v %v, want acct-1", acct, ok, err)
		}
		if _, ok, _ := b.DerivedAccount(ctx, chains.FamilyEVM, 2); ok {
			t.Errorf("index 2 reported taken before it was given out")
		}
		owner, err := b.Owner(ctx, chains.FamilyTron, tronVector0)
		if err != nil || owner != "acct-0" {
			t.Errorf("Owner(tron vector) = %q, %v", owner, err)
		}
	})
	t.Run("family taken burns no index", func(t *testing.T) {
		_, err := b.Derive(ctx, chains.FamilyEVM, "acct-0")
		if !errors.Is(err, ErrFamilyTaken) {
			t.Fatalf("err = %v, want ErrFamilyTaken", err)
		}
		if e := derive(t, chains.FamilyEVM, "acct-2"); e.Address != evmVectors[2] {
			t.Errorf("next derivation %s, want index 2 %s", e.Address, evmVectors[2])
		}
	})
	t.Run("index registered by hand is skipped", func(t *testing.T) {
		if _, err := b.Register(ctx, "manual", chains.FamilyEVM, evmVectors[3]); err != nil {
			t.Fatal(err)
		}
		if e := derive(t, chains.FamilyEVM, "acct-3"); e.Address != evmVectors[4] {
			t.Errorf("got %s, want index 4 %s", e.Address, evmVectors[4])
		}
		if _, ok, _ := b.DerivedAccount(ctx, chains.FamilyEVM, 3); ok {
			t.Errorf("skipped index 3 has an account")
		}
	})
	t.Run("solana cannot be derived", func(t *testing.T) {
		if _, err := b.Derive(ctx, chains.FamilySolana, "acct-9"); !errors.Is(err, ErrNoXPub) {
			t.Errorf("err = %v, want ErrNoXPub", err)
		}
	})
	t.Run("bad account", func(t *testing.T) {
		if _, err := b.Derive(ctx, chains.FamilyTron, ""); !errors.Is(err, ErrInvalidAccount) {
			t.Errorf("err = %v, want ErrInvalidAccount", err)
		}
	})
}

func TestDeriveConcurrentConsecutiveIndexes(t *testing.T) {
	ctx := context.Background()
	b, _ := newBook(t, Options{XPubs: map[chains.Family]string{chains.FamilyTron: accountXPub(t, 195)}})
	const n = 12
	var wg sync.WaitGroup
	paths := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := b.Derive(ctx, chains.FamilyTron, fmt.Sprintf("c-%d", i))
			paths[i], errs[i] = e.Path, err
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("derive %d: %v", i, errs[i])
		}
		seen[paths[i]] = true
	}
	for i := range n {
		if p := fmt.Sprintf("m/44'/195'/0'/0/%d", i); !seen[p] {
			t.Errorf("index path %s not given out; got %v", p, paths)
		}
	}
}

func TestXPubRefused(t *testing.T) {
	master, err := hdkeychain.NewMaster(mustHexBytes(t, testSeedHex), &chaincfg.MainNetParams)
	if err != nil {
		t.Fatal(err)
	}
	masterPub, err := master.Neuter()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, key, want string }{
		{"xprv of the account", accountKey(t, 60).String(), "private extended key (xprv)"},
		{"master xpub", masterPub.String(), "depth 0"},
		{"external chain xpub", evmExternalXPub, "depth 4"},
		{"checksum broken", evmAccountXPub[:len(evmAccountXPub)-1] + "x", "xpub for evm"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseXPub(chains.FamilyEVM, tc.key)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want …%s…", err, tc.want)
			}
		})
	}
}

func mustHexBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
