package solana

import (
	"testing"

	"github.com/depositd/depositd/chains"
	"github.com/gagliardetto/solana-go"
)

const sig1 = "4dHnggcXjvmMJY2J6iGqse12PeCYQzuTySgwJa36K8MuntmwNrCNztvYRX5ZGpQXzKjaf7g5vaZM7LTuXLNbi2Zx"

func key(b byte) solana.PublicKey {
	var k solana.PublicKey
	k[0], k[31] = b, 0xA5
	return k
}

func bal(index uint16, mint, owner, program solana.PublicKey, amount uint64) balance {
	return balance{index: index, mint: mint.String(), owner: owner.String(), program: program.String(), amount: amount}
}

func texts(ks ...solana.PublicKey) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.String()
	}
	return out
}

func TestDeltas(t *testing.T) {
	var (
		tok     = solana.TokenProgramID
		tok22   = solana.Token2022ProgramID
		wallet  = key(1)
		other   = key(2)
		ourATA  = key(3)
		foreign = key(9)
		pyusd   = Mint{Symbol: "PYUSD", Mint: key(8), Program: tok22, Decimals: 6}
		keys    = texts(key(20), key(21), key(22), key(23))
	)
	noOwner := bal(1, usdcMint, wallet, tok, 50)
	noOwner.owner = ""
	noProgram := bal(1, usdcMint, wallet, tok, 50)
	noProgram.program = ""
	tests := []struct {
		name    string
		tx      txn
		amounts []uint64 // credited per post entry, in order
		drops   []DropReason
	}{
		{name: "missing pre is zero", amounts: []uint64{50},
			tx: txn{post: []balance{bal(1, usdcMint, wallet, tok, 50)}}},
		{name: "delta over an existing balance", amounts: []uint64{30},
			tx: txn{pre: []balance{bal(1, usdcMint, wallet, tok, 20)}, post: []balance{bal(1, usdcMint, wallet, tok, 50)}}},
		{name: "decrease and no change are not deposits",
			tx: txn{pre: []balance{bal(1, usdcMint, wallet, tok, 70), bal(2, usdcMint, wallet, tok, 5)},
				post: []balance{bal(1, usdcMint, wallet, tok, 50), bal(2, usdcMint, wallet, tok, 5)}}},
		{name: "two accounts of one owner credited separately", amounts: []uint64{10, 7},
			tx: txn{post: []balance{bal(1, usdcMint, wallet, tok, 10), bal(2, usdcMint, wallet, tok, 7)}}},
		{name: "foreign mint ignored",
			tx: txn{post: []balance{bal(1, foreign, wallet, tok, 50)}}},
		{name: "failed transaction", drops: []DropReason{DropFailed},
			tx: txn{failed: true, post: []balance{bal(1, usdcMint, wallet, tok, 50)}}},
		{name: "wrong token program", drops: []DropReason{DropProgram},
			tx: txn{post: []balance{bal(1, usdcMint, wallet, tok22, 50)}}},
		{name: "pre under another program", drops: []DropReason{DropProgram},
			tx: txn{pre: []balance{bal(1, usdcMint, wallet, tok22, 0)}, post: []balance{bal(1, usdcMint, wallet, tok, 50)}}},
		{name: "program absent", drops: []DropReason{DropProgram},
			tx: txn{post: []balance{noProgram}}},
		{name: "owner absent", drops: []DropReason{DropOwnerUnknown},
			tx: txn{post: []balance{noOwner}}},
		{name: "owner changed to our wallet", drops: []DropReason{DropOwnerChanged},
			tx: txn{pre: []balance{bal(1, usdcMint, other, tok, 10)}, post: []balance{bal(1, usdcMint, wallet, tok, 60)}}},
		{name: "nested ATA owned by our token account", drops: []DropReason{DropNested},
			tx: txn{post: []balance{bal(1, usdcMint, ourATA, tok, 50)}}},
		{name: "closed and re-created for our mint in one tx", amounts: []uint64{50},
			tx: txn{pre: []balance{bal(1, foreign, other, tok, 900)}, post: []balance{bal(1, usdcMint, wallet, tok, 50)}}},
		{name: "Token-2022 mint under its program", amounts: []uint64{40},
			tx: txn{post: []balance{bal(1, pyusd.Mint, wallet, tok22, 40)}}},
	}
	m := newMatcher([]Mint{usdc, pyusd}, func(k chains.AddrKey) bool { return k == chains.AddrKey(ourATA) })
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.tx.keys, tc.tx.sig = keys, sig1
			credits, drops, err := m.deltas(&tc.tx)
			must(t, err)
			if len(credits) != len(tc.amounts) {
				t.Fatalf("credits %+v; want amounts %v", credits, tc.amounts)
			}
			for i, c := range credits {
				if c.amount != tc.amounts[i] || c.holder.text != keys[c.index] {
					t.Errorf("credit %d: %d at holder %s; want %d at %s", i, c.amount, c.holder.text, tc.amounts[i], keys[c.index])
				}
			}
			if len(drops) != len(tc.drops) {
				t.Fatalf("drops %+v; want %v", drops, tc.drops)
			}
			for i, d := range drops {
				if d.reason != tc.drops[i] {
					t.Errorf("drop %d reason %s; want %s", i, d.reason, tc.drops[i])
				}
			}
		})
	}
}

