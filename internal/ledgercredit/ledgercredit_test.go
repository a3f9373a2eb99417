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
