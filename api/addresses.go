package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/depositd/depositd/addressbook"
	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/address"
)

// AddressBook is what the API needs of the address book.
type AddressBook interface {
	Register(ctx context.Context, account string, f chains.Family, addr string) (addressbook.Entry, error)
	RegisterMany(ctx context.Context, regs []addressbook.Registration) []addressbook.Result
	Derive(ctx context.Context, f chains.Family, account string) (addressbook.Entry, error)
	Owner(ctx context.Context, f chains.Family, addr string) (string, error)
}

type addressJSON struct {
	Account string            `json:"account"`
	Family  string            `json:"family"`
	Address string            `json:"address"`
	Path    string            `json:"path,omitempty"`
	ATAs    map[string]string `json:"token_accounts,omitempty"`
}

func toAddressJSON(e addressbook.Entry) addressJSON {
	out := addressJSON{Account: e.Account, Family: string(e.Family), Address: e.Address, Path: e.Path}
	if len(e.ATAs) > 0 {
		out.ATAs = map[string]string{}
		for _, a := range e.ATAs {
			out.ATAs[a.Mint] = a.Account
		}
	}
	return out
}

func parseFamily(s string) (chains.Family, error) {
	switch f := chains.Family(s); f {
	case chains.FamilyEVM, chains.FamilyTron, chains.FamilySolana:
		return f, nil
	}
	return "", badRequest("family: want evm, tron or solana, got %q", s)
}

// addressError maps address-book errors to API errors.
func (s *Server) addressError(err error) error {
	switch {
	case errors.Is(err, addressbook.ErrDuplicate), errors.Is(err, addressbook.ErrFamilyTaken):
		return conflict("%v", err)
	case errors.Is(err, address.ErrInvalid), errors.Is(err, addressbook.ErrInvalidAccount):
		return badRequest("%v", err)
	case errors.Is(err, addressbook.ErrNotFound):
		return notFound("%v", err)
	}
	return err
}

type addressRequest struct {
	Account string `json:"account"`
	Family  string `json:"family"`
	Address string `json:"address"`
}

func (s *Server) checkAccount(ctx context.Context, id string) error {
	if s.opts.Ledger == nil {
		return nil
	}
	a, err := s.parseAccount(id)
	if err != nil {
		return err
	}
	if _, err := s.opts.Ledger.Account(ctx, a); err != nil {
		return s.accountError(a, err)
	}
	return nil
}

func (s *Server) registerAddress(w http.ResponseWriter, r *http.Request) error {
	var req addressRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	f, err := parseFamily(req.Family)
	if err != nil {
		return err
	}
	if err := s.checkAccount(r.Context(), req.Account); err != nil {
		return err
	}
	e, err := s.opts.Addresses.Register(r.Context(), req.Account, f, req.Address)
	if err != nil {
		return s.addressError(err)
	}
	writeJSON(w, http.StatusCreated, toAddressJSON(e))
	return nil
}

// registerBulk registers every item independently and reports each result;
// the call is 200 even when some items were rejected (each carries its error).
func (s *Server) registerBulk(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Items []addressRequest `json:"items"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if len(req.Items) == 0 {
		return badRequest("items: at least one address is required")
	}
	if len(req.Items) > 100_000 {
		return badRequest("items: at most 100000 per call, got %d", len(req.Items))
	}
	type itemResult struct {
		addressJSON
		Error string `json:"error,omitempty"`
	}
	out := make([]itemResult, len(req.Items))
	var regs []addressbook.Registration
	var idx []int
	for i, it := range req.Items {
		out[i].addressJSON = addressJSON{Account: it.Account, Family: it.Family, Address: it.Address}
		f, err := parseFamily(it.Family)
		if err == nil {
			err = s.checkAccount(r.Context(), it.Account)
		}
		if err != nil {
			out[i].Error = errorMessage(err)
			continue
		}
		regs = append(regs, addressbook.Registration{Account: it.Account, Family: f, Address: it.Address})
		idx = append(idx, i)
	}
	failed := 0
	for j, res := range s.opts.Addresses.RegisterMany(r.Context(), regs) {
		i := idx[j]
		if res.Err != nil {
			mapped := s.addressError(res.Err)
			if _, isAPI := mapped.(*apiError); !isAPI {
				return res.Err
			}
			out[i].Error = errorMessage(mapped)
			continue
		}
		out[i].addressJSON = toAddressJSON(res.Entry)
	}
	for _, o := range out {
		if o.Error != "" {
			failed++
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out, "registered": len(out) - failed, "rejected": failed})
	return nil
}

func errorMessage(err error) string {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Message
	}
	return err.Error()
}

func (s *Server) deriveAddress(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Account string `json:"account"`
		Family  string `json:"family"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	f, err := parseFamily(req.Family)
	if err != nil {
		return err
	}
	if err := s.checkAccount(r.Context(), req.Account); err != nil {
		return err
	}
	e, err := s.opts.Addresses.Derive(r.Context(), f, req.Account)
	if errors.Is(err, addressbook.ErrNoXPub) {
		return badRequest("%v", err)
	}
	if err != nil {
		return s.addressError(err)
	}
	writeJSON(w, http.StatusCreated, toAddressJSON(e))
	return nil
}

func (s *Server) lookupAddress(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFamily(r.PathValue("family"))
	if err != nil {
		return err
	}
	norm, _, err := address.Parse(f, r.PathValue("address"))
	if err != nil {
		return badRequest("%v", err)
	}
	owner, err := s.opts.Addresses.Owner(r.Context(), f, norm)
	if err != nil {
		return s.addressError(err)
	}
	writeJSON(w, http.StatusOK, addressJSON{Account: owner, Family: string(f), Address: norm})
	return nil
}
