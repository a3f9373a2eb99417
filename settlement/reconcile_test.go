package settlement

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math/big"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/settlement/ledger"
)

func TestReconcile(t *testing.T) {
	e := newEnv(t, Config{})
	e.clk.t = time.Date(2026, 10, 3, 12, 0, 0, 0, DefaultLocation)
	e.account("a", "20", "")
	e.deposit("a", "30")
	// A BEP20 deposit with 18 decimals: 1.000000000000000001 USDT credits 1 USD and keeps the dust.
	raw, _ := new(big.Int).SetString("1000000000000000001", 10)
	if _, err := e.l.Credit(e.ctx, ledger.Deposit{ID: "bsc:0xabc:68", Account: "a", Chain: "bsc", Token: "USDT", Contract: "0x55d398326f99059fF775485246999027B3197955",
		TxID: "0xabc", Index: 68, Block: 45645549, BlockHash: "0xh", To: "0xc590175e458b83680867afd273527ff58f74c02b", Raw: raw, Decimals: 18, Rate: decimal.NewFromInt(1)}); err != nil {
		t.Fatal(err)
	}
	web := line("ecs", "25")
	web.Project = "web"
	db := line("rds", "16")
	db.Project = "db"
	e.clk.Add(time.Hour)
	e.issue(newStatement("s-sep", "a", web, db)) // 41: cash 31, credit 10
	e.clk.t = time.Date(2026, 11, 2, 0, 0, 0, 0, DefaultLocation)
	e.deposit("a", "15") // repays 10 of arrears, 5 stays
	if _, err := e.s.SettleAccount(e.ctx, "a"); err != nil {
		t.Fatal(err)
	}

	oct, err := e.s.Reconcile(e.ctx, "2026-10", "a", "")
	if err != nil {
		t.Fatal(err)
	}
	nov, err := e.s.Reconcile(e.ctx, "2026-11", "a", "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                             string
		r                                Report
		opening, credited, paid, closing string
		deposits, payments               int
	}{
		{"october", oct, "0", "31", "31", "0", 2, 2},
		{"november", nov, "0", "15", "10", "5", 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.r
			if r.Opening != usd(tc.opening) || r.Credited != usd(tc.credited) || r.Paid != usd(tc.paid) || r.Closing != usd(tc.closing) || !r.Balanced() {
				t.Fatalf("totals %s + %s - %s = %s", r.Opening, r.Credited, r.Paid, r.Closing)
			}
			if len(r.Deposits) != tc.deposits || len(r.Payments) != tc.payments {
				t.Fatalf("%d deposits, %d payments", len(r.Deposits), len(r.Payments))
			}
			var dep, cash money.Units
			for _, d := range r.Deposits {
				dep += d.USD
			}
			for _, p := range r.Payments {
				cash += p.Cash
			}
			if dep != r.Credited || cash != r.Paid {
				t.Fatalf("rows sum to %s / %s, totals %s / %s", dep, cash, r.Credited, r.Paid)
			}
		})
	}
	if cash := e.acct("a").Cash; nov.Closing != cash {
		t.Fatalf("november closing %s, ledger cash %s", nov.Closing, cash)
	}
	bsc := oct.Deposits[1]
	if bsc.DepositID != "bsc:0xabc:68" || bsc.Chain != "bsc" || bsc.Tx != "0xabc" || bsc.Index != "68" || bsc.Amount != "1.000000000000000001" || bsc.USD != usd("1") ||
		bsc.Dust != "0.000000000000000001" || bsc.CreditID == "" {
		t.Fatalf("bsc deposit row %+v", bsc)
	}
	p := oct.Payments[0]
	if p.Statement != "s-sep" || p.Line != 1 || p.Project != "web" || p.Cash != usd("25") || oct.Payments[1].Cash != usd("6") || oct.Payments[1].Credit != usd("10") {
		t.Fatalf("payment rows %+v", oct.Payments)
	}

	t.Run("project", func(t *testing.T) {
		r, err := e.s.Reconcile(e.ctx, "2026-10", "a", "db")
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Payments) != 1 || r.ProjectCash != usd("6") || r.ProjectCredit != usd("10") || !r.Balanced() {
			t.Fatalf("project report %+v", r)
		}
	})
	t.Run("csv", func(t *testing.T) {
		var b bytes.Buffer
		if err := oct.CSV(&b); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := map[string]int{}
		for i, c := range recs[0] {
			col[c] = i
		}
		var credited, paid money.Units
		totals := map[string]string{}
		for _, r := range recs[1:] {
			switch r[col["record"]] {
			case "deposit":
				credited += usd(r[col["credited_usd"]])
			case "payment":
				paid += usd(r[col["cash"]])
			case "total":
				totals[r[col["kind"]]] = r[col["total"]]
			}
		}
		if credited != usd(totals["credited"]) || paid != usd(totals["paid"]) ||
			usd(totals["opening"])+credited-paid != usd(totals["closing"]) {
			t.Fatalf("csv does not balance: %s %s %v", credited, paid, totals)
		}
	})
	t.Run("json", func(t *testing.T) {
		var b bytes.Buffer
		if err := oct.JSON(&b); err != nil {
			t.Fatal(err)
		}
		var out struct {
			Opening, Credited, Paid, Closing string
			Deposits                         []map[string]string
			Payments                         []map[string]any
		}
		if err := json.Unmarshal(b.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		if out.Closing != "0.00000000" || out.Credited != "31.00000000" || len(out.Deposits) != 2 || out.Deposits[1]["dust"] != "0.000000000000000001" {
			t.Fatalf("json %s", b.String())
		}
	})
	t.Run("bad month", func(t *testing.T) {
		if _, err := e.s.Reconcile(e.ctx, "2026-13", "a", ""); err == nil {
			t.Fatal("accepted month 13")
		}
	})
	e.verify()
}
