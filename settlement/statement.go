// Package settlement turns a customer's monthly cloud statement into money
// moved on the ledger: it prices each line with the one best discount, pays
// with one cash coupon per payment, then cash, then the credit line (seeds
// 003/004), keeps the statement's state, marks overdue statements, raises
// balance alerts and exports the month's reconciliation.
//
// The pure parts (discount.go, coupon.go, sequence.go, cycle.go and the
// statement types and importers) need no Redis; service*.go drive them
// through settlement/ledger, one atomic, idempotent ledger step at a time.
package settlement

import (
	"fmt"
	"time"

	"github.com/depositd/depositd/money"
)

// Status is the payment state of a statement.
type Status string

// Statement states: pending → partially_paid → paid; overdue once past due
// with an amount left (a later payment keeps it overdue until it is paid).
const (
	Pending       Status = "pending"
	PartiallyPaid Status = "partially_paid"
	Paid          Status = "paid"
	Overdue       Status = "overdue"
)

// Open reports whether a statement in state s still has an amount to pay.
func (s Status) Open() bool { return s == Pending || s == PartiallyPaid || s == Overdue }

// Valid reports whether s is a known state.
func (s Status) Valid() bool { return s.Open() || s == Paid }

// Line is one line item of a statement. A master account's statement carries
// its members' lines, each naming the member in MemberAccount.
type Line struct {
	Service       string
	ResourceID    string
	Project       string
	MemberAccount string
	Official      money.Units // official price, before any discount
	// ThirdParty lines are listed but never paid by automatic settlement:
	// the platform charges only its own products (seeds 003/004).
	ThirdParty bool
	// PromoHistory names the promotional discounts used in historical orders
	// of this resource; only those may compete for this line.
	PromoHistory []string
	// Note is free text shown with the line, e.g. a discount the cloud
	// already applied to Official ("huawei discount 2.50000000 applied").
	Note string

	// Set when the statement is issued.
	DiscountID   string
	DiscountKind DiscountKind
	Amount       money.Units // charged: Official after the discount; 0 for third-party lines

	// Moved by payments.
	Paid money.Units
}

// Due is what is left to pay on the line.
func (l Line) Due() money.Units { return l.Amount - l.Paid }

// Statement is one account's statement for one billing month.
type Statement struct {
	ID       string
	Account  string
	Month    string // billing cycle, "2026-10"
	IssuedAt time.Time
	DueAt    time.Time
	Lines    []Line

	Status   Status
	Coupons  money.Units // paid with cash coupons
	Cash     money.Units // paid from the cash balance
	Credit   money.Units // paid from the credit line
	Payments int         // completed payments
}

// Amount is the sum of the lines' charged amounts: the official amounts
// after discounts, without third-party lines (seed 001 "Amount").
func (s Statement) Amount() money.Units {
	var sum money.Units
	for _, l := range s.Lines {
		sum += l.Amount
	}
	return sum
}

// Official is the sum of the lines' official amounts, third-party included.
func (s Statement) Official() money.Units {
	var sum money.Units
	for _, l := range s.Lines {
		sum += l.Official
	}
	return sum
}

// Net is Amount minus the cash coupons used (seed 001 "Net Amount").
func (s Statement) Net() money.Units { return s.Amount() - s.Coupons }

// PaidTotal is everything paid so far: coupons, cash and credit.
func (s Statement) PaidTotal() money.Units { return s.Coupons + s.Cash + s.Credit }

// Due is what is left to pay.
func (s Statement) Due() money.Units { return s.Amount() - s.PaidTotal() }

// maxLines bounds a statement so that one payment step stays one small
// atomic script.
const maxLines = 2000

// Validate checks the outside-supplied fields of a statement to be issued:
// ids, month, and each line. Errors name the line (1-based) and field.
func (s Statement) Validate() error {
	if s.ID == "" {
		return fmt.Errorf("statement: id is empty")
	}
	if s.Account == "" {
		return fmt.Errorf("statement %s: account is empty", s.ID)
	}
	if _, err := ParseMonth(s.Month, time.UTC); err != nil {
		return fmt.Errorf("statement %s: %w", s.ID, err)
	}
	if len(s.Lines) > maxLines {
		return fmt.Errorf("statement %s: %d lines: at most %d", s.ID, len(s.Lines), maxLines)
	}
	var total money.Units
	for i, l := range s.Lines {
		if err := l.validate(); err != nil {
			return fmt.Errorf("statement %s: line %d: %w", s.ID, i+1, err)
		}
		if total+l.Official < total {
			return fmt.Errorf("statement %s: line %d: total: %w", s.ID, i+1, money.ErrRange)
		}
		total += l.Official
	}
	return nil
}

func (l Line) validate() error {
	switch {
	case l.Service == "":
		return fmt.Errorf("service is empty")
	case l.ResourceID == "":
		return fmt.Errorf("resource_id is empty")
	case l.Official < 0:
		return fmt.Errorf("official_amount %s: must be >= 0", l.Official)
	case len(l.Note) > 512:
		return fmt.Errorf("note longer than 512 bytes")
	}
	return nil
}

// Price fixes each line's discount and charged amount from the account's
// discounts valid at the statement's issue time. Third-party lines are
// charged 0 here: they are not paid by automatic settlement.
func (s *Statement) Price(ds []Discount) {
	for i := range s.Lines {
		l := &s.Lines[i]
		l.DiscountID, l.DiscountKind, l.Amount = "", "", l.Official
		if l.ThirdParty {
			l.Amount = 0
			continue
		}
		if d, price, ok := BestDiscount(ds, l.Service, l.PromoHistory, l.Official, s.IssuedAt); ok {
			l.DiscountID, l.DiscountKind, l.Amount = d.ID, d.Kind, price
		}
	}
}
