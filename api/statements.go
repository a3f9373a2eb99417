package api

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/settlement"
	"github.com/depositd/depositd/settlement/ledger"
)

// Settlement is what the API needs of the settlement service.
type Settlement interface {
	IssueStatement(ctx context.Context, st settlement.Statement) (settlement.Statement, error)
	Statement(ctx context.Context, id string) (settlement.Statement, error)
	Statements(ctx context.Context, f settlement.Filter) ([]settlement.Statement, error)
	SettleAccount(ctx context.Context, account string) (settlement.Run, error)
	AddCoupon(ctx context.Context, c settlement.Coupon) error
	Coupons(ctx context.Context, account string) ([]settlement.CouponView, error)
	AddDiscount(ctx context.Context, d settlement.Discount) error
	Discounts(ctx context.Context, account string) ([]settlement.Discount, error)
	SetCreditLimit(ctx context.Context, account string, limit money.Units) error
	SetAlertThresholds(ctx context.Context, account string, thresholds []money.Units) error
	Reconcile(ctx context.Context, month, account, project string) (settlement.Report, error)
}

// settlementError maps settlement errors onto API errors.
func settlementError(err error) error {
	switch {
	case errors.Is(err, settlement.ErrNotFound), errors.Is(err, ledger.ErrNotFound):
		return notFound("%v", err)
	case errors.Is(err, settlement.ErrExists):
		return conflict("%v", err)
	case errors.Is(err, settlement.ErrInvalid):
		return badRequest("%v", err)
	}
	return err
}

// bodyReader bounds a request body the settlement parsers read themselves.
func bodyReader(r *http.Request) io.Reader { return http.MaxBytesReader(nil, r.Body, maxBody) }

// createStatement issues a statement from JSON, or from CSV lines with
// Content-Type text/csv and ?id=&account=&month=. Issuing settles the
// account at once (automatic payment at issue time).
func (s *Server) createStatement(w http.ResponseWriter, r *http.Request) error {
	var st settlement.Statement
	var err error
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "text/csv" {
		q := r.URL.Query()
		st, err = settlement.ParseStatementCSV(bodyReader(r), q.Get("id"), q.Get("account"), q.Get("month"))
	} else {
		st, err = settlement.ParseStatementJSON(bodyReader(r))
	}
	if err != nil {
		return badRequest("%v", err)
	}
	got, err := s.opts.Settlement.IssueStatement(r.Context(), st)
	if err != nil && got.ID == "" {
		return settlementError(err)
	}
	if err != nil {
		// Stored and announced; only its automatic payment failed. The
		// next deposit, sweep or a settle call pays it.
		s.log.Warn("statement issued, settlement failed", "statement", got.ID, "err", err)
	}
	writeJSON(w, http.StatusCreated, got)
	return nil
}

