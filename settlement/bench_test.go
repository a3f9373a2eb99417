package settlement

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkSettle measures SettleAccount on an account with one open
// statement of 1, 10 and 100 lines, paid by a cash coupon (lock and
// completion steps) and cash, against a real redis-server.
func BenchmarkSettle(b *testing.B) {
	for _, lines := range []int{1, 10, 100} {
		b.Run("lines="+strconv.Itoa(lines), func(b *testing.B) {
			e := newEnv(b, Config{})
			var ls []Line
			for i := range lines {
				ls = append(ls, Line{Service: "ecs", ResourceID: "r" + strconv.Itoa(i), Project: "web", Official: usd("1.23456789")})
			}
			var elapsed time.Duration
			for i := 0; b.Loop(); i++ {
				acct := "bench-" + strconv.Itoa(i)
				e.account(acct, "0", "")
				if _, err := e.s.IssueStatement(e.ctx, Statement{ID: "st-" + acct, Account: acct, Month: "2026-10", Lines: ls}); err != nil {
					b.Fatal(err)
				}
				if err := e.s.AddCoupon(e.ctx, Coupon{ID: "c", Account: acct, Balance: usd("1"), Expires: e.clk.Now().Add(time.Hour)}); err != nil {
					b.Fatal(err)
				}
				e.deposit(acct, "200")
				start := time.Now()
				run, err := e.s.SettleAccount(e.ctx, acct)
				elapsed += time.Since(start)
				if err != nil || len(run.Payments) != 1 || run.Payments[0].Status != Paid {
					b.Fatalf("run %+v: %v", run, err)
				}
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "settlements/s")
		})
	}
}
