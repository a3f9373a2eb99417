package solana

import (
	"encoding/json"
	"testing"

	"github.com/depositd/depositd/chains/address"
	"github.com/depositd/depositd/internal/fixtures"
	"github.com/gagliardetto/solana-go"
)

var (
	usdcMint = solana.MustPublicKeyFromBase58("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
	usdc     = Mint{Symbol: "USDC", Mint: usdcMint, Program: solana.TokenProgramID, Decimals: 6}
)

// readFixture returns a fixture's JSON, unwrapping a JSON-RPC envelope.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b := fixtures.Read(t, "solana", name)
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if json.Unmarshal(b, &env) == nil && len(env.Result) > 0 {
		return env.Result
	}
	return b
}

// edit decodes raw into a generic tree, lets fn change it and re-encodes it.
func edit(t *testing.T, raw []byte, fn func(tree map[string]any)) []byte {
	t.Helper()
	var tree map[string]any
	if err := json.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	fn(tree)
	out, err := json.Marshal(tree)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func path(tree any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			tree = tree.(map[string]any)[k]
		case int:
			tree = tree.([]any)[k]
		}
	}
	return tree
}

func TestFixtureTransactions(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		sig    string
		owner  string
		holder string
		index  uint16
		amount uint64
		from   string
	}{
		{
			name:   "0.1 USDC into a token account created in the same tx",
			file:   "getTransaction_4dHnggcX_usdc_create_ata.json",
			sig:    "4dHnggcXjvmMJY2J6iGqse12PeCYQzuTySgwJa36K8MuntmwNrCNztvYRX5ZGpQXzKjaf7g5vaZM7LTuXLNbi2Zx",
			owner:  "3UJQqKq8Xyx4aVRmHgEwpQZiW7toYRQCTy6Bgp1RdKnK",
			holder: "8dqL6jKduEJwfAem49yAvXB8YczkDPgVCgU88VPfTnAP",
			index:  1,
			amount: 100000,
			from:   "37BenMAXFJMo3GaXKb2XLsNQXmd6VbbdShZWnwDj9D6k",
		},
		{
			name:   "24.737625 USDC with a separate fee payer",
			file:   "getTransaction_65MevEhH_usdc_separate_fee_payer.json",
			sig:    "65MevEhHuXZzwQ8VftyQUmbgbs41bj2KMhf6zDM5hqsXN6jxsHYniHbi7MMWQ4kitcgfRdsuYe1s7zAqtzPYXZVG",
			owner:  "B1nzrk99FEDAYB2M82yepdvEv1YBRJKcx5Y5R6MSDW1Q",
			holder: "HSSRXb8gHLp5EpBGbkUu1gG4pNhJuDvHXuNG5X39R2bk",
			index:  2,
			amount: 24737625,
			from:   "5QtyKPHtWUf45bNb5buQ6UxpL2ekSJxBCK9g8xMCsc9U",
		},
	}
	m := newMatcher([]Mint{usdc}, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := decodeTransaction(readFixture(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if tx.sig != tc.sig || tx.failed {
				t.Fatalf("decoded sig %s failed %v; want %s, success", tx.sig, tx.failed, tc.sig)
			}
			credits, drops, err := m.deltas(&tx)
			must(t, err)
			if len(credits) != 1 || len(drops) != 0 {
				t.Fatalf("credits %+v drops %+v; want exactly one credit", credits, drops)
			}
			c := credits[0]
			if c.owner.text != tc.owner || c.holder.text != tc.holder || c.index != tc.index || c.amount != tc.amount {
				t.Errorf("credit %d to %s (holder %s, index %d); want %d to %s (holder %s, index %d)",
					c.amount, c.owner.text, c.holder.text, c.index, tc.amount, tc.owner, tc.holder, tc.index)
			}
			if c.from.text != tc.from {
				t.Errorf("from %s, want %s", c.from.text, tc.from)
			}
			ata, err := address.SolanaATA(solana.PublicKey(c.owner.raw), usdcMint, solana.TokenProgramID)
			if err != nil {
				t.Fatal(err)
			}
			if ata.String() != c.holder.text {
				t.Errorf("holder %s is not the owner's ATA %s", c.holder.text, ata)
			}
		})
	}
}

// TestFixtureAmountsFromIntegerString changes the float uiAmount of the
// created account's balance: the credit must not move.
func TestFixtureAmountsFromIntegerString(t *testing.T) {
	raw := edit(t, readFixture(t, "getTransaction_4dHnggcX_usdc_create_ata.json"), func(tree map[string]any) {
		ui := path(tree, "meta", "postTokenBalances", 0, "uiTokenAmount").(map[string]any)
		ui["uiAmount"], ui["uiAmountString"] = 1e6, "1000000"
	})
	tx, err := decodeTransaction(raw)
	if err != nil {
		t.Fatal(err)
	}
	credits, _, err := newMatcher([]Mint{usdc}, nil).deltas(&tx)
	must(t, err)
	if len(credits) != 1 || credits[0].amount != 100000 {
		t.Fatalf("credits %+v; want 100000 from the amount string", credits)
	}
}

