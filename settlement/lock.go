package settlement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/depositd/depositd/settlement/ledger"
)

// lockCoupon locks the plan's coupon part for payment Seq+1 of st.
func (s *Service) lockCoupon(ctx context.Context, a ledger.Account, st stmtState, plan Plan, cs []CouponView) error {
	n := st.Seq + 1
	var services []string
	for _, c := range cs {
		if c.ID == plan.CouponID {
			services = c.Services
		}
	}
	lk := lock{N: n, Coupon: plan.CouponID, Services: services, Amount: plan.Coupon, At: s.now().UTC()}
	body, err := json.Marshal(lk)
	if err != nil {
		return err
	}
	sk := stmtKey(st.ID)
	_, err = s.step(ctx, "lock", ledger.Txn{
		Key: lockTxKey(st.ID, n), Fingerprint: fingerprint(plan.CouponID, itoa(int64(plan.Coupon))),
		Account: a.ID, Kind: "coupon.lock",
		Postings: []ledger.Posting{
			{Book: couponBook(plan.CouponID), Delta: -plan.Coupon, Floor: ledger.FloorZero},
			{Book: couponLockedBook(plan.CouponID), Delta: plan.Coupon, Floor: ledger.FloorZero},
		},
		// The account guard re-plans when another statement's payment took
		// from the same coupon meanwhile.
		Guards: []ledger.Guard{{Key: sk, Field: "version", Equals: strconv.Itoa(st.Version)}, acctGuard(a)},
		Sets: []ledger.Set{
			{Key: sk, Field: "lock", Value: string(body)},
			{Key: sk, Field: "seq", Value: strconv.Itoa(n)},
			{Key: sk, Field: "version", Value: strconv.Itoa(st.Version + 1)},
		},
		Meta: map[string]string{"statement": st.ID, "payment": strconv.Itoa(n), "coupon": plan.CouponID, "amount": plan.Coupon.String()},
	})
	if errors.Is(err, ledger.ErrFingerprint) {
		// Another run locked payment n with another plan first.
		return fmt.Errorf("statement %s: lock %d: %w", st.ID, n, ledger.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("statement %s: lock %d: %w", st.ID, n, err)
	}
	return nil
}

// unlockFresh re-reads statement id and releases its lock, if any.
func (s *Service) unlockFresh(ctx context.Context, account, id string) error {
	for range maxAttempts {
		st, err := readStatement(ctx, s.rdb, account, id)
		if err != nil {
			return err
		}
		if st.Lock == nil {
			return nil
		}
		a, err := s.account(ctx, account)
		if err != nil {
			return err
		}
		if err := s.unlock(ctx, a, st); !errors.Is(err, ledger.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("statement %s: unlock: %w", id, ledger.ErrConflict)
}

// unlock returns st's locked coupon amount to the coupon; payment Seq is
// then abandoned and the next payment takes Seq+1.
func (s *Service) unlock(ctx context.Context, a ledger.Account, st stmtState) error {
	lk := st.Lock
	sk := stmtKey(st.ID)
	_, err := s.step(ctx, "unlock", ledger.Txn{
		Key: unlockTxKey(st.ID, lk.N), Fingerprint: fingerprint(lk.Coupon, itoa(int64(lk.Amount))),
		Account: a.ID, Kind: "coupon.unlock",
		Postings: []ledger.Posting{
			{Book: couponLockedBook(lk.Coupon), Delta: -lk.Amount, Floor: ledger.FloorZero},
			{Book: couponBook(lk.Coupon), Delta: lk.Amount, Floor: ledger.FloorZero},
		},
		Guards: []ledger.Guard{{Key: sk, Field: "version", Equals: strconv.Itoa(st.Version)}},
		Sets: []ledger.Set{
			{Key: sk, Field: "lock", Value: ""},
			{Key: sk, Field: "version", Value: strconv.Itoa(st.Version + 1)},
		},
		Meta: map[string]string{"statement": st.ID, "payment": strconv.Itoa(lk.N), "coupon": lk.Coupon, "amount": lk.Amount.String()},
	})
	if err != nil {
		return fmt.Errorf("statement %s: unlock %d: %w", st.ID, lk.N, err)
	}
	return nil
}