func TestDeltaSender(t *testing.T) {
	tok := solana.TokenProgramID
	sender, a, b := key(5), key(6), key(7)
	tests := []struct {
		name string
		tx   txn
		want solana.PublicKey
	}{
		{name: "one decreasing account names the sender", want: sender,
			tx: txn{pre: []balance{bal(0, usdcMint, sender, tok, 100)},
				post: []balance{bal(0, usdcMint, sender, tok, 40), bal(1, usdcMint, a, tok, 60)}}},
		{name: "closed source account names the sender", want: sender,
			tx: txn{pre: []balance{bal(0, usdcMint, sender, tok, 60)}, post: []balance{bal(1, usdcMint, a, tok, 60)}}},
		{name: "two decreasing accounts leave it unknown",
			tx: txn{pre: []balance{bal(0, usdcMint, sender, tok, 100), bal(2, usdcMint, b, tok, 100)},
				post: []balance{bal(0, usdcMint, sender, tok, 40), bal(1, usdcMint, a, tok, 120), bal(2, usdcMint, b, tok, 40)}}},
		{name: "a mint (no decrease) leaves it unknown",
			tx: txn{post: []balance{bal(1, usdcMint, a, tok, 60)}}},
	}
	m := newMatcher([]Mint{usdc}, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.tx.keys = texts(key(20), key(21), key(22))
			tc.tx.sig = sig1
			credits, _, err := m.deltas(&tc.tx)
			must(t, err)
			want := ""
			if !tc.want.IsZero() {
				want = tc.want.String()
			}
			if len(credits) != 1 || credits[0].from.text != want {
				t.Fatalf("credits %+v; want one from %s", credits, tc.want)
			}
		})
	}
}

func TestDeltaBadInput(t *testing.T) {
	tok := solana.TokenProgramID
	tests := []struct {
		name string
		tx   txn
	}{
		{name: "holder key not base58", tx: txn{sig: sig1, keys: []string{"0OIl"}, post: []balance{bal(0, usdcMint, key(1), tok, 5)}}},
		{name: "owner key too short", tx: txn{sig: sig1, keys: texts(key(2)),
			post: []balance{{index: 0, mint: usdcMint.String(), owner: "abc", program: tok.String(), amount: 5}}}},
		{name: "signature not 64 bytes", tx: txn{sig: "abc", keys: texts(key(2)), post: []balance{bal(0, usdcMint, key(1), tok, 5)}}},
	}
	m := newMatcher([]Mint{usdc}, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if credits, _, err := m.deltas(&tc.tx); err == nil {
				t.Fatalf("credits %+v, no error", credits)
			}
		})
	}
}
