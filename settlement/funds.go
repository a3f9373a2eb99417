package settlement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/settlement/ledger"
)

// couponDoc is the stored description of a granted coupon; its money is the
// ledger book coupon:<id>.
type couponDoc struct {
	ID       string      `json:"id"`
	Account  string      `json:"account"`
	Amount   money.Units `json:"amount"`
	Expires  time.Time   `json:"expires"`
	Services []string    `json:"services,omitempty"`
}

// CouponView is a coupon with its money as the ledger holds it.
type CouponView struct {
	Coupon
	Granted money.Units // amount granted
	Locked  money.Units // held by a running payment
}

// AddCoupon grants the cash coupon c (c.Balance is the amount granted) to
// its account: one ledger step moving the amount from sys:coupons into the
// account's coupon:<id> book. Idempotent on (account, id): granting the
// same coupon again is a no-op; the same id with another amount, expiry or
// scope is ErrExists. ErrNotFound if the account does not exist.
func (s *Service) AddCoupon(ctx context.Context, c Coupon) error {
	if err := c.Validate(); err != nil {
		return invalid(err)
	}
	if err := validID("coupon", c.ID); err != nil {
		return err
	}
	if _, err := s.account(ctx, c.Account); err != nil {
		return err
	}
	d := couponDoc{ID: c.ID, Account: c.Account, Amount: c.Balance, Expires: c.Expires.UTC(), Services: c.Services}
	body, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("coupon %s: %w", c.ID, err)
	}
	_, err = s.step(ctx, "coupon.grant", ledger.Txn{
		Key: couponTxKey(c.Account, c.ID), Fingerprint: fingerprint(string(body)),
		Account: ledger.AccountID(c.Account), Kind: "coupon.grant",
		Postings: []ledger.Posting{
			{Book: couponBook(c.ID), Delta: c.Balance, Floor: ledger.FloorZero},
			{Book: sysCoupons, Delta: -c.Balance},
		},
		Sets: []ledger.Set{
			{Key: couponKey(c.Account, c.ID), Field: "doc", Value: string(body)},
			{Key: couponsKey(c.Account), Field: c.ID, Value: "1"},
		},
		Meta: map[string]string{"coupon": c.ID, "amount": c.Balance.String(), "expires": d.Expires.Format(time.RFC3339)},
	})
	if errors.Is(err, ledger.ErrFingerprint) {
		return fmt.Errorf("coupon %s: %w", c.ID, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("coupon %s: %w", c.ID, err)
	}
	return nil
}

// Coupons returns account's coupons, by id, with balances as the ledger
// holds them (expired ones included).
func (s *Service) Coupons(ctx context.Context, account string) ([]CouponView, error) {
	a, err := s.account(ctx, account)
	if err != nil {
		return nil, err
	}
	return s.coupons(ctx, a)
}

func (s *Service) coupons(ctx context.Context, a ledger.Account) ([]CouponView, error) {
	account := string(a.ID)
	ids, err := s.rdb.HKeys(ctx, abs(account, couponsKey(account))).Result()
	if err != nil {
		return nil, fmt.Errorf("coupons of %s: %w", account, err)
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.StringCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGet(ctx, abs(account, couponKey(account, id)), "doc")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("coupons of %s: %w", account, err)
	}
	out := make([]CouponView, len(ids))
	for i, c := range cmds {
		var d couponDoc
		if err := json.Unmarshal([]byte(c.Val()), &d); err != nil {
			return nil, fmt.Errorf("coupon %s: %w", ids[i], err)
		}
		out[i] = CouponView{
			Coupon:  Coupon{ID: d.ID, Account: d.Account, Balance: a.Books[couponBook(d.ID)], Expires: d.Expires, Services: d.Services},
			Granted: d.Amount, Locked: a.Books[couponLockedBook(d.ID)],
		}
	}
	return out, nil
}

// discountJSON is the stored and wire form of a Discount.
type discountJSON struct {
	ID       string       `json:"id"`
	Account  string       `json:"account"`
	Kind     DiscountKind `json:"kind"`
	Rate     string       `json:"rate"`
	Services []string     `json:"services,omitempty"`
	From     *time.Time   `json:"from,omitempty"`
	Until    *time.Time   `json:"until,omitempty"`
}

