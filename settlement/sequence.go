package settlement

import (
	"slices"
	"time"

	"github.com/depositd/depositd/money"
)

// Funds is a snapshot of what an account can pay with.
type Funds struct {
	Cash            money.Units // cash balance, >= 0
	CreditAvailable money.Units // credit limit minus credit used, >= 0
	Coupons         []Coupon    // unlocked coupon balances
}

// LinePart is what one payment pays on one line.
type LinePart struct {
	Line   int // index into Statement.Lines
	Coupon money.Units
	Cash   money.Units
	Credit money.Units
}

// Total is the line's part of the payment.
func (p LinePart) Total() money.Units { return p.Coupon + p.Cash + p.Credit }

// Plan is one payment of a statement: at most one coupon, then cash, then
// credit, each split over the lines in line order.
type Plan struct {
	CouponID string
	Coupon   money.Units
	Cash     money.Units
	Credit   money.Units
	Lines    []LinePart // lines with a non-zero part, ascending Line
}

// Total is the amount the payment pays.
func (p Plan) Total() money.Units { return p.Coupon + p.Cash + p.Credit }

// PlanPayment plans the next payment of st from the funds f at instant at,
// following the payment sequence of seeds 003/004: the lines' discounts were
// fixed when the statement was issued (Line.Amount); one cash coupon chosen
// by ChooseCoupon pays what it can of the lines in its scope; the cash
// balance pays what it can of the rest; then the credit line. Third-party
// lines are never paid. The plan pays nothing when st is not open.
func PlanPayment(st Statement, f Funds, at time.Time) Plan {
	if !st.Status.Open() {
		return Plan{}
	}
	dues := lineDues(st)
	inScope := func(c Coupon) money.Units {
		var sum money.Units
		for i, l := range st.Lines {
			if c.Covers(l.Service, at) {
				sum += dues[i]
			}
		}
		return sum
	}
	var p Plan
	if c, ok := ChooseCoupon(f.Coupons, at, inScope); ok {
		p.CouponID = c.ID
		p.Coupon = allocate(dues, min(c.Balance, inScope(c)), scopeOf(st, c.Services), func(lp *LinePart, a money.Units) { lp.Coupon += a }, &p)
	}
	p.Cash = allocate(dues, f.Cash, nil, func(lp *LinePart, a money.Units) { lp.Cash += a }, &p)
	p.Credit = allocate(dues, f.CreditAvailable, nil, func(lp *LinePart, a money.Units) { lp.Credit += a }, &p)
	return p
}

// PlanLocked plans the completion of a payment whose coupon amount locked
// was already locked from the coupon couponID with the service scope
// services: the locked amount is split over the in-scope lines exactly as
// PlanPayment split it, then cash and credit pay what they can of the rest.
// The coupon part never exceeds what the in-scope lines still owe; the
// caller returns any excess of locked over Plan.Coupon to the coupon.
func PlanLocked(st Statement, f Funds, couponID string, services []string, locked money.Units) Plan {
	dues := lineDues(st)
	p := Plan{CouponID: couponID}
	p.Coupon = allocate(dues, locked, scopeOf(st, services), func(lp *LinePart, a money.Units) { lp.Coupon += a }, &p)
	p.Cash = allocate(dues, f.Cash, nil, func(lp *LinePart, a money.Units) { lp.Cash += a }, &p)
	p.Credit = allocate(dues, f.CreditAvailable, nil, func(lp *LinePart, a money.Units) { lp.Credit += a }, &p)
	return p
}

func lineDues(st Statement) []money.Units {
	dues := make([]money.Units, len(st.Lines))
	for i, l := range st.Lines {
		if !l.ThirdParty && l.Due() > 0 {
			dues[i] = l.Due()
		}
	}
	return dues
}

// scopeOf marks the lines a coupon with the given service scope may pay.
func scopeOf(st Statement, services []string) []bool {
	in := make([]bool, len(st.Lines))
	for i, l := range st.Lines {
		in[i] = len(services) == 0 || slices.Contains(services, l.Service)
	}
	return in
}

// allocate spends up to budget over the remaining dues (restricted to scope
// when non-nil) in line order, lowering dues and recording each line's share
// in p through add. It returns what was spent.
func allocate(dues []money.Units, budget money.Units, scope []bool, add func(*LinePart, money.Units), p *Plan) money.Units {
	var spent money.Units
	for i := range dues {
		if budget <= 0 {
			break
		}
		if dues[i] <= 0 || (scope != nil && !scope[i]) {
			continue
		}
		a := min(dues[i], budget)
		dues[i] -= a
		budget -= a
		spent += a
		add(partFor(p, i), a)
	}
	return spent
}

func partFor(p *Plan, line int) *LinePart {
	j, found := slices.BinarySearchFunc(p.Lines, line, func(lp LinePart, l int) int { return lp.Line - l })
	if !found {
		p.Lines = slices.Insert(p.Lines, j, LinePart{Line: line})
	}
	return &p.Lines[j]
}
