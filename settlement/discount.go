package settlement

import (
	"fmt"
	"slices"
	"time"

	"github.com/depositd/depositd/money"
	"github.com/shopspring/decimal"
)

// DiscountKind is the origin of a discount. Its order is the tie order of
// the payment sequence: on an equal price commercial wins over partner, and
// partner over promotional.
type DiscountKind string

// Discount kinds (seeds 003/004).
const (
	Commercial  DiscountKind = "commercial"
	Partner     DiscountKind = "partner"
	Promotional DiscountKind = "promotional"
)

func (k DiscountKind) rank() int {
	switch k {
	case Commercial:
		return 0
	case Partner:
		return 1
	case Promotional:
		return 2
	}
	return 3
}

// Valid reports whether k is one of the three known kinds.
func (k DiscountKind) Valid() bool { return k.rank() < 3 }

// Discount is a rate off the official price of the services in its scope,
// valid in [From, Until). Rate is the fraction taken off: 0.2 is "20% off".
// An empty Services list covers every service; a zero From or Until leaves
// that side of the window open.
type Discount struct {
	ID       string
	Account  string
	Kind     DiscountKind
	Rate     decimal.Decimal
	Services []string
	From     time.Time
	Until    time.Time
}

// Validate checks the outside-supplied fields of d.
func (d Discount) Validate() error {
	switch {
	case d.ID == "":
		return fmt.Errorf("discount: id is empty")
	case d.Account == "":
		return fmt.Errorf("discount %s: account is empty", d.ID)
	case !d.Kind.Valid():
		return fmt.Errorf("discount %s: kind %q: want commercial, partner or promotional", d.ID, d.Kind)
	case d.Rate.Sign() < 0 || d.Rate.GreaterThan(decimal.NewFromInt(1)):
		return fmt.Errorf("discount %s: rate %s: want 0..1 (0.2 = 20%% off)", d.ID, d.Rate)
	case !d.Until.IsZero() && !d.Until.After(d.From):
		return fmt.Errorf("discount %s: valid until %s is not after valid from %s", d.ID, d.Until, d.From)
	}
	return nil
}

// Covers reports whether d applies to service at instant at.
func (d Discount) Covers(service string, at time.Time) bool {
	if !d.From.IsZero() && at.Before(d.From) {
		return false
	}
	if !d.Until.IsZero() && !at.Before(d.Until) {
		return false
	}
	return len(d.Services) == 0 || slices.Contains(d.Services, service)
}

// Price is what is charged for an official amount after d: the exact product
// official × (1 − rate), rounded half-up to 8 decimal places (the last unit of
// 1e-8 USD). Amounts are never negative, so half-up and half-away-from-zero
// agree.
func (d Discount) Price(official money.Units) money.Units {
	exact := decimal.NewFromInt(int64(official)).Mul(decimal.NewFromInt(1).Sub(d.Rate))
	return money.Units(exact.Round(0).IntPart())
}

// BestDiscount picks the one discount for a line of service whose resource
// used the promotional discounts promoHistory in its historical orders. The
// candidates are the commercial and partner discounts covering the line at
// instant at, plus a promotional discount only if its id is in promoHistory.
// The lowest price wins; on an equal price commercial, then partner, then
// promotional; then the smaller id, so the choice is deterministic. ok is
// false when no discount applies (the official amount is charged).
func BestDiscount(ds []Discount, service string, promoHistory []string, official money.Units, at time.Time) (best Discount, price money.Units, ok bool) {
	price = official
	for _, d := range ds {
		if !d.Kind.Valid() || !d.Covers(service, at) {
			continue
		}
		if d.Kind == Promotional && !slices.Contains(promoHistory, d.ID) {
			continue
		}
		p := d.Price(official)
		if !ok || p < price || (p == price && better(d, best)) {
			best, price, ok = d, p, true
		}
	}
	return best, price, ok
}

func better(a, b Discount) bool {
	if a.Kind.rank() != b.Kind.rank() {
		return a.Kind.rank() < b.Kind.rank()
	}
	return a.ID < b.ID
}