// AddDiscount records discount d of its account. Discounts price the lines
// of statements issued afterwards. Idempotent on (account, id); the same id
// with other content is ErrExists. ErrNotFound if the account is missing.
func (s *Service) AddDiscount(ctx context.Context, d Discount) error {
	if err := d.Validate(); err != nil {
		return invalid(err)
	}
	if err := validID("discount", d.ID); err != nil {
		return err
	}
	if _, err := s.account(ctx, d.Account); err != nil {
		return err
	}
	w := d.wire()
	body, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("discount %s: %w", d.ID, err)
	}
	key := abs(d.Account, discountsKey(d.Account))
	set, err := s.rdb.HSetNX(ctx, key, d.ID, body).Result()
	if err != nil {
		return fmt.Errorf("discount %s: %w", d.ID, err)
	}
	if !set {
		have, err := s.rdb.HGet(ctx, key, d.ID).Result()
		if err != nil {
			return fmt.Errorf("discount %s: %w", d.ID, err)
		}
		if have != string(body) {
			return fmt.Errorf("discount %s: %w", d.ID, ErrExists)
		}
	}
	return nil
}

// Discounts returns account's discounts, by id.
func (s *Service) Discounts(ctx context.Context, account string) ([]Discount, error) {
	h, err := s.rdb.HGetAll(ctx, abs(account, discountsKey(account))).Result()
	if err != nil {
		return nil, fmt.Errorf("discounts of %s: %w", account, err)
	}
	out := make([]Discount, 0, len(h))
	for id, v := range h {
		d, err := decodeDiscount(v)
		if err != nil {
			return nil, fmt.Errorf("discount %s: %w", id, err)
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Discount) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func (d Discount) wire() discountJSON {
	w := discountJSON{ID: d.ID, Account: d.Account, Kind: d.Kind, Rate: d.Rate.String(), Services: d.Services}
	if !d.From.IsZero() {
		f := d.From.UTC()
		w.From = &f
	}
	if !d.Until.IsZero() {
		u := d.Until.UTC()
		w.Until = &u
	}
	return w
}

func decodeDiscount(v string) (Discount, error) {
	var w discountJSON
	if err := json.Unmarshal([]byte(v), &w); err != nil {
		return Discount{}, err
	}
	return decodeDiscountWire(w)
}

func decodeDiscountWire(w discountJSON) (Discount, error) {
	d := Discount{ID: w.ID, Account: w.Account, Kind: w.Kind, Services: w.Services}
	var err error
	if d.Rate, err = parseRate(w.Rate); err != nil {
		return Discount{}, err
	}
	if w.From != nil {
		d.From = *w.From
	}
	if w.Until != nil {
		d.Until = *w.Until
	}
	return d, nil
}

// SetCreditLimit sets account's credit limit (a ledger step with an audit
// entry); a limit below the credit already used is refused.
func (s *Service) SetCreditLimit(ctx context.Context, account string, limit money.Units) error {
	a, err := s.account(ctx, account)
	if err != nil {
		return err
	}
	return s.l.SetCreditLimit(ctx, a.ID, limit)
}

// SetAlertThresholds replaces account's balance.low thresholds (each > 0);
// an empty list returns the account to the configured defaults.
func (s *Service) SetAlertThresholds(ctx context.Context, account string, thresholds []money.Units) error {
	if _, err := s.account(ctx, account); err != nil {
		return err
	}
	for _, t := range thresholds {
		if t <= 0 {
			return fmt.Errorf("threshold %s: must be > 0", t)
		}
	}
	key := abs(account, settleKey(account))
	if len(thresholds) == 0 {
		return s.rdb.HDel(ctx, key, "thresholds").Err()
	}
	body, err := json.Marshal(thresholds)
	if err != nil {
		return err
	}
	return s.rdb.HSet(ctx, key, "thresholds", body).Err()
}

// thresholds returns account's balance.low thresholds.
func (s *Service) thresholds(ctx context.Context, account string) ([]money.Units, error) {
	v, err := s.rdb.HGet(ctx, abs(account, settleKey(account)), "thresholds").Result()
	if errors.Is(err, redis.Nil) {
		return s.cfg.LowBalance, nil
	}
	if err != nil {
		return nil, fmt.Errorf("thresholds of %s: %w", account, err)
	}
	var ts []money.Units
	if err := json.Unmarshal([]byte(v), &ts); err != nil {
		return nil, fmt.Errorf("thresholds of %s: %w", account, err)
	}
	return ts, nil
}

// validID accepts ids that are safe inside Redis keys and ledger book names:
// 1..64 of A-Z a-z 0-9 _ . -.
func validID(what, id string) error {
	if _, err := ledger.ParseAccountID(id); err != nil {
		return invalid(fmt.Errorf("%s id %q: use 1..64 of A-Z a-z 0-9 _ . -", what, id))
	}
	return nil
}

func parseRate(s string) (decimal.Decimal, error) {
	r, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("rate %q: %w", s, err)
	}
	return r, nil
}
