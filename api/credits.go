package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/settlement"
)

// Credits is what the API needs for off-chain credits.
type Credits interface {
	RecordCredit(ctx context.Context, c settlement.OffchainCredit) (settlement.OffchainCredit, error)
	ApproveCredit(ctx context.Context, id, operator string) (settlement.OffchainCredit, error)
	RejectCredit(ctx context.Context, id, operator, reason string) (settlement.OffchainCredit, error)
	Credit(ctx context.Context, id string) (settlement.OffchainCredit, error)
	Credits(ctx context.Context, f settlement.CreditFilter) ([]settlement.OffchainCredit, error)
}

// creditError maps off-chain credit errors onto API errors.
func creditError(err error) error {
	switch {
	case errors.Is(err, settlement.ErrSameOperator):
		return errorf(http.StatusForbidden, "forbidden", "%v", err)
	case errors.Is(err, settlement.ErrState):
		return conflict("%v", err)
	}
	return settlementError(err)
}

type creditRequest struct {
	ID          string `json:"id"`
	Account     string `json:"account"`
	Amount      string `json:"amount"`
	Asset       string `json:"asset"`
	AssetAmount string `json:"asset_amount"`
	Method      string `json:"method"`
	ProofRef    string `json:"proof_ref"`
	Note        string `json:"note"`
}

// recordCredit records an off-chain credit entered by the calling token's
// operator: 201 applied or pending_approval; 200 when the same request was
// recorded earlier.
func (s *Server) recordCredit(w http.ResponseWriter, r *http.Request) error {
	var req creditRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	amount, err := money.ParseUSD(req.Amount)
	if err != nil {
		return badRequest("amount: %v", err)
	}
	c := settlement.OffchainCredit{ID: req.ID, Account: req.Account, Amount: amount, Asset: req.Asset,
		Method: req.Method, ProofRef: req.ProofRef, Note: req.Note, EnteredBy: operator(r)}
	if req.AssetAmount != "" {
		if c.AssetAmount, err = decimal.NewFromString(req.AssetAmount); err != nil {
			return badRequest("asset_amount: want a decimal string, got %q", req.AssetAmount)
		}
	}
	before, lookErr := s.opts.Credits.Credit(r.Context(), req.ID)
	got, err := s.opts.Credits.RecordCredit(r.Context(), c)
	if err != nil {
		return creditError(err)
	}
	status := http.StatusCreated
	if lookErr == nil && before.ID != "" {
		status = http.StatusOK
	}
	writeJSON(w, status, creditView(got))
	return nil
}

func (s *Server) listCredits(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := settlement.CreditFilter{Status: settlement.CreditStatus(q.Get("status")), Account: q.Get("account")}
	if f.Status != "" && !f.Status.Valid() {
		return badRequest("status: want pending_approval, applied or rejected, got %q", f.Status)
	}
	items, err := s.opts.Credits.Credits(r.Context(), f)
	if err != nil {
		return creditError(err)
	}
	out := make([]map[string]any, 0, len(items))
	for _, c := range items {
		out = append(out, creditView(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (s *Server) getCredit(w http.ResponseWriter, r *http.Request) error {
	c, err := s.opts.Credits.Credit(r.Context(), r.PathValue("id"))
	if err != nil {
		return creditError(err)
	}
	writeJSON(w, http.StatusOK, creditView(c))
	return nil
}

func (s *Server) approveCredit(w http.ResponseWriter, r *http.Request) error {
	c, err := s.opts.Credits.ApproveCredit(r.Context(), r.PathValue("id"), operator(r))
	if err != nil {
		return creditError(err)
	}
	writeJSON(w, http.StatusOK, creditView(c))
	return nil
}

func (s *Server) rejectCredit(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	c, err := s.opts.Credits.RejectCredit(r.Context(), r.PathValue("id"), operator(r), req.Reason)
	if err != nil {
		return creditError(err)
	}
	writeJSON(w, http.StatusOK, creditView(c))
	return nil
}

// creditView renders a credit with amounts as 8-dp strings and times in
// RFC 3339 UTC.
func creditView(c settlement.OffchainCredit) map[string]any {
	v := map[string]any{
		"id": c.ID, "account": c.Account, "amount": c.Amount.String(), "asset": c.Asset, "asset_amount": "",
		"method": c.Method, "proof_ref": c.ProofRef, "note": c.Note, "entered_by": c.EnteredBy,
		"entered_at": c.EnteredAt.UTC().Format(time.RFC3339Nano), "needs_approval": c.NeedsSecond,
		"status": c.Status, "approved_by": c.ApprovedBy, "rejected_by": c.RejectedBy, "reason": c.Reason,
		"decided_at": "", "entry_id": c.EntryID,
	}
	if !c.AssetAmount.IsZero() {
		v["asset_amount"] = c.AssetAmount.String()
	}
	if !c.DecidedAt.IsZero() {
		v["decided_at"] = c.DecidedAt.UTC().Format(time.RFC3339Nano)
	}
	if c.SettleError != "" {
		v["settle_error"] = c.SettleError
	}
	return v
}
