package settlement

import (
	"fmt"
	"slices"
	"time"

	"github.com/depositd/depositd/money"
)

// Coupon is a cash coupon of an account: Balance is what is left to spend
// (not counting an amount locked by a running payment), valid until Expires
// (exclusive), for the services in Services (empty: every service).
type Coupon struct {
	ID       string
	Account  string
	Balance  money.Units
	Expires  time.Time
	Services []string
}

// Validate checks the outside-supplied fields of c.
func (c Coupon) Validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("coupon: id is empty")
	case c.Account == "":
		return fmt.Errorf("coupon %s: account is empty", c.ID)
	case c.Balance <= 0:
		return fmt.Errorf("coupon %s: balance %s: must be > 0", c.ID, c.Balance)
	case c.Expires.IsZero():
		return fmt.Errorf("coupon %s: expiry is missing", c.ID)
	}
	return nil
}

// Covers reports whether c may pay for service at instant at.
func (c Coupon) Covers(service string, at time.Time) bool {
	return at.Before(c.Expires) && (len(c.Services) == 0 || slices.Contains(c.Services, service))
}

// ChooseCoupon picks the one cash coupon of a payment (seeds 003/004). Only
// valid coupons count: unexpired at at, with a balance, and covering a part
// of the amount due (inScope(c) is the due amount of the lines in c's scope).
// If several coupons can cover what they may pay, the one with the largest
// balance is used; if none can, the one with the largest balance too, and the
// rest is paid from the account balance. Equal balances: the one that
// expires first, then the smaller id. ok is false when no coupon is valid.
func ChooseCoupon(cs []Coupon, at time.Time, inScope func(Coupon) money.Units) (chosen Coupon, ok bool) {
	chosenCovers := false
	for _, c := range cs {
		if c.Balance <= 0 || !at.Before(c.Expires) {
			continue
		}
		due := inScope(c)
		if due <= 0 {
			continue
		}
		covers := c.Balance >= due
		switch {
		case !ok:
		case covers != chosenCovers:
			if !covers {
				continue
			}
		case c.Balance != chosen.Balance:
			if c.Balance < chosen.Balance {
				continue
			}
		case !c.Expires.Equal(chosen.Expires):
			if c.Expires.After(chosen.Expires) {
				continue
			}
		case c.ID >= chosen.ID:
			continue
		}
		chosen, chosenCovers, ok = c, covers, true
	}
	return chosen, ok
}
