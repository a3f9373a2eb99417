package settlement

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

var reportColumns = []string{
	"record", "account", "at",
	"deposit_id", "chain", "token", "tx", "index", "block", "on_chain_amount", "credited_usd", "dust", "credit_id",
	"source", "proof_ref", "entered_by", "approved_by",
	"kind", "statement", "payment", "line", "service", "resource_id", "project", "member_account",
	"discount_id", "discount_kind", "official", "amount", "coupon_id", "coupon", "cash", "credit", "entry_id",
	"total",
}

// CSV writes the report as one CSV table with a header: a "deposit" row per
// deposit, a "payment" row per payment line or repayment, then "total" rows
// (kind opening, credited, paid, closing; with a project also
// project_coupon, project_cash, project_credit) whose amount is in the
// total column. Amounts are 8-dp decimal strings, times RFC 3339 UTC.
func (r Report) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	row := func(vals map[string]string) error {
		rec := make([]string, len(reportColumns))
		for i, c := range reportColumns {
			rec[i] = vals[c]
		}
		return cw.Write(rec)
	}
	if err := cw.Write(reportColumns); err != nil {
		return fmt.Errorf("report csv: %w", err)
	}
	for _, d := range r.Deposits {
		if err := row(map[string]string{"record": "deposit", "account": d.Account, "at": ts(d.At), "deposit_id": d.DepositID,
			"chain": d.Chain, "token": d.Token, "tx": d.Tx, "index": d.Index, "block": d.Block, "on_chain_amount": d.Amount,
			"credited_usd": d.USD.String(), "dust": d.Dust, "credit_id": d.CreditID,
			"source": d.Source, "proof_ref": d.ProofRef, "entered_by": d.EnteredBy, "approved_by": d.ApprovedBy}); err != nil {
			return fmt.Errorf("report csv: %w", err)
		}
	}
	for _, p := range r.Payments {
		vals := map[string]string{"record": "payment", "account": p.Account, "at": ts(p.At), "kind": p.Kind,
			"cash": p.Cash.String(), "entry_id": p.EntryID}
		if p.Kind == "statement" {
			for k, v := range map[string]string{"statement": p.Statement, "payment": strconv.Itoa(p.N), "line": strconv.Itoa(p.Line),
				"service": p.Service, "resource_id": p.ResourceID, "project": p.Project, "member_account": p.Member,
				"discount_id": p.DiscountID, "discount_kind": string(p.DiscountKind), "official": p.Official.String(),
				"amount": p.Amount.String(), "coupon_id": p.CouponID, "coupon": p.Coupon.String(), "credit": p.Credit.String()} {
				vals[k] = v
			}
		}
		if err := row(vals); err != nil {
			return fmt.Errorf("report csv: %w", err)
		}
	}
	for _, t := range r.totals() {
		if err := row(map[string]string{"record": "total", "account": r.Account, "kind": t.name, "project": r.Project, "total": t.v}); err != nil {
			return fmt.Errorf("report csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report csv: %w", err)
	}
	return nil
}

type total struct{ name, v string }

func (r Report) totals() []total {
	ts := []total{{"opening", r.Opening.String()}, {"credited", r.Credited.String()}, {"paid", r.Paid.String()}, {"closing", r.Closing.String()}}
	if r.Project != "" {
		ts = append(ts, total{"project_coupon", r.ProjectCoupon.String()}, total{"project_cash", r.ProjectCash.String()},
			total{"project_credit", r.ProjectCredit.String()})
	}
	return ts
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// JSON writes the report as one JSON object with amounts as 8-dp decimal
// strings: {month, account, project, from, to, opening, credited, paid,
// closing, [project_coupon, project_cash, project_credit,] deposits[],
// payments[]}.
func (r Report) JSON(w io.Writer) error {
	type dep struct {
		Account   string `json:"account"`
		At        string `json:"at"`
		DepositID string `json:"deposit_id"`
		Chain     string `json:"chain"`
		Token     string `json:"token"`
		Tx        string `json:"tx"`
		Index     string `json:"index"`
		Block     string `json:"block"`
		Amount    string `json:"on_chain_amount"`
		USD       string `json:"credited_usd"`
		Dust      string `json:"dust"`
		CreditID  string `json:"credit_id"`
		Source    string `json:"source"`
		ProofRef  string `json:"proof_ref,omitempty"`
		Entered   string `json:"entered_by,omitempty"`
		Approved  string `json:"approved_by,omitempty"`
	}
	type pay struct {
		Account      string       `json:"account"`
		At           string       `json:"at"`
		Kind         string       `json:"kind"`
		Statement    string       `json:"statement,omitempty"`
		N            int          `json:"payment,omitempty"`
		Line         int          `json:"line,omitempty"`
		Service      string       `json:"service,omitempty"`
		ResourceID   string       `json:"resource_id,omitempty"`
		Project      string       `json:"project,omitempty"`
		Member       string       `json:"member_account,omitempty"`
		DiscountID   string       `json:"discount_id,omitempty"`
		DiscountKind DiscountKind `json:"discount_kind,omitempty"`
		Official     string       `json:"official,omitempty"`
		Amount       string       `json:"amount,omitempty"`
		CouponID     string       `json:"coupon_id,omitempty"`
		Coupon       string       `json:"coupon"`
		Cash         string       `json:"cash"`
		Credit       string       `json:"credit"`
		EntryID      string       `json:"entry_id"`
	}
	out := map[string]any{
		"month": r.Month, "account": r.Account, "project": r.Project, "from": ts(r.From), "to": ts(r.To),
		"deposits": []dep{}, "payments": []pay{},
	}
	for _, t := range r.totals() {
		out[t.name] = t.v
	}
	deps := make([]dep, 0, len(r.Deposits))
	for _, d := range r.Deposits {
		deps = append(deps, dep{d.Account, ts(d.At), d.DepositID, d.Chain, d.Token, d.Tx, d.Index, d.Block, d.Amount, d.USD.String(), d.Dust, d.CreditID,
			d.Source, d.ProofRef, d.EnteredBy, d.ApprovedBy})
	}
	out["deposits"] = deps
	pays := make([]pay, 0, len(r.Payments))
	for _, p := range r.Payments {
		q := pay{Account: p.Account, At: ts(p.At), Kind: p.Kind, Statement: p.Statement, N: p.N, Line: p.Line, Service: p.Service,
			ResourceID: p.ResourceID, Project: p.Project, Member: p.Member, DiscountID: p.DiscountID, DiscountKind: p.DiscountKind,
			CouponID: p.CouponID, Coupon: p.Coupon.String(), Cash: p.Cash.String(), Credit: p.Credit.String(), EntryID: p.EntryID}
		if p.Kind == "statement" {
			q.Official, q.Amount = p.Official.String(), p.Amount.String()
		}
		pays = append(pays, q)
	}
	out["payments"] = pays
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("report json: %w", err)
	}
	return nil
}
