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
	"github.com/depositd/depositd/outbox"
	"github.com/depositd/depositd/settlement/ledger"
)

// Run is what one SettleAccount did.
type Run struct {
	Account  string
	Repaid   money.Units // credit-line arrears repaid from cash
	Payments []Payment
	Unlocked int // coupon locks of failed or timed-out payments released
}

// Payment is one completed statement payment: the record kept for
// reconciliation.
type Payment struct {
	Statement string        `json:"statement"`
	Account   string        `json:"account"`
	N         int           `json:"n"`
	At        time.Time     `json:"at"`
	CouponID  string        `json:"coupon_id,omitempty"`
	Coupon    money.Units   `json:"coupon"`
	Cash      money.Units   `json:"cash"`
	Credit    money.Units   `json:"credit"`
	Status    Status        `json:"status"` // the statement's state after it
	Lines     []PaymentLine `json:"lines"`
}

// Total is what the payment paid.
func (p Payment) Total() money.Units { return p.Coupon + p.Cash + p.Credit }

// PaymentLine is a payment's part on one statement line.
type PaymentLine struct {
	Line       int          `json:"line"` // 1-based, as on the statement
	Service    string       `json:"service"`
	ResourceID string       `json:"resource_id"`
	Project    string       `json:"project,omitempty"`
	Member     string       `json:"member_account,omitempty"`
	DiscountID string       `json:"discount_id,omitempty"`
	Kind       DiscountKind `json:"discount_kind,omitempty"`
	Official   money.Units  `json:"official"`
	Amount     money.Units  `json:"amount"` // after the discount
	Coupon     money.Units  `json:"coupon"`
	Cash       money.Units  `json:"cash"`
	Credit     money.Units  `json:"credit"`
}

