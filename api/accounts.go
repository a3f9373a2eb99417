package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/settlement/ledger"
)

// Ledger is what the API needs of the ledger.
type Ledger interface {
	CreateAccount(ctx context.Context, a ledger.Account) error
	Account(ctx context.Context, id ledger.AccountID) (ledger.Account, error)
	Accounts(ctx context.Context) ([]ledger.AccountID, error)
	Entries(ctx context.Context, id ledger.AccountID, cursor string, limit int) ([]ledger.Entry, string, error)
}

type accountJSON struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Master      string            `json:"master,omitempty"`
	Cash        string            `json:"cash"`
	CreditLimit string            `json:"credit_limit"`
	CreditUsed  string            `json:"credit_used"`
	Books       map[string]string `json:"books,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	Version     int64             `json:"version"`
}

func toAccountJSON(a ledger.Account) accountJSON {
	out := accountJSON{
		ID: string(a.ID), Name: a.Name, Master: string(a.Master),
		Cash: a.Cash.String(), CreditLimit: a.CreditLimit.String(), CreditUsed: a.CreditUsed.String(),
		CreatedAt: a.CreatedAt, Version: a.Version,
	}
	if len(a.Books) > 0 {
		out.Books = make(map[string]string, len(a.Books))
		for k, v := range a.Books {
			out.Books[k] = v.String()
		}
	}
	return out
}

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Master      string `json:"master"`
		CreditLimit string `json:"credit_limit"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	id, err := ledger.ParseAccountID(req.ID)
	if err != nil {
		return badRequest("id: %v", err)
	}
	a := ledger.Account{ID: id, Name: req.Name}
	if req.Master != "" {
		if a.Master, err = ledger.ParseAccountID(req.Master); err != nil {
			return badRequest("master: %v", err)
		}
		if _, err := s.opts.Ledger.Account(r.Context(), a.Master); errors.Is(err, ledger.ErrNotFound) {
			return badRequest("master: account %q does not exist", a.Master)
		} else if err != nil {
			return err
		}
	}
	if req.CreditLimit != "" {
		if a.CreditLimit, err = money.ParseUSD(req.CreditLimit); err != nil || a.CreditLimit < 0 {
			return badRequest("credit_limit: want a non-negative USD amount with at most 8 decimals, got %q", req.CreditLimit)
		}
	}
	switch err := s.opts.Ledger.CreateAccount(r.Context(), a); {
	case errors.Is(err, ledger.ErrExists):
		return conflict("account %q already exists", id)
	case err != nil:
		return err
	}
	got, err := s.opts.Ledger.Account(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toAccountJSON(got))
	return nil
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) error {
	ids, err := s.opts.Ledger.Accounts(r.Context())
	if err != nil {
		return err
	}
	items := make([]accountJSON, 0, len(ids))
	for _, id := range ids {
		a, err := s.opts.Ledger.Account(r.Context(), id)
		if err != nil {
			return err
		}
		items = append(items, toAccountJSON(a))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
	return nil
}

func (s *Server) parseAccount(v string) (ledger.AccountID, error) {
	id, err := ledger.ParseAccountID(v)
	if err != nil {
		return "", badRequest("account id: %v", err)
	}
	return id, nil
}

func (s *Server) accountError(id ledger.AccountID, err error) error {
	if errors.Is(err, ledger.ErrNotFound) {
		return notFound("account %q not found", id)
	}
	return err
}

func (s *Server) account(r *http.Request) (ledger.Account, error) {
	id, err := s.parseAccount(r.PathValue("id"))
	if err != nil {
		return ledger.Account{}, err
	}
	a, err := s.opts.Ledger.Account(r.Context(), id)
	if err != nil {
		return a, s.accountError(id, err)
	}
	return a, nil
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) error {
	a, err := s.account(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAccountJSON(a))
	return nil
}

func (s *Server) listEntries(w http.ResponseWriter, r *http.Request) error {
	a, err := s.account(r)
	if err != nil {
		return err
	}
	limit, err := limitParam(r, 100, 1000)
	if err != nil {
		return err
	}
	entries, next, err := s.opts.Ledger.Entries(r.Context(), a.ID, r.URL.Query().Get("cursor"), limit)
	if err != nil {
		return err
	}
	items := make([]map[string]any, 0, len(entries))
	for _, e := range entries {
		postings := make([]map[string]string, 0, len(e.Postings))
		for _, p := range e.Postings {
			postings = append(postings, map[string]string{"book": p.Book, "delta": p.Delta.String()})
		}
		items = append(items, map[string]any{
			"id": e.ID, "key": e.Key, "kind": e.Kind, "account": e.Account, "at": e.At,
			"postings": postings, "meta": e.Meta, "events": e.Events,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next": nullIfEmpty(next)})
	return nil
}

func limitParam(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, badRequest("limit: want an integer 1..%d, got %q", max, v)
	}
	return n, nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