func TestFixtureFailedBlock(t *testing.T) {
	// The block's failed tx touches mint EKpQ… (owner Bo9of… at index 3).
	foreign := Mint{Symbol: "X", Mint: solana.MustPublicKeyFromBase58("EKpQGSJtjMFqKZ9KQanSqYXRcF8fBopzLHYxdM65zcjm"),
		Program: solana.TokenProgramID, Decimals: 6}
	raised := func(tree map[string]any) {
		path(tree, "transactions", 0, "meta", "postTokenBalances", 0, "uiTokenAmount").(map[string]any)["amount"] = "1900000"
	}
	tests := []struct {
		name    string
		edit    func(map[string]any)
		credits int
		drop    DropReason
	}{
		{name: "as recorded: failed, balances unchanged", edit: func(map[string]any) {}},
		{name: "failed with a raised balance is still nothing", edit: raised, drop: DropFailed},
		{name: "the same change in a successful tx is credited", credits: 1, edit: func(tree map[string]any) {
			raised(tree)
			path(tree, "transactions", 0, "meta").(map[string]any)["err"] = nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := edit(t, readFixture(t, "getBlock_241043141_failed_tx_jsonParsed.json"), tc.edit)
			b, err := decodeBlock(raw)
			if err != nil {
				t.Fatal(err)
			}
			if b.hash != "7UVhKXDoFXfQWHRRMNaXiEXiQsabDvU7oz4TRLHFuzd8" || b.parent != "8KrXYfWrGMBJg6owJ5U5X1c6rxh3iVxbybvSK5hbTZtA" ||
				b.parentAt != 241043140 || len(b.txs) != 1 || len(b.txs[0].keys) != 25 {
				t.Fatalf("block %s parent %s@%d, %d txs: header or keys misdecoded", b.hash, b.parent, b.parentAt, len(b.txs))
			}
			credits, drops, err := newMatcher([]Mint{usdc, foreign}, nil).deltas(&b.txs[0])
			must(t, err)
			if len(credits) != tc.credits {
				t.Fatalf("credits %+v; want %d", credits, tc.credits)
			}
			if tc.drop == "" && len(drops) != 0 || tc.drop != "" && (len(drops) != 1 || drops[0].reason != tc.drop) {
				t.Fatalf("drops %+v; want reason %q", drops, tc.drop)
			}
			if tc.credits == 1 && (credits[0].amount != 1000000 || credits[0].owner.text != "Bo9ofFBTrT7GjrjZCseQuB7Hd91d9Ya5G3srhUEDBLD2") {
				t.Fatalf("credit %+v; want 1000000 to Bo9of…", credits[0])
			}
		})
	}
}

// TestFixtureLoadedAddresses moves the credited account of a json-encoded
// transaction into the lookup-table addresses (as a v0 transaction lists
// it): its index then points past the static keys.
func TestFixtureLoadedAddresses(t *testing.T) {
	const holder = "HSSRXb8gHLp5EpBGbkUu1gG4pNhJuDvHXuNG5X39R2bk"
	raw := edit(t, readFixture(t, "getTransaction_65MevEhH_usdc_separate_fee_payer.json"), func(tree map[string]any) {
		msg := path(tree, "transaction", "message").(map[string]any)
		keys := msg["accountKeys"].([]any)
		// Static keys without the holder (index 2); it becomes the second
		// writable loaded address, index len(static)+1.
		static := append(append([]any{}, keys[:2]...), keys[3:]...)
		msg["accountKeys"] = static
		meta := path(tree, "meta").(map[string]any)
		meta["loadedAddresses"] = map[string]any{"writable": []any{"11111111111111111111111111111111", holder}, "readonly": []any{}}
		for _, side := range []string{"preTokenBalances", "postTokenBalances"} {
			for _, e := range meta[side].([]any) {
				b := e.(map[string]any)
				switch idx := b["accountIndex"].(float64); {
				case idx == 2:
					b["accountIndex"] = float64(len(static) + 1)
				case idx > 2:
					b["accountIndex"] = idx - 1
				}
			}
		}
	})
	tx, err := decodeTransaction(raw)
	must(t, err)
	credits, _, err := newMatcher([]Mint{usdc}, nil).deltas(&tx)
	must(t, err)
	if len(credits) != 1 || credits[0].holder.text != holder || credits[0].amount != 24737625 || int(credits[0].index) != len(tx.keys)-1 {
		t.Fatalf("credits %+v over %d keys; want 24737625 at %s", credits, len(tx.keys), holder)
	}
}