// SettleAccount runs the automatic payment of account: first it repays
// credit-line arrears from cash, then it pays the open statements oldest
// first, one payment each (one discount per line fixed at issue, one cash
// coupon, then cash, then credit). Call it when a statement is issued, after
// every credited deposit, and on demand.
//
// Each step is one atomic, idempotent ledger step guarded by the versions it
// was planned from; a concurrent change re-plans it. A crash between steps
// followed by another run ends with the ledger one clean run would leave: a
// payment whose coupon was locked is completed with that lock (or, past
// Config.LockTimeout, unlocked and planned again). A payment step that fails
// otherwise unlocks its coupon before SettleAccount returns the error.
func (s *Service) SettleAccount(ctx context.Context, account string) (Run, error) {
	run := Run{Account: account}
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
		p, unlocked, err := s.payStatement(ctx, account, e.ID)
		run.Unlocked += unlocked
		if err != nil {
			return run, err
		}
		if p != nil {
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
			if plan.Total() == 0 && st.Due() > 0 {
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
		Guards: []ledger.Guard{{Key: sk, Field: "version", Equals: strconv.Itoa(st.Version)}},
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

// complete applies plan as payment of st: the locked coupon part (if any) is
// spent, cash and credit are charged, the lines, totals and state of the
// statement are updated, and the events are written, in one ledger step.
func (s *Service) complete(ctx context.Context, a ledger.Account, st stmtState, plan Plan) (*Payment, error) {
	n := st.Seq
	if st.Lock == nil {
		n = st.Seq + 1
	}
	now := s.now().UTC()
	total := plan.Total()
	after := st.Statement
	after.Lines = append([]Line(nil), st.Lines...)
	p := Payment{Statement: st.ID, Account: st.Account, N: n, At: now, CouponID: plan.CouponID,
		Coupon: plan.Coupon, Cash: plan.Cash, Credit: plan.Credit}
	for _, lp := range plan.Lines {
		l := &after.Lines[lp.Line]
		l.Paid += lp.Total()
		p.Lines = append(p.Lines, PaymentLine{Line: lp.Line + 1, Service: l.Service, ResourceID: l.ResourceID,
			Project: l.Project, Member: l.MemberAccount, DiscountID: l.DiscountID, Kind: l.DiscountKind,
			Official: l.Official, Amount: l.Amount, Coupon: lp.Coupon, Cash: lp.Cash, Credit: lp.Credit})
	}
	after.Coupons += plan.Coupon
	after.Cash += plan.Cash
	after.Credit += plan.Credit
	after.Payments++
	switch {
	case after.Due() == 0:
		after.Status = Paid
	case st.Status == Overdue:
	default:
		after.Status = PartiallyPaid
	}
	p.Status = after.Status

	key := payTxKey(st.ID, n)
	var postings []ledger.Posting
	if st.Lock != nil {
		postings = append(postings, ledger.Posting{Book: couponLockedBook(st.Lock.Coupon), Delta: -st.Lock.Amount, Floor: ledger.FloorZero})
		if back := st.Lock.Amount - plan.Coupon; back > 0 {
			postings = append(postings, ledger.Posting{Book: couponBook(st.Lock.Coupon), Delta: back, Floor: ledger.FloorZero})
		}
	}
	if plan.Cash > 0 {
		postings = append(postings, ledger.Posting{Book: bookCash, Delta: -plan.Cash, Floor: ledger.FloorZero})
	}
	if plan.Credit > 0 {
		postings = append(postings, ledger.Posting{Book: bookCredit, Delta: -plan.Credit, Floor: ledger.FloorCreditLimit})
	}
	if total > 0 {
		postings = append(postings, ledger.Posting{Book: sysBilling, Delta: total})
	}

	rec, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	sk := stmtKey(st.ID)
	sets := []ledger.Set{
		{Key: sk, Field: "status", Value: string(after.Status)},
		{Key: sk, Field: "coupons", Value: itoa(int64(after.Coupons))},
		{Key: sk, Field: "cash", Value: itoa(int64(after.Cash))},
		{Key: sk, Field: "credit", Value: itoa(int64(after.Credit))},
		{Key: sk, Field: "payments", Value: strconv.Itoa(after.Payments)},
		{Key: sk, Field: "seq", Value: strconv.Itoa(n)},
		{Key: sk, Field: "lock", Value: ""},
		{Key: sk, Field: "version", Value: strconv.Itoa(st.Version + 1)},
		{Key: payRecKey(st.Account), Field: st.ID + ":" + strconv.Itoa(n), Value: string(rec)},
	}
	for _, lp := range plan.Lines {
		sets = append(sets, ledger.Set{Key: sk, Field: linePaidField(lp.Line), Value: itoa(int64(after.Lines[lp.Line].Paid))})
	}
	sets = append(sets, s.indexSets(after)...)

	typ := outbox.StatementPartiallyPaid
	if after.Status == Paid {
		typ = outbox.StatementPaid
	}
	data, err := eventData(after, n)
	if err != nil {
		return nil, err
	}
	events := []outbox.Event{{ID: ledger.EventID(key, typ), Type: typ, CreatedAt: now, Data: data}}
	low, err := s.lowBalanceEvents(ctx, a, plan.Cash+plan.Credit, key, now)
	if err != nil {
		return nil, err
	}
	events = append(events, low...)

	_, err = s.step(ctx, "complete", ledger.Txn{
		Key: key, Fingerprint: fingerprint(plan.CouponID, itoa(int64(plan.Coupon)), itoa(int64(plan.Cash)), itoa(int64(plan.Credit)), linesFP(plan)),
		Account: a.ID, Kind: "statement.payment", Postings: postings,
		Guards: []ledger.Guard{{Key: sk, Field: "version", Equals: strconv.Itoa(st.Version)}, acctGuard(a)},
		Sets:   sets, Events: events,
		Meta: map[string]string{"statement": st.ID, "payment": strconv.Itoa(n), "coupon_id": plan.CouponID,
			"coupon": plan.Coupon.String(), "cash": plan.Cash.String(), "credit": plan.Credit.String(), "status": string(after.Status)},
	})
	if errors.Is(err, ledger.ErrFingerprint) {
		return nil, fmt.Errorf("statement %s: payment %d: %w", st.ID, n, ledger.ErrConflict)
	}
	if err != nil {
		return nil, fmt.Errorf("statement %s: payment %d: %w", st.ID, n, err)
	}
	return &p, nil
}

func linesFP(p Plan) string {
	b, _ := json.Marshal(p.Lines)
	return string(b)
}

// indexSets rewrite the statement's entries in the shard and account
// indexes with its new state.
func (s *Service) indexSets(st Statement) []ledger.Set {
	return []ledger.Set{
		{Key: stmtIndexKey(), Field: st.ID, Value: string(st.Status) + " " + st.Account},
		{Key: acctStmtsKey(st.Account), Field: st.ID, Value: string(st.Status) + " " + itoa(st.IssuedAt.UnixNano())},
	}
}
