package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/depositd/depositd/watchers"
)

// Deposits is what the API needs of the deposit records.
type Deposits interface {
	List(ctx context.Context, f watchers.Filter, cursor string, limit int) ([]watchers.Deposit, string, error)
	Get(ctx context.Context, id string) (watchers.Deposit, error)
}

// Chains is what the API needs to show and steer the chain watchers.
type Chains interface {
	Statuses(ctx context.Context) ([]ChainStatus, error)
	Pause(ctx context.Context, name, reason string) error
	Resume(ctx context.Context, name string) error
}

// ChainStatus is one chain on GET /v1/chains: the watcher's scan state plus
// the health of this process's RPC endpoints for it.
type ChainStatus struct {
	watchers.ChainStatus
	// Holder is the process holding the chain's scan lease ("" when none).
	Holder    string `json:"holder,omitempty"`
	Endpoints any    `json:"endpoints,omitempty"`
}

// ErrUnknownChain is returned by Chains implementations for a name not
// configured.
var ErrUnknownChain = errors.New("unknown chain")

func (s *Server) listDeposits(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := limitParam(r, watchers.DefaultLimit, watchers.MaxLimit)
	if err != nil {
		return err
	}
	f := watchers.Filter{Status: watchers.Status(q.Get("status")), Chain: q.Get("chain"), Account: q.Get("account")}
	items, next, err := s.opts.Deposits.List(r.Context(), f, q.Get("cursor"), limit)
	if errors.Is(err, watchers.ErrBadFilter) || errors.Is(err, watchers.ErrBadCursor) {
		return badRequest("%v", err)
	}
	if err != nil {
		return err
	}
	if items == nil {
		items = []watchers.Deposit{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "next": nullIfEmpty(next)})
	return nil
}

func (s *Server) getDeposit(w http.ResponseWriter, r *http.Request) error {
	d, err := s.opts.Deposits.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, watchers.ErrNoDeposit) {
		return notFound("deposit %q not found", r.PathValue("id"))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) listChains(w http.ResponseWriter, r *http.Request) error {
	st, err := s.opts.Chains.Statuses(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": st})
	return nil
}

func (s *Server) pauseChain(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &req); err != nil {
			return err
		}
	}
	return s.steerChain(w, r, func(ctx context.Context, name string) error { return s.opts.Chains.Pause(ctx, name, req.Reason) })
}

func (s *Server) resumeChain(w http.ResponseWriter, r *http.Request) error {
	return s.steerChain(w, r, s.opts.Chains.Resume)
}

func (s *Server) steerChain(w http.ResponseWriter, r *http.Request, do func(context.Context, string) error) error {
	name := r.PathValue("name")
	if err := do(r.Context(), name); errors.Is(err, ErrUnknownChain) {
		return notFound("chain %q is not configured", name)
	} else if err != nil {
		return err
	}
	all, err := s.opts.Chains.Statuses(r.Context())
	if err != nil {
		return err
	}
	for _, c := range all {
		if c.Name == name {
			writeJSON(w, http.StatusOK, c)
			return nil
		}
	}
	return notFound("chain %q is not configured", name)
}
