package ledgercredit

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/settlement/ledger"
)

func TestCrediter(t *testing.T) {
	ctx := context.Background()
	l := ledger.New(redistest.New(t).Client(t), time.Now)
	if err := l.CreateAccount(ctx, ledger.Account{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	tr := chains.Transfer{Chain: "bsc", Token: "USDT", Contract: "0x55d398326f99059fF775485246999027B3197955",
		TxID: "0xa08f", Index: 68, Block: 7, BlockHash: "0xbb", To: "0xc590175e458b83680867afd273527ff58f74c02b",
		Amount: new(big.Int).Mul(big.NewInt(10), new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)), Decimals: 18}
	half := func(string, string) (decimal.Decimal, bool) { return decimal.RequireFromString("0.5"), true }
	c := &Crediter{Ledger: l, Rate: half}
	for range 2 {
		if err := c.Credit(ctx, tr, "acme"); err != nil {
			t.Fatal(err)
		}
	}
	a, err := l.Account(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if a.Cash.String() != "5.00000000" || c.Applied() != 1 {
		t.Fatalf("cash %s after crediting 10 tokens at 0.5 twice, applied %d; want 5 once", a.Cash, c.Applied())
	}
	none := &Crediter{Ledger: l, Rate: func(string, string) (decimal.Decimal, bool) { return decimal.Zero, false }}
	if err := none.Credit(ctx, tr, "acme"); err == nil || !strings.Contains(err.Error(), "no rate for USDT on bsc") {
		t.Fatalf("unpriced token: %v", err)
	}
	if err := c.Credit(ctx, tr, "not an id"); err == nil {
		t.Fatal("a malformed account id was credited")
	}
}

// TestCreditBatch: one batch credits each deposit once, repeats count as
// credited, and a deposit that cannot be credited fails alone.
func TestCreditBatch(t *testing.T) {
	ctx := context.Background()
	l := ledger.New(redistest.New(t).Client(t), time.Now)
	for _, id := range []ledger.AccountID{"acme", "bolt"} {
		if err := l.CreateAccount(ctx, ledger.Account{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	tr := func(idx uint32, amount int64) chains.Transfer {
		return chains.Transfer{Chain: "ethereum", Token: "USDT", Contract: "0xdac1", TxID: "0xfeed", Index: idx,
			Block: 9, BlockHash: "0x99", To: "0x01", Amount: big.NewInt(amount), Decimals: 6}
	}
	c := &Crediter{Ledger: l, Rate: OneUSD}
	ts := []chains.Transfer{tr(1, 1_500_000), tr(2, 2_000_000), tr(3, 250_000), tr(4, 1)}
	accts := []string{"acme", "bolt", "acme", "nobody"}
	for round := range 2 {
		errs := c.CreditBatch(ctx, ts, accts)
		for i, err := range errs[:3] {
			if err != nil {
				t.Fatalf("round %d deposit %d: %v", round, i, err)
			}
		}
		if errs[3] == nil {
			t.Fatalf("round %d: a deposit to a missing account was credited", round)
		}
	}
	for id, want := range map[ledger.AccountID]string{"acme": "1.75000000", "bolt": "2.00000000"} {
		a, err := l.Account(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if a.Cash.String() != want {
			t.Errorf("%s cash %s, want %s", id, a.Cash, want)
		}
	}
	if c.Applied() != 3 {
		t.Fatalf("applied %d, want 3", c.Applied())
	}
}
