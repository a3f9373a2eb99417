package settlement

import (
	"reflect"
	"testing"
	"time"

	"github.com/depositd/depositd/money"
)

func stmt(lines ...Line) Statement {
	st := Statement{ID: "s1", Account: "a", Month: "2024-11", IssuedAt: t0, Status: Pending, Lines: lines}
	for i := range st.Lines {
		if !st.Lines[i].ThirdParty {
			st.Lines[i].Amount = st.Lines[i].Official
		}
	}
	return st
}

func line(service, official string) Line {
	return Line{Service: service, ResourceID: "r-" + service, Official: usd(official)}
}

func TestPlanPayment(t *testing.T) {
	day := 24 * time.Hour
	third := line("image", "7")
	third.ThirdParty = true
	tests := []struct {
		name string
		st   Statement
		f    Funds
		want Plan
	}{
		{
			name: "coupon covers all",
			st:   stmt(line("ecs", "30"), line("evs", "20")),
			f:    Funds{Cash: usd("100"), Coupons: []Coupon{coupon("c1", "60", day), coupon("c2", "80", day)}},
			want: Plan{CouponID: "c2", Coupon: usd("50"), Lines: []LinePart{{Line: 0, Coupon: usd("30")}, {Line: 1, Coupon: usd("20")}}},
		},
		{
			name: "coupon short, rest from cash then credit",
			st:   stmt(line("ecs", "30"), line("evs", "20")),
			f:    Funds{Cash: usd("15"), CreditAvailable: usd("100"), Coupons: []Coupon{coupon("c1", "10", day), coupon("c2", "5", day)}},
			want: Plan{CouponID: "c1", Coupon: usd("10"), Cash: usd("15"), Credit: usd("25"), Lines: []LinePart{
				{Line: 0, Coupon: usd("10"), Cash: usd("15"), Credit: usd("5")},
				{Line: 1, Credit: usd("20")},
			}},
		},
		{
			name: "scoped coupon pays only its service",
			st:   stmt(line("ecs", "30"), line("evs", "20")),
			f:    Funds{Cash: usd("100"), Coupons: []Coupon{coupon("c1", "50", day, "evs")}},
			want: Plan{CouponID: "c1", Coupon: usd("20"), Cash: usd("30"), Lines: []LinePart{{Line: 0, Cash: usd("30")}, {Line: 1, Coupon: usd("20")}}},
		},
		{
			name: "third-party line never paid",
			st:   stmt(line("ecs", "10"), third),
			f:    Funds{Cash: usd("100")},
			want: Plan{Cash: usd("10"), Lines: []LinePart{{Line: 0, Cash: usd("10")}}},
		},
		{
			name: "not enough anywhere: partial",
			st:   stmt(line("ecs", "10")),
			f:    Funds{Cash: usd("3"), CreditAvailable: usd("2")},
			want: Plan{Cash: usd("3"), Credit: usd("2"), Lines: []LinePart{{Line: 0, Cash: usd("3"), Credit: usd("2")}}},
		},
		{
			name: "nothing to pay with",
			st:   stmt(line("ecs", "10")),
			f:    Funds{},
			want: Plan{},
		},
		{
			name: "paid statement plans nothing",
			st:   func() Statement { s := stmt(line("ecs", "10")); s.Status = Paid; return s }(),
			f:    Funds{Cash: usd("100")},
			want: Plan{},
		},
		{
			name: "already partly paid line",
			st:   func() Statement { s := stmt(line("ecs", "10"), line("evs", "5")); s.Lines[0].Paid = usd("9"); return s }(),
			f:    Funds{Cash: usd("100")},
			want: Plan{Cash: usd("6"), Lines: []LinePart{{Line: 0, Cash: usd("1")}, {Line: 1, Cash: usd("5")}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PlanPayment(tc.st, tc.f, t0)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tc.want)
			}
			checkPlan(t, tc.st, tc.f, got)
		})
	}
}

// checkPlan asserts the plan's conservation facts.
func checkPlan(t *testing.T, st Statement, f Funds, p Plan) {
	t.Helper()
	var c, ca, cr money.Units
	for _, lp := range p.Lines {
		if lp.Total() <= 0 || lp.Total() > st.Lines[lp.Line].Due() || st.Lines[lp.Line].ThirdParty {
			t.Fatalf("line part %+v out of range (due %s)", lp, st.Lines[lp.Line].Due())
		}
		c, ca, cr = c+lp.Coupon, ca+lp.Cash, cr+lp.Credit
	}
	if c != p.Coupon || ca != p.Cash || cr != p.Credit {
		t.Fatalf("line parts %s/%s/%s do not sum to plan %+v", c, ca, cr, p)
	}
	if p.Cash > f.Cash || p.Credit > f.CreditAvailable || p.Total() > st.Due() {
		t.Fatalf("plan %+v exceeds funds %+v or due %s", p, f, st.Due())
	}
}

func TestPlanLocked(t *testing.T) {
	st := stmt(line("ecs", "30"), line("evs", "20"))
	p := PlanLocked(st, Funds{Cash: usd("100")}, "c1", []string{"evs"}, usd("25"))
	want := Plan{CouponID: "c1", Coupon: usd("20"), Cash: usd("30"), Lines: []LinePart{{Line: 0, Cash: usd("30")}, {Line: 1, Coupon: usd("20")}}}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("got %+v, want %+v (coupon part clamped to the in-scope due)", p, want)
	}
}
