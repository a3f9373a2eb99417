package settlement

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/outbox"
)

// Concurrent runs on one account (a deposit trigger racing an on-demand
// settle) re-plan on conflicts and never pay twice or spend a coupon twice.
func TestConcurrentSettle(t *testing.T) {
	e := newEnv(t, Config{})
	e.account("a", "0", "")
	for _, id := range []string{"c1", "c2"} {
		if err := e.s.AddCoupon(e.ctx, Coupon{ID: id, Account: "a", Balance: usd("3"), Expires: e.clk.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"s1", "s2", "s3"} {
		e.issue(newStatement(id, "a", line("ecs", "10")))
	}
	e.deposit("a", "100")
	var g errgroup.Group
	for range 6 {
		g.Go(func() error {
			_, err := e.s.SettleAccount(e.ctx, "a")
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	a := e.acct("a")
	var paid money.Units
	for _, id := range []string{"s1", "s2", "s3"} {
		st := e.stmt(id)
		if st.Status != Paid {
			t.Fatalf("%s: %s", id, st.Status)
		}
		paid += st.Cash
	}
	// Issue-time runs already spent both coupons (3 each) on s1 and s2.
	if a.Cash != usd("100")-paid || paid != usd("24") || a.Books[couponBook("c1")] != 0 || a.Books[couponBook("c2")] != 0 {
		t.Fatalf("cash %s, paid %s, coupons %v", a.Cash, paid, a.Books)
	}
	if n := len(e.events("a", outbox.StatementPaid)); n != 3 {
		t.Fatalf("%d statement.paid events, want 3", n)
	}
	e.verify()
}

// Run sweeps at each tick and returns when its context ends.
func TestRunSweeps(t *testing.T) {
	e := newEnv(t, Config{DueDays: 1})
	e.account("a", "0", "")
	e.issue(newStatement("s", "a", line("ecs", "1")))
	e.clk.Add(48 * time.Hour)
	ctx, cancel := context.WithCancel(e.ctx)
	tick := make(chan time.Time)
	done := make(chan error, 1)
	go func() { done <- e.s.Run(ctx, tick) }()
	tick <- e.clk.Now()
	tick <- e.clk.Now() // the second send returns once the first sweep finished
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled", err)
	}
	if st := e.stmt("s"); st.Status != Overdue {
		t.Fatalf("status %s, want overdue", st.Status)
	}
}

func TestConfigTimeZoneAndDueDays(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		issued  time.Time
		wantDue time.Time
	}{
		{"defaults: UTC+8, 10 days", Config{}, time.Time{}, time.Date(2026, 11, 11, 0, 0, 0, 0, DefaultLocation)},
		{"UTC, 5 days, explicit issue", Config{Location: time.UTC, DueDays: 5}, time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC), time.Date(2026, 11, 8, 9, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.cfg)
			e.account("a", "0", "")
			st := newStatement("s", "a", line("ecs", "1"))
			st.IssuedAt = tc.issued
			got := e.issue(st)
			if !got.DueAt.Equal(tc.wantDue) {
				t.Fatalf("due %s, want %s", got.DueAt, tc.wantDue)
			}
		})
	}
}

// Two statements racing for one coupon: one locks it, the other re-plans
// (the account guard) instead of failing on the coupon's floor.
func TestConcurrentCouponRace(t *testing.T) {
	e := newEnv(t, Config{})
	e.account("a", "0", "")
	for _, id := range []string{"s1", "s2", "s3", "s4"} {
		e.issue(newStatement(id, "a", line("ecs", "4")))
	}
	if err := e.s.AddCoupon(e.ctx, Coupon{ID: "c", Account: "a", Balance: usd("10"), Expires: e.clk.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var g errgroup.Group
	for _, id := range []string{"s1", "s2", "s3", "s4"} {
		g.Go(func() error {
			_, _, err := e.s.payStatement(e.ctx, "a", id)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	var paid money.Units
	for _, id := range []string{"s1", "s2", "s3", "s4"} {
		paid += e.stmt(id).Coupons
	}
	if a := e.acct("a"); paid != usd("10") || a.Books[couponBook("c")] != 0 || a.Books[couponLockedBook("c")] != 0 {
		t.Fatalf("coupon paid %s, left %s, locked %s", paid, a.Books[couponBook("c")], a.Books[couponLockedBook("c")])
	}
	e.verify()
}
