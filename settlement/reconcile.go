package settlement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/settlement/ledger"
)

// Report is the reconciliation of one billing month (in the billing time
// zone) for one account, or every account when Account is "". Amounts are
// of the accounts' cash balance and balance exactly:
//
//	Opening + Credited − Paid = Closing
//
// Credited is every cash increase in the month (deposits; any other entry
// that raised cash is listed as a deposit row without chain data), Paid
// every cash decrease (the cash parts of statement payments and arrears
// repayments). Coupon and credit parts of payments are listed on their rows
// but move no cash. A Project narrows the payment rows to that project's
// lines and fills ProjectCoupon/Cash/Credit; deposits and the cash totals
// stay account-wide, because cash is not held per project.
type Report struct {
	Month    string
	Account  string
	Project  string
	From, To time.Time

	Opening, Credited, Paid, Closing money.Units

	ProjectCoupon, ProjectCash, ProjectCredit money.Units

	Deposits []DepositRow
	Payments []PaymentRow
}

// DepositRow is one credited deposit: an on-chain transfer (Source
// "chain"; any other cash-raising entry has its kind as Source), or an operator-recorded off-chain credit (Source "offchain":
// DepositID is the credit id, Token and Amount the asset received, no
// chain data, and ProofRef, EnteredBy, ApprovedBy from the record).
type DepositRow struct {
	Source    string
	Account   string
	At        time.Time
	DepositID string
	Chain     string
	Token     string
	Tx        string
	Index     string
	Block     string
	Amount    string // on-chain amount in token units
	USD       money.Units
	Dust      string // USD received but not credited (below 1e-8)
	CreditID  string // ledger entry id

	ProofRef, EnteredBy, ApprovedBy string
}

// PaymentRow is one statement line's part of a payment, or an arrears
// repayment (Kind "repay", no statement).
type PaymentRow struct {
	Account      string
	At           time.Time
	Kind         string // "statement" or "repay"
	Statement    string
	N            int
	Line         int
	Service      string
	ResourceID   string
	Project      string
	Member       string
	DiscountID   string
	DiscountKind DiscountKind
	Official     money.Units
	Amount       money.Units
	CouponID     string
	Coupon       money.Units
	Cash         money.Units
	Credit       money.Units
	EntryID      string
}

// Reconcile builds the report of month ("2026-10") for account ("" = all)
// and project ("" = all) from the ledger's entries and the payment records.
// ErrNotFound for an unknown account.
func (s *Service) Reconcile(ctx context.Context, month, account, project string) (Report, error) {
	c, err := ParseMonth(month, s.cfg.Location)
	if err != nil {
		return Report{}, err
	}
	r := Report{Month: c.Month, Account: account, Project: project, From: c.Start, To: c.End}
	var ids []ledger.AccountID
	if account != "" {
		a, err := s.account(ctx, account)
		if err != nil {
			return Report{}, err
		}
		ids = []ledger.AccountID{a.ID}
	} else if ids, err = s.l.Accounts(ctx); err != nil {
		return Report{}, err
	}
	for _, id := range ids {
		if err := s.reconcileAccount(ctx, &r, id); err != nil {
			return Report{}, fmt.Errorf("reconcile %s: %w", id, err)
		}
	}
	return r, nil
}

func (s *Service) reconcileAccount(ctx context.Context, r *Report, id ledger.AccountID) error {
	account := string(id)
	cursor := ""
	for {
		es, next, err := s.l.Entries(ctx, id, cursor, ledger.MaxPage)
		if err != nil {
			return err
		}
		for _, e := range es {
			if !e.At.Before(r.To) {
				return nil
			}
			cash := cashDelta(e)
			if e.At.Before(r.From) {
				r.Opening += cash
				r.Closing += cash
				continue
			}
			r.Closing += cash
			if cash > 0 {
				r.Credited += cash
			} else {
				r.Paid -= cash
			}
			if err := s.reconcileEntry(ctx, r, account, e, cash); err != nil {
				return fmt.Errorf("entry %s: %w", e.ID, err)
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

func cashDelta(e ledger.Entry) money.Units {
	var d money.Units
	for _, p := range e.Postings {
		if p.Book == bookCash {
			d += p.Delta
		}
	}
	return d
}

func (s *Service) reconcileEntry(ctx context.Context, r *Report, account string, e ledger.Entry, cash money.Units) error {
	switch e.Kind {
	case "statement.payment":
		return s.paymentRows(ctx, r, account, e)
	case "credit.repay":
		if r.Project == "" {
			r.Payments = append(r.Payments, PaymentRow{Account: account, At: e.At, Kind: "repay", Cash: -cash, EntryID: e.ID})
		}
		return nil
	case "credit.offchain":
		m := e.Meta
		r.Deposits = append(r.Deposits, DepositRow{Source: "offchain", Account: account, At: e.At, DepositID: m["credit"],
			Token: m["asset"], Amount: m["asset_amount"], USD: cash, CreditID: e.ID,
			ProofRef: m["proof_ref"], EnteredBy: m["entered_by"], ApprovedBy: m["approved_by"]})
		return nil
	}
	if cash > 0 || e.Kind == "deposit" {
		m := e.Meta
		src := "chain"
		if e.Kind != "deposit" {
			src = e.Kind
		}
		r.Deposits = append(r.Deposits, DepositRow{Source: src, Account: account, At: e.At, DepositID: strings.TrimPrefix(e.Key, "dep:"), Chain: m["chain"], Token: m["token"],
			Tx: m["tx"], Index: m["index"], Block: m["block"], Amount: tokenAmount(m), USD: cash, Dust: m["dust"], CreditID: e.ID})
	}
	return nil
}

func (s *Service) paymentRows(ctx context.Context, r *Report, account string, e ledger.Entry) error {
	field := e.Meta["statement"] + ":" + e.Meta["payment"]
	v, err := s.rdb.HGet(ctx, abs(account, payRecKey(account)), field).Result()
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("payment record %s: %w", field, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("payment record %s: %w", field, err)
	}
	var p Payment
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return fmt.Errorf("payment record %s: %w", field, err)
	}
	for _, l := range p.Lines {
		if r.Project != "" && l.Project != r.Project {
			continue
		}
		r.Payments = append(r.Payments, PaymentRow{Account: account, At: e.At, Kind: "statement", Statement: p.Statement, N: p.N,
			Line: l.Line, Service: l.Service, ResourceID: l.ResourceID, Project: l.Project, Member: l.Member,
			DiscountID: l.DiscountID, DiscountKind: l.Kind, Official: l.Official, Amount: l.Amount,
			CouponID: p.CouponID, Coupon: l.Coupon, Cash: l.Cash, Credit: l.Credit, EntryID: e.ID})
		if r.Project != "" {
			r.ProjectCoupon += l.Coupon
			r.ProjectCash += l.Cash
			r.ProjectCredit += l.Credit
		}
	}
	return nil
}

// Balanced reports whether Opening + Credited − Paid = Closing.
func (r Report) Balanced() bool { return r.Opening+r.Credited-r.Paid == r.Closing }

// tokenAmount is the on-chain amount of a deposit entry in token units,
// from the raw base units and decimals the ledger records.
func tokenAmount(m map[string]string) string {
	raw, ok := new(big.Int).SetString(m["raw_amount"], 10)
	dec, err := strconv.ParseInt(m["decimals"], 10, 32)
	if !ok || err != nil {
		return m["raw_amount"]
	}
	return money.FormatToken(raw, int32(dec))
}
