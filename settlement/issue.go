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

	"github.com/depositd/depositd/outbox"
	"github.com/depositd/depositd/settlement/ledger"
)

// IssueStatement issues (or imports) st: it validates it, fixes each line's
// best discount from the account's discounts valid at the issue time
// (st.IssuedAt, or now when zero), sets the due date (issue + DueDays in the
// billing time zone), stores it with a statement.issued event in one ledger
// step, and then settles the account (automatic payment at issue time).
//
// Idempotent on st.ID: issuing the same statement again returns the stored
// one and settles again; the same id with other content is ErrExists. Lines
// naming a member account require that member's master to be st.Account.
// The returned error, when the statement was stored but its settlement
// failed, wraps the settlement error; the statement is then returned too.
func (s *Service) IssueStatement(ctx context.Context, st Statement) (Statement, error) {
	if err := st.Validate(); err != nil {
		return Statement{}, invalid(err)
	}
	if err := validID("statement", st.ID); err != nil {
		return Statement{}, err
	}
	a, err := s.account(ctx, st.Account)
	if err != nil {
		return Statement{}, err
	}
	if err := s.checkMembers(ctx, st); err != nil {
		return Statement{}, err
	}
	fp, err := issueFingerprint(st)
	if err != nil {
		return Statement{}, err
	}
	if err := s.issue(ctx, a, st, fp); err != nil {
		return Statement{}, err
	}
	if _, err := s.SettleAccount(ctx, st.Account); err != nil {
		got, gerr := s.Statement(ctx, st.ID)
		if gerr != nil {
			return Statement{}, fmt.Errorf("statement %s issued; settle: %w", st.ID, err)
		}
		return got, fmt.Errorf("statement %s issued; settle: %w", st.ID, err)
	}
	return s.Statement(ctx, st.ID)
}

// issueFingerprint covers what the caller supplied, not what issuing
// derives (issue time when defaulted, prices), so a re-run after a crash
// matches.
func issueFingerprint(st Statement) (string, error) {
	in := st
	in.Status, in.DueAt, in.Payments = "", time.Time{}, 0
	in.Coupons, in.Cash, in.Credit = 0, 0, 0
	in.Lines = slices.Clone(st.Lines)
	for i := range in.Lines {
		in.Lines[i].DiscountID, in.Lines[i].DiscountKind, in.Lines[i].Amount, in.Lines[i].Paid = "", "", 0, 0
	}
	d, err := encodeDoc(in)
	if err != nil {
		return "", fmt.Errorf("statement %s: %w", st.ID, err)
	}
	return fingerprint("v1", d), nil
}

func (s *Service) issue(ctx context.Context, a ledger.Account, st Statement, fp string) error {
	if st.IssuedAt.IsZero() {
		st.IssuedAt = s.now()
	}
	st.IssuedAt = st.IssuedAt.UTC()
	st.DueAt = DueDate(st.IssuedAt, s.cfg.DueDays, s.cfg.Location).UTC()
	ds, err := s.Discounts(ctx, st.Account)
	if err != nil {
		return err
	}
	st.Price(ds)
	// Nothing to pay (only third-party or zero lines): paid at issue, in
	// the same step, so no run can leave it pending.
	st.Status = Pending
	if st.Amount() == 0 {
		st.Status = Paid
	}
	body, err := encodeDoc(st)
	if err != nil {
		return fmt.Errorf("statement %s: %w", st.ID, err)
	}
	key := issueTxKey(st.ID)
	data, err := eventData(st, nil)
	if err != nil {
		return err
	}
	events := []outbox.Event{{ID: ledger.EventID(key, outbox.StatementIssued), Type: outbox.StatementIssued, CreatedAt: s.now(), Data: data}}
	if st.Status == Paid {
		events = append(events, outbox.Event{ID: ledger.EventID(key, outbox.StatementPaid), Type: outbox.StatementPaid, CreatedAt: s.now(), Data: data})
	}
	sk := stmtKey(st.ID)
	_, err = s.step(ctx, "issue", ledger.Txn{
		Key: key, Fingerprint: fp, Account: a.ID, Kind: "statement.issue",
		// A missing version means the id is new.
		Guards: []ledger.Guard{{Key: sk, Field: "version", Equals: ""}},
		Sets: []ledger.Set{
			{Key: sk, Field: "doc", Value: body},
			{Key: sk, Field: "status", Value: string(st.Status)},
			{Key: sk, Field: "version", Value: "1"},
			{Key: stmtIndexKey(), Field: st.ID, Value: string(st.Status) + " " + st.Account},
			{Key: acctStmtsKey(st.Account), Field: st.ID, Value: string(st.Status) + " " + itoa(st.IssuedAt.UnixNano())},
		},
		Events: events,
		Meta:   map[string]string{"statement": st.ID, "month": st.Month, "amount": st.Amount().String()},
	})
	switch {
	case errors.Is(err, ledger.ErrFingerprint), errors.Is(err, ledger.ErrConflict):
		return fmt.Errorf("statement %s: %w", st.ID, ErrExists)
	case err != nil:
		return fmt.Errorf("statement %s: %w", st.ID, err)
	}
	return nil
}

