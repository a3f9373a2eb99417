package daemon

import (
	"context"
	"log/slog"
	"math/big"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/settlement/ledger"
)

func TestAuditorReportsBreaches(t *testing.T) {
	rdb := redistest.New(t).Client(t)
	ctx := context.Background()
	l := ledger.New(rdb, time.Now)
	if err := l.CreateAccount(ctx, ledger.Account{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Credit(ctx, ledger.Deposit{ID: "tron:ab:0", Account: "acme", Chain: "tron", Token: "USDT",
		Contract: "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", TxID: "ab", Block: 1, BlockHash: "00",
		To: "TL1mBABLk68nZwt92dgGc43p5uk1j3YtY9", Raw: big.NewInt(25_000_000), Decimals: 6, Rate: decimal.NewFromInt(1)}); err != nil {
		t.Fatal(err)
	}
	a := newAuditor(l, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	a.once(ctx)
	if got := testutil.ToFloat64(a.breaches); got != 0 {
		t.Fatalf("clean ledger: %v breaches", got)
	}
	keys, err := rdb.Keys(ctx, "*:acct:acme").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("account key: %v %v", keys, err)
	}
	if err := rdb.HIncrBy(ctx, keys[0], "cash", 1).Err(); err != nil {
		t.Fatal(err)
	}
	a.once(ctx)
	if got := testutil.ToFloat64(a.breaches); got == 0 {
		t.Fatal("a hand-corrupted balance was not reported")
	}
	if got := testutil.ToFloat64(a.runs.WithLabelValues("breach")); got != 1 {
		t.Fatalf("breach runs = %v", got)
	}
}

func TestIntersectKeepsOnlyRepeatedBreaches(t *testing.T) {
	stuck := ledger.Breach{Invariant: ledger.InvDerivable, Detail: "acme cash 1 != fold 0"}
	passing := ledger.Breach{Invariant: ledger.InvConservation, Detail: "total 5"}
	moved := ledger.Breach{Invariant: ledger.InvConservation, Detail: "total 7"}
	got := intersect([]ledger.Breach{stuck, passing}, []ledger.Breach{moved, stuck})
	if len(got) != 1 || got[0] != stuck {
		t.Fatalf("intersect = %v, want only the breach seen twice", got)
	}
	if got := intersect([]ledger.Breach{passing}, nil); len(got) != 0 {
		t.Fatalf("intersect with a clean audit = %v", got)
	}
}
