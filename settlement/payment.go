package settlement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/outbox"
	"github.com/depositd/depositd/settlement/ledger"
)

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
	data, err := eventData(after, &p)
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