// checkMembers requires every member account named on a line to exist and
// to have st.Account as its master (seed 001: a master's statement contains
// its members' lines).
func (s *Service) checkMembers(ctx context.Context, st Statement) error {
	seen := map[string]bool{st.Account: true}
	for i, l := range st.Lines {
		if seen[l.MemberAccount] || l.MemberAccount == "" {
			continue
		}
		m, err := s.account(ctx, l.MemberAccount)
		if err != nil {
			return fmt.Errorf("statement %s: line %d: member_account: %w", st.ID, i+1, err)
		}
		if string(m.Master) != st.Account {
			return invalid(fmt.Errorf("statement %s: line %d: member_account %s is not a member of %s", st.ID, i+1, l.MemberAccount, st.Account))
		}
		seen[l.MemberAccount] = true
	}
	return nil
}

// eventData is the JSON payload of statement events; p, when set, is the
// payment the event announces.
func eventData(st Statement, p *Payment) ([]byte, error) {
	m := map[string]any{
		"statement": st.ID, "account": st.Account, "month": st.Month, "status": st.Status,
		"issued_at": st.IssuedAt, "due_at": st.DueAt,
		"amount": st.Amount().String(), "net_amount": st.Net().String(), "paid": st.PaidTotal().String(),
		"due": st.Due().String(),
	}
	if p != nil {
		m["payment"] = map[string]any{"n": p.N, "coupon_id": p.CouponID, "coupon": p.Coupon.String(),
			"cash": p.Cash.String(), "credit": p.Credit.String(), "total": p.Total().String()}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("statement %s: event: %w", st.ID, err)
	}
	return b, nil
}

// Statement returns the statement with id. ErrNotFound if missing.
func (s *Service) Statement(ctx context.Context, id string) (Statement, error) {
	account, err := statementAccount(ctx, s.rdb, id)
	if err != nil {
		return Statement{}, err
	}
	st, err := readStatement(ctx, s.rdb, account, id)
	return st.Statement, err
}

// Filter selects statements; empty fields match everything.
type Filter struct {
	Status  Status
	Account string
}

// Statements returns the statements matching f, oldest issue first (then
// id).
func (s *Service) Statements(ctx context.Context, f Filter) ([]Statement, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, fmt.Errorf("status %q: want pending, partially_paid, paid or overdue", f.Status)
	}
	var refs []stmtRef
	if f.Account != "" {
		es, err := accountStatements(ctx, s.rdb, f.Account)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			refs = append(refs, stmtRef{account: f.Account, id: e.ID, status: e.Status})
		}
	} else {
		var err error
		if refs, err = s.allStatements(ctx); err != nil {
			return nil, err
		}
	}
	var out []Statement
	for _, r := range refs {
		if f.Status != "" && r.status != f.Status {
			continue
		}
		st, err := readStatement(ctx, s.rdb, r.account, r.id)
		if err != nil {
			return nil, err
		}
		out = append(out, st.Statement)
	}
	slices.SortStableFunc(out, func(a, b Statement) int {
		if c := a.IssuedAt.Compare(b.IssuedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

type stmtRef struct {
	account, id string
	status      Status
}

// allStatements lists every statement of every shard from the shard indexes.
func (s *Service) allStatements(ctx context.Context) ([]stmtRef, error) {
	cmds := make([]*redis.MapStringStringCmd, outbox.Shards)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range cmds {
			cmds[i] = p.HGetAll(ctx, outbox.Tag(i)+":"+stmtIndexKey())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("statements: %w", err)
	}
	var refs []stmtRef
	for _, c := range cmds {
		for id, v := range c.Val() {
			st, account, _ := strings.Cut(v, " ")
			refs = append(refs, stmtRef{account: account, id: id, status: Status(st)})
		}
	}
	return refs, nil
}
