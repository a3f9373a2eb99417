package settlement

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/depositd/depositd/money"
)

const maxFundsBytes = 64 << 10

// decodeStrict reads one JSON object from r into v: unknown fields and
// trailing data are errors.
func decodeStrict(r io.Reader, what string, v any) error {
	body, err := io.ReadAll(io.LimitReader(r, maxFundsBytes+1))
	if err != nil {
		return fmt.Errorf("%s json: %w", what, err)
	}
	if len(body) > maxFundsBytes {
		return fmt.Errorf("%s json: larger than %d bytes", what, maxFundsBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s json: %w", what, jsonErr(err))
	}
	if dec.More() {
		return fmt.Errorf("%s json: trailing data after the object", what)
	}
	return nil
}

// ParseCouponJSON reads a coupon to grant:
//
//	{"id": "c-1", "account": "acme", "amount": "50", "expires": "2026-12-31T16:00:00Z",
//	 "services": ["ecs"]}                                   (services optional)
//
// The result is validated; errors name the field.
func ParseCouponJSON(r io.Reader) (Coupon, error) {
	var in struct {
		ID       string     `json:"id"`
		Account  string     `json:"account"`
		Amount   *string    `json:"amount"`
		Expires  *time.Time `json:"expires"`
		Services []string   `json:"services"`
	}
	if err := decodeStrict(r, "coupon", &in); err != nil {
		return Coupon{}, err
	}
	if in.Amount == nil {
		return Coupon{}, errors.New("coupon json: amount is missing")
	}
	amt, err := money.ParseUSD(*in.Amount)
	if err != nil {
		return Coupon{}, fmt.Errorf("coupon json: amount: %w", err)
	}
	c := Coupon{ID: in.ID, Account: in.Account, Balance: amt, Services: in.Services}
	if in.Expires != nil {
		c.Expires = *in.Expires
	}
	if err := c.Validate(); err != nil {
		return Coupon{}, err
	}
	return c, validID("coupon", c.ID)
}

// ParseDiscountJSON reads a discount:
//
//	{"id": "com-20", "account": "acme", "kind": "commercial", "rate": "0.2",
//	 "services": ["ecs"], "from": "...", "until": "..."}   (the last three optional)
//
// rate is the fraction off (0.2 = 20% off). The result is validated.
func ParseDiscountJSON(r io.Reader) (Discount, error) {
	var in discountJSON
	if err := decodeStrict(r, "discount", &in); err != nil {
		return Discount{}, err
	}
	d, err := decodeDiscountWire(in)
	if err != nil {
		return Discount{}, fmt.Errorf("discount json: %w", err)
	}
	if err := d.Validate(); err != nil {
		return Discount{}, err
	}
	return d, validID("discount", d.ID)
}

// ParseStatementCSV reads the lines of statement id of account for month
// from CSV (see ParseLinesCSV) and returns the validated statement.
func ParseStatementCSV(r io.Reader, id, account, month string) (Statement, error) {
	ls, err := ParseLinesCSV(r)
	if err != nil {
		return Statement{}, err
	}
	st := Statement{ID: id, Account: account, Month: month, Lines: ls}
	if err := st.Validate(); err != nil {
		return Statement{}, err
	}
	return st, nil
}

// MarshalJSON writes the coupon with amounts as 8-dp decimal strings:
// {id, account, balance, locked, granted, expires, services}.
func (c CouponView) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{
		"id": c.ID, "account": c.Account, "balance": c.Balance.String(), "locked": c.Locked.String(),
		"granted": c.Granted.String(), "expires": c.Expires.UTC(), "services": c.Services,
	})
}

// MarshalJSON writes the discount in the form ParseDiscountJSON reads.
func (d Discount) MarshalJSON() ([]byte, error) { return json.Marshal(d.wire()) }
