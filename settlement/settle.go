package settlement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/settlement/ledger"
)

// Run is what one SettleAccount did.
type Run struct {
	Account  string
	Repaid   money.Units // credit-line arrears repaid from cash
	Payments []Payment
	Unlocked int // coupon locks of failed or timed-out payments released
}

// maxPaymentsPerRun bounds the payments of one statement in one run; each
// payment moves money, so the bound is never reached in practice.
const maxPaymentsPerRun = 64

// SettleAccount runs the automatic payment of account: first it repays
// credit-line arrears from cash, then it pays the open statements oldest
// first, each with as many payments as the funds allow (each payment: the
// discount per line fixed at issue, at most one cash coupon, then cash, then
// credit). Paying until nothing more applies makes a run that resumes after a
// crash end where an uninterrupted run ends. Call it when a statement is
// issued, after every credited deposit, and on demand.
//
// Each step is one atomic, idempotent ledger step guarded by the versions it
// was planned from; a concurrent change re-plans it. A crash between steps
// followed by another run ends with the ledger one clean run would leave: a
// payment whose coupon was locked is completed with that lock (or, past
// Config.LockTimeout, unlocked and planned again). A payment step that fails
// otherwise unlocks its coupon before SettleAccount returns the error.
func (s *Service) SettleAccount(ctx context.Context, account string) (run Run, err error) {
	run = Run{Account: account}
	defer func() { s.cfg.Metrics.run(run, err) }()
	if _, err := s.account(ctx, account); err != nil {
		return run, err
	}
	repaid, err := s.repayArrears(ctx, account)
	run.Repaid = repaid
	if err != nil {
		return run, err
	}
	es, err := accountStatements(ctx, s.rdb, account)
	if err != nil {
		return run, err
	}
	for _, e := range es {
		if !e.Status.Open() {
			continue
		}
		// Pay the statement until nothing more can be applied: a run after
		// a crash then ends where an uninterrupted run ends (each payment
		// still uses at most one coupon).
		for range maxPaymentsPerRun {
			p, unlocked, err := s.payStatement(ctx, account, e.ID)
			run.Unlocked += unlocked
			if err != nil {
				return run, err
			}
			if p == nil {
				break
			}
			run.Payments = append(run.Payments, *p)
		}
	}
	return run, nil
}

// repayArrears moves min(cash, credit used) from cash to the credit book.
func (s *Service) repayArrears(ctx context.Context, account string) (money.Units, error) {
	for range maxAttempts {
		a, err := s.account(ctx, account)
		if err != nil {
			return 0, err
		}
		x := min(a.Cash, a.CreditUsed)
		if x <= 0 {
			return 0, nil
		}
		seqS, err := s.rdb.HGet(ctx, abs(account, settleKey(account)), "repay_seq").Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return 0, fmt.Errorf("repay %s: %w", account, err)
		}
		seq, err := parseInt(seqS)
		if err != nil {
			return 0, fmt.Errorf("repay %s: seq: %w", account, err)
		}
		n := int(seq) + 1
		key := repayTxKey(account, n)
		rec, err := json.Marshal(map[string]any{"kind": "repay", "n": n, "at": s.now().UTC(), "cash": x})
		if err != nil {
			return 0, err
		}
		_, err = s.step(ctx, "repay", ledger.Txn{
			Key: key, Fingerprint: fingerprint(itoa(int64(x))), Account: a.ID, Kind: "credit.repay",
			Postings: []ledger.Posting{
				{Book: bookCash, Delta: -x, Floor: ledger.FloorZero},
				{Book: bookCredit, Delta: x, Floor: ledger.FloorCreditLimit},
			},
			Guards: []ledger.Guard{acctGuard(a), {Key: settleKey(account), Field: "repay_seq", Equals: seqS}},
			Sets: []ledger.Set{
				{Key: settleKey(account), Field: "repay_seq", Value: strconv.Itoa(n)},
				{Key: payRecKey(account), Field: "repay:" + strconv.Itoa(n), Value: string(rec)},
			},
			Meta: map[string]string{"repaid": x.String()},
		})
		if errors.Is(err, ledger.ErrConflict) || errors.Is(err, ledger.ErrFingerprint) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("repay %s: %w", account, err)
		}
		return x, nil
	}
	return 0, fmt.Errorf("repay %s: %d attempts: %w", account, maxAttempts, ledger.ErrConflict)
}

// payStatement makes at most one payment of statement id. It returns the
// completed payment (nil when nothing could be paid) and how many stale
// coupon locks it released.
func (s *Service) payStatement(ctx context.Context, account, id string) (*Payment, int, error) {
	unlocked := 0
	for range maxAttempts {
		st, err := readStatement(ctx, s.rdb, account, id)
		if err != nil {
			return nil, unlocked, err
		}
		if !st.Status.Open() {
			return nil, unlocked, nil
		}
		a, err := s.account(ctx, account)
		if err != nil {
			return nil, unlocked, err
		}
		if st.Lock != nil && s.now().Sub(st.Lock.At) >= s.cfg.LockTimeout {
			if err := s.unlock(ctx, a, st); err != nil && !errors.Is(err, ledger.ErrConflict) {
				return nil, unlocked, err
			} else if err == nil {
				unlocked++
			}
			continue
		}
		if st.Lock == nil {
			cs, err := s.coupons(ctx, a)
			if err != nil {
				return nil, unlocked, err
			}
			plan := PlanPayment(st.Statement, funds(a, cs), s.now())
			if plan.Total() == 0 {
				return nil, unlocked, nil
			}
			if plan.Coupon > 0 {
				if err := s.lockCoupon(ctx, a, st, plan, cs); err != nil {
					if errors.Is(err, ledger.ErrConflict) {
						continue
					}
					return nil, unlocked, err
				}
				continue // re-read: the statement now carries the lock
			}
			p, err := s.complete(ctx, a, st, plan)
			if errors.Is(err, ledger.ErrConflict) {
				continue
			}
			return p, unlocked, err
		}
		plan := PlanLocked(st.Statement, funds(a, nil), st.Lock.Coupon, st.Lock.Services, st.Lock.Amount)
		p, err := s.complete(ctx, a, st, plan)
		if errors.Is(err, ledger.ErrConflict) {
			continue
		}
		if err != nil && !errors.Is(err, errCrash) {
			// The payment failed (or its context timed out): give the coupon
			// money back before reporting it, so it is never lost.
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			uerr := s.unlockFresh(uctx, account, id)
			cancel()
			if uerr == nil {
				unlocked++
			}
			return nil, unlocked, errors.Join(err, uerr)
		}
		return p, unlocked, err
	}
	return nil, unlocked, fmt.Errorf("statement %s: %d attempts: %w", id, maxAttempts, ledger.ErrConflict)
}

// errCrash marks an error injected by the test hook: a simulated crash that
// must not run any clean-up.
var errCrash = errors.New("crash")

func funds(a ledger.Account, cs []CouponView) Funds {
	f := Funds{Cash: max(a.Cash, 0), CreditAvailable: max(a.CreditLimit-a.CreditUsed, 0)}
	for _, c := range cs {
		f.Coupons = append(f.Coupons, c.Coupon)
	}
	return f
}