func (s *Server) listStatements(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := settlement.Filter{Status: settlement.Status(q.Get("status")), Account: q.Get("account")}
	if f.Status != "" && !f.Status.Valid() {
		return badRequest("status: want pending, partially_paid, paid or overdue, got %q", f.Status)
	}
	items, err := s.opts.Settlement.Statements(r.Context(), f)
	if err != nil {
		return settlementError(err)
	}
	if items == nil {
		items = []settlement.Statement{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (s *Server) getStatement(w http.ResponseWriter, r *http.Request) error {
	st, err := s.opts.Settlement.Statement(r.Context(), r.PathValue("id"))
	if err != nil {
		return settlementError(err)
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) settleAccount(w http.ResponseWriter, r *http.Request) error {
	a, err := s.account(r)
	if err != nil {
		return err
	}
	run, err := s.opts.Settlement.SettleAccount(r.Context(), string(a.ID))
	if err != nil {
		return settlementError(err)
	}
	payments := make([]map[string]any, 0, len(run.Payments))
	for _, p := range run.Payments {
		payments = append(payments, map[string]any{
			"statement": p.Statement, "payment": p.N, "coupon_id": p.CouponID,
			"coupon": p.Coupon.String(), "cash": p.Cash.String(), "credit": p.Credit.String(), "total": p.Total().String(),
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"account": run.Account, "repaid": run.Repaid.String(), "payments": payments, "unlocked": run.Unlocked,
	})
	return nil
}

func (s *Server) createCoupon(w http.ResponseWriter, r *http.Request) error {
	c, err := settlement.ParseCouponJSON(bodyReader(r))
	if err != nil {
		return badRequest("%v", err)
	}
	if err := s.opts.Settlement.AddCoupon(r.Context(), c); err != nil {
		return settlementError(err)
	}
	writeJSON(w, http.StatusCreated, couponJSON(settlement.CouponView{Coupon: c, Granted: c.Balance}))
	return nil
}

func couponJSON(c settlement.CouponView) map[string]any {
	return map[string]any{
		"id": c.ID, "account": c.Account, "balance": c.Balance.String(), "granted": c.Granted.String(),
		"locked": c.Locked.String(), "expires": c.Expires.UTC().Format(time.RFC3339), "services": c.Services,
	}
}

func (s *Server) listCoupons(w http.ResponseWriter, r *http.Request) error {
	a, err := s.account(r)
	if err != nil {
		return err
	}
	cs, err := s.opts.Settlement.Coupons(r.Context(), string(a.ID))
	if err != nil {
		return settlementError(err)
	}
	items := make([]map[string]any, 0, len(cs))
	for _, c := range cs {
		items = append(items, couponJSON(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (s *Server) createDiscount(w http.ResponseWriter, r *http.Request) error {
	d, err := settlement.ParseDiscountJSON(bodyReader(r))
	if err != nil {
		return badRequest("%v", err)
	}
	if err := s.opts.Settlement.AddDiscount(r.Context(), d); err != nil {
		return settlementError(err)
	}
	writeJSON(w, http.StatusCreated, discountJSON(d))
	return nil
}

func discountJSON(d settlement.Discount) map[string]any {
	out := map[string]any{"id": d.ID, "account": d.Account, "kind": d.Kind, "rate": d.Rate.String(), "services": d.Services}
	if !d.From.IsZero() {
		out["from"] = d.From.UTC().Format(time.RFC3339)
	}
	if !d.Until.IsZero() {
		out["until"] = d.Until.UTC().Format(time.RFC3339)
	}
	return out
}

func (s *Server) listDiscounts(w http.ResponseWriter, r *http.Request) error {
	a, err := s.account(r)
	if err != nil {
		return err
	}
	ds, err := s.opts.Settlement.Discounts(r.Context(), string(a.ID))
	if err != nil {
		return settlementError(err)
	}
	items := make([]map[string]any, 0, len(ds))
	for _, d := range ds {
		items = append(items, discountJSON(d))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (s *Server) setCreditLimit(w http.ResponseWriter, r *http.Request) error {
	a, err := s.account(r)
	if err != nil {
		return err
	}
	var req struct {
		CreditLimit string `json:"credit_limit"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	limit, err := money.ParseUSD(req.CreditLimit)
	if err != nil || limit < 0 {
		return badRequest("credit_limit: want a non-negative USD amount with at most 8 decimals, got %q", req.CreditLimit)
	}
	if err := s.opts.Settlement.SetCreditLimit(r.Context(), string(a.ID), limit); err != nil {
		if errors.Is(err, ledger.ErrInsufficient) {
			return conflict("%v", err)
		}
		return settlementError(err)
	}
	return s.getAccount(w, r)
}

func (s *Server) setAlertThresholds(w http.ResponseWriter, r *http.Request) error {
	a, err := s.account(r)
	if err != nil {
		return err
	}
	var req struct {
		Thresholds []string `json:"thresholds"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	ts := make([]money.Units, 0, len(req.Thresholds))
	for i, v := range req.Thresholds {
		u, err := money.ParseUSD(v)
		if err != nil || u < 0 {
			return badRequest("thresholds[%d]: want a non-negative USD amount, got %q", i, v)
		}
		ts = append(ts, u)
	}
	if err := s.opts.Settlement.SetAlertThresholds(r.Context(), string(a.ID), ts); err != nil {
		return settlementError(err)
	}
	writeJSON(w, http.StatusOK, map[string]any{"account": a.ID, "thresholds": req.Thresholds})
	return nil
}

// reconcile exports a month's reconciliation as JSON (default) or CSV
// (?format=csv).
func (s *Server) reconcile(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("month") == "" {
		return badRequest("month: required, e.g. 2026-10")
	}
	rep, err := s.opts.Settlement.Reconcile(r.Context(), q.Get("month"), q.Get("account"), q.Get("project"))
	if err != nil {
		if _, perr := settlement.ParseMonth(q.Get("month"), time.UTC); perr != nil {
			return badRequest("month: %v", perr)
		}
		return settlementError(err)
	}
	switch q.Get("format") {
	case "", "json":
		w.Header().Set("Content-Type", "application/json")
		return rep.JSON(w)
	case "csv":
		w.Header().Set("Content-Type", "text/csv")
		return rep.CSV(w)
	}
	return badRequest("format: want json or csv, got %q", q.Get("format"))
}
