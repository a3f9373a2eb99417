package settlement

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/outbox"
)

func TestIssueAndSettleFromCash(t *testing.T) {
	e := newEnv(t, Config{})
	e.account("acme", "0", "")
	e.account("acme-dev", "0", "acme")
	e.deposit("acme", "100")
	if err := e.s.AddDiscount(e.ctx, Discount{ID: "com-20", Account: "acme", Kind: Commercial, Rate: decimal.RequireFromString("0.2"), Services: []string{"ecs"}}); err != nil {
		t.Fatal(err)
	}
	tp := line("image", "7")
	tp.ThirdParty = true
	member := line("evs", "20")
	member.MemberAccount = "acme-dev"
	st := e.issue(newStatement("st-1", "acme", line("ecs", "30"), member, tp))

	if st.Status != Paid || st.Amount() != usd("44") || st.Cash != usd("44") || st.Due() != 0 {
		t.Fatalf("statement %+v", st)
	}
	if st.Lines[0].DiscountID != "com-20" || st.Lines[0].Amount != usd("24") || st.Lines[2].Paid != 0 {
		t.Fatalf("lines %+v", st.Lines)
	}
	wantDue := time.Date(2026, 11, 11, 0, 0, 0, 0, DefaultLocation)
	if !st.DueAt.Equal(wantDue) {
		t.Fatalf("due %s, want %s", st.DueAt, wantDue)
	}
	if a := e.acct("acme"); a.Cash != usd("56") {
		t.Fatalf("cash %s, want 56", a.Cash)
	}
	types := []string{}
	for _, ev := range e.events("acme", "") {
		types = append(types, ev["_type"].(string))
	}
	paid := e.events("acme", outbox.StatementPaid)
	if len(paid) != 1 || paid[0]["status"] != "paid" || paid[0]["payment"].(map[string]any)["cash"] != "44.00000000" {
		t.Fatalf("statement.paid %v", paid)
	}
	want := fmt.Sprint([]string{outbox.DepositCredited, outbox.StatementIssued, outbox.StatementPaid})
	if fmt.Sprint(types) != want {
		t.Fatalf("events %v, want %s", types, want)
	}

	t.Run("reissue is idempotent", func(t *testing.T) {
		again := e.issue(newStatement("st-1", "acme", line("ecs", "30"), member, tp))
		if again.Payments != 1 || e.acct("acme").Cash != usd("56") {
			t.Fatalf("reissue changed state: %+v", again)
		}
	})
	t.Run("same id other content", func(t *testing.T) {
		_, err := e.s.IssueStatement(e.ctx, newStatement("st-1", "acme", line("ecs", "31")))
		if !errors.Is(err, ErrExists) {
			t.Fatalf("err = %v, want ErrExists", err)
		}
	})
	t.Run("member of another master", func(t *testing.T) {
		e.account("other", "0", "")
		bad := line("ecs", "1")
		bad.MemberAccount = "acme-dev"
		_, err := e.s.IssueStatement(e.ctx, newStatement("st-x", "other", bad))
		if err == nil {
			t.Fatal("accepted a line of another master's member")
		}
	})
	t.Run("unknown account", func(t *testing.T) {
		_, err := e.s.IssueStatement(e.ctx, newStatement("st-y", "nobody", line("ecs", "1")))
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	e.verify()
}

// The coupon rules, end to end on the ledger: which coupon pays, and that
// the rest comes from cash.
func TestCouponRulesOnLedger(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name       string
		coupons    []Coupon
		cash       string
		bill       string
		wantCoupon string
		wantCoupBk map[string]string // coupon balances after
		wantCash   string
	}{
		{"several cover: largest balance", []Coupon{coupon("c60", "60", 30*day), coupon("c90", "90", 30*day), coupon("c70", "70", 30*day)}, "10", "50",
			"c90", map[string]string{"c60": "60", "c90": "40", "c70": "70"}, "10"},
		{"none covers: largest plus cash", []Coupon{coupon("c10", "10", 30*day), coupon("c30", "30", 30*day)}, "100", "50",
			"c30", map[string]string{"c10": "10", "c30": "0"}, "80"},
		{"equal balances: earliest expiry", []Coupon{coupon("late", "80", 30*day), coupon("early", "80", 20*day)}, "0", "50",
			"early", map[string]string{"late": "80", "early": "30"}, "0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			e.account("a", "0", "")
			if tc.cash != "0" {
				e.deposit("a", tc.cash)
			}
			for _, c := range tc.coupons {
				c.Expires = e.clk.Now().Add(c.Expires.Sub(t0))
				if err := e.s.AddCoupon(e.ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			st := e.issue(newStatement("s", "a", line("ecs", tc.bill)))
			if st.Status != Paid {
				t.Fatalf("status %s, due %s", st.Status, st.Due())
			}
			a := e.acct("a")
			for id, want := range tc.wantCoupBk {
				if a.Books[couponBook(id)] != usd(want) || a.Books[couponLockedBook(id)] != 0 {
					t.Errorf("coupon %s: %s (locked %s), want %s", id, a.Books[couponBook(id)], a.Books[couponLockedBook(id)], want)
				}
			}
			if a.Cash != usd(tc.wantCash) {
				t.Errorf("cash %s, want %s", a.Cash, tc.wantCash)
			}
			run, err := e.s.SettleAccount(e.ctx, "a")
			if err != nil || len(run.Payments) != 0 {
				t.Fatalf("second run paid again: %+v %v", run, err)
			}
			e.verify()
		})
	}
}

func TestCouponIdempotentGrant(t *testing.T) {
	e := newEnv(t, Config{})
	e.account("a", "0", "")
	c := Coupon{ID: "c1", Account: "a", Balance: usd("5"), Expires: e.clk.Now().Add(time.Hour)}
	for range 2 {
		if err := e.s.AddCoupon(e.ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.acct("a").Books[couponBook("c1")]; got != usd("5") {
		t.Fatalf("coupon book %s after two grants, want 5", got)
	}
	c.Balance = usd("6")
	if err := e.s.AddCoupon(e.ctx, c); !errors.Is(err, ErrExists) {
		t.Fatalf("err = %v, want ErrExists", err)
	}
	e.verify()
}

// A payment that fails (here: its context is cancelled, as on a timeout)
// unlocks its coupon; nothing is lost or spent twice.
func TestCouponUnlockedOnFailure(t *testing.T) {
	e := newEnv(t, Config{})
	e.account("a", "0", "")
	e.deposit("a", "5")
	if err := e.s.AddCoupon(e.ctx, Coupon{ID: "c1", Account: "a", Balance: usd("20"), Expires: e.clk.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	e.s.hook = func(step string) error {
		if step == "complete" {
			cancel()
		}
		return nil
	}
	_, err := e.s.IssueStatement(ctx, newStatement("s", "a", line("ecs", "10")))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	e.s.hook = nil
	a := e.acct("a")
	if a.Books[couponBook("c1")] != usd("20") || a.Books[couponLockedBook("c1")] != 0 || a.Cash != usd("5") {
		t.Fatalf("after failure: coupon %s locked %s cash %s", a.Books[couponBook("c1")], a.Books[couponLockedBook("c1")], a.Cash)
	}
	st := e.stmt("s")
	if st.Status != Pending || st.PaidTotal() != 0 {
		t.Fatalf("statement after failure %+v", st)
	}
	run, err := e.s.SettleAccount(e.ctx, "a")
	if err != nil || len(run.Payments) != 1 || run.Payments[0].N != 2 {
		t.Fatalf("retry: %+v %v", run, err)
	}
	a = e.acct("a")
	if a.Books[couponBook("c1")] != usd("10") || a.Books[couponLockedBook("c1")] != 0 || a.Cash != usd("5") {
		t.Fatalf("after retry: coupon %s locked %s cash %s", a.Books[couponBook("c1")], a.Books[couponLockedBook("c1")], a.Cash)
	}
	e.verify()
}

// A crash between lock and completion: the next run completes the payment
// with the same lock; after the lock timeout, a sweep unlocks it instead.
func TestCrashAfterLock(t *testing.T) {
	tests := []struct {
		name        string
		wait        time.Duration
		sweep       bool
		wantCoupon  string
		wantPayment int
	}{
		{"rerun completes the locked payment", 0, false, "12", 1},
		{"rerun after timeout unlocks and pays again", 6 * time.Minute, false, "12", 2},
		{"sweep after timeout unlocks", 6 * time.Minute, true, "20", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			e.account("a", "0", "")
			if err := e.s.AddCoupon(e.ctx, Coupon{ID: "c1", Account: "a", Balance: usd("20"), Expires: e.clk.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			e.s.hook = func(step string) error {
				if step == "complete" {
					return errCrash
				}
				return nil
			}
			if _, err := e.s.IssueStatement(e.ctx, newStatement("s", "a", line("ecs", "8"))); !isCrash(err) {
				t.Fatalf("err = %v, want the crash", err)
			}
			e.s.hook = nil
			if a := e.acct("a"); a.Books[couponLockedBook("c1")] != usd("8") {
				t.Fatalf("locked %s, want 8", a.Books[couponLockedBook("c1")])
			}
			e.clk.Add(tc.wait)
			if tc.sweep {
				n, err := e.s.SweepLocks(e.ctx)
				if err != nil || n != 1 {
					t.Fatalf("sweep %d %v", n, err)
				}
			} else {
				run, err := e.s.SettleAccount(e.ctx, "a")
				if err != nil || len(run.Payments) != 1 || run.Payments[0].N != tc.wantPayment {
					t.Fatalf("rerun %+v %v", run, err)
				}
			}
			a := e.acct("a")
			if a.Books[couponBook("c1")] != usd(tc.wantCoupon) || a.Books[couponLockedBook("c1")] != 0 {
				t.Fatalf("coupon %s locked %s, want %s and 0", a.Books[couponBook("c1")], a.Books[couponLockedBook("c1")], tc.wantCoupon)
			}
			e.verify()
		})
	}
}

// Credit pays what cash cannot; a later deposit repays the arrears first,
// then pays the open statements oldest first.
func TestCreditArrearsAndOldestFirst(t *testing.T) {
	e := newEnv(t, Config{})
	e.account("a", "30", "")
	e.deposit("a", "10")
	s1 := e.issue(newStatement("s1", "a", line("ecs", "50")))
	if s1.Status != PartiallyPaid || s1.Cash != usd("10") || s1.Credit != usd("30") || s1.Due() != usd("10") {
		t.Fatalf("s1 %+v", s1)
	}
	e.clk.Add(time.Hour)
	s2 := e.issue(newStatement("s2", "a", line("obs", "5")))
	if s2.Status != Pending || s2.PaidTotal() != 0 {
		t.Fatalf("s2 %+v", s2)
	}
	if a := e.acct("a"); a.Cash != 0 || a.CreditUsed != usd("30") {
		t.Fatalf("account %+v", a)
	}
	e.deposit("a", "42")
	run, err := e.s.SettleAccount(e.ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	// 42: 30 repays the arrears, 10 finishes s1, 2 goes to s2, then 3 of credit.
	if run.Repaid != usd("30") || len(run.Payments) != 2 || run.Payments[0].Statement != "s1" || run.Payments[0].Cash != usd("10") ||
		run.Payments[1].Cash != usd("2") || run.Payments[1].Credit != usd("3") {
		t.Fatalf("run %+v", run)
	}
	if got := e.stmt("s1"); got.Status != Paid {
		t.Fatalf("s1 %s", got.Status)
	}
	if got := e.stmt("s2"); got.Status != Paid || got.Credit != usd("3") {
		t.Fatalf("s2 %+v", got)
	}
	if a := e.acct("a"); a.Cash != 0 || a.CreditUsed != usd("3") {
		t.Fatalf("account cash %s used %s", a.Cash, a.CreditUsed)
	}
	e.verify()
}

func TestSweepOverdue(t *testing.T) {
	e := newEnv(t, Config{DueDays: 3})
	e.account("a", "0", "")
	e.issue(newStatement("s", "a", line("ecs", "5")))
	e.issue(newStatement("paid", "a", line("third", "0")))
	for _, tc := range []struct {
		name string
		wait time.Duration
		want int
	}{
		{"before due", 3*24*time.Hour - time.Second, 0},
		{"at due", time.Second, 1},
		{"again", time.Hour, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.clk.Add(tc.wait)
			n, err := e.s.SweepOverdue(e.ctx)
			if err != nil || n != tc.want {
				t.Fatalf("marked %d (%v), want %d", n, err, tc.want)
			}
		})
	}
	if st := e.stmt("s"); st.Status != Overdue {
		t.Fatalf("status %s", st.Status)
	}
	if len(e.events("a", outbox.StatementOverdue)) != 1 {
		t.Fatal("want one statement.overdue event")
	}
	e.deposit("a", "2")
	if _, err := e.s.SettleAccount(e.ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if st := e.stmt("s"); st.Status != Overdue || st.Due() != usd("3") {
		t.Fatalf("partly paid overdue: %+v", st)
	}
	e.deposit("a", "3")
	if _, err := e.s.SettleAccount(e.ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if st := e.stmt("s"); st.Status != Paid {
		t.Fatalf("status %s, want paid", st.Status)
	}
	list, err := e.s.Statements(e.ctx, Filter{Status: Paid})
	if err != nil || len(list) != 2 {
		t.Fatalf("paid statements %d %v", len(list), err)
	}
	e.verify()
}

// balance.low fires once per downward crossing of each threshold.
func TestBalanceLow(t *testing.T) {
	e := newEnv(t, Config{LowBalance: []money.Units{usd("50"), usd("20")}})
	e.account("a", "0", "")
	e.deposit("a", "100")
	e.issue(newStatement("s1", "a", line("ecs", "40"))) // 100 -> 60: none
	e.issue(newStatement("s2", "a", line("ecs", "15"))) // 60 -> 45: crosses 50
	e.issue(newStatement("s3", "a", line("ecs", "30"))) // 45 -> 15: crosses 20
	e.issue(newStatement("s4", "a", line("ecs", "5")))  // 15 -> 10: none
	e.deposit("a", "90")                                // 100
	if _, err := e.s.SettleAccount(e.ctx, "a"); err != nil {
		t.Fatal(err)
	}
	e.issue(newStatement("s5", "a", line("ecs", "90"))) // 100 -> 10: crosses both
	var got []string
	for _, ev := range e.events("a", outbox.BalanceLow) {
		got = append(got, ev["threshold"].(string))
	}
	want := "[50.00000000 20.00000000 50.00000000 20.00000000]"
	if fmt.Sprint(got) != want {
		t.Fatalf("balance.low thresholds %v, want %s", got, want)
	}
	t.Run("per-account thresholds", func(t *testing.T) {
		if err := e.s.SetAlertThresholds(e.ctx, "a", []money.Units{usd("5")}); err != nil {
			t.Fatal(err)
		}
		e.issue(newStatement("s6", "a", line("ecs", "6"))) // 10 -> 4
		evs := e.events("a", outbox.BalanceLow)
		if last := evs[len(evs)-1]["threshold"]; len(evs) != 5 || last != "5.00000000" {
			t.Fatalf("events %v", evs)
		}
	})
	e.verify()
}

// TestRunPaysUntilFundsAreUsed is the regression for a crash-and-re-run
// that paid a statement a second time (with a second coupon) where one
// uninterrupted run paid it once (found by TestPropertySettlement): a run
// now pays each statement until nothing more applies, one coupon per
// payment, so both end alike.
func TestRunPaysUntilFundsAreUsed(t *testing.T) {
	day := 24 * time.Hour
	e := newEnv(t, Config{})
	e.account("a", "0", "")
	for _, c := range []Coupon{coupon("c10", "10", 30*day), coupon("c20", "20", 30*day)} {
		c.Expires = e.clk.Now().Add(c.Expires.Sub(t0))
		if err := e.s.AddCoupon(e.ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	st := e.issue(newStatement("s", "a", line("ecs", "100")))
	if st.Status != PartiallyPaid || st.Coupons != usd("30") || st.Payments != 2 {
		t.Fatalf("after issue: status %s, coupons %s in %d payments; want partially_paid, 30 in 2 (one coupon each)", st.Status, st.Coupons, st.Payments)
	}
	if run, err := e.s.SettleAccount(e.ctx, "a"); err != nil || len(run.Payments) != 0 {
		t.Fatalf("a second run paid again: %+v %v", run, err)
	}
	e.verify()
}
