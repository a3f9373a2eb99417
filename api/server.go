// Package api serves depositd's HTTP interface: the /v1 JSON API with bearer
// token scopes, health and readiness probes, Prometheus metrics and the ops
// page. Handlers are thin: they validate input, call the domain packages and
// render JSON. Bad input is always a 4xx with {"error":{"code","message"}}.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options wires the server to the domain packages. Nil parts disable their
// routes (they answer 404), which lets tests and smaller deployments run a
// subset.
type Options struct {
	Tokens   []Token
	Logger   *slog.Logger
	Gatherer prometheus.Gatherer
	// Ready reports whether the daemon can serve (Redis reachable).
	Ready func(ctx context.Context) error

	Ledger     Ledger
	Addresses  AddressBook
	Deposits   Deposits
	Chains     Chains
	Settlement Settlement
	Credits    Credits
	Webhooks   Webhooks
}

// Server is the HTTP API. Create with New; serve Handler().
type Server struct {
	opts Options
	auth *authenticator
	log  *slog.Logger
	mux  *http.ServeMux
}

// New builds the server and its routes.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, auth: newAuthenticator(opts.Tokens), log: opts.Logger, mux: http.NewServeMux()}
	s.routes()
	return s
}

// Handler returns the root handler.
func (s *Server) Handler() http.Handler { return s.mux }

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	m.HandleFunc("GET /readyz", s.readyz)
	if s.opts.Gatherer != nil {
		m.Handle("GET /metrics", promhttp.HandlerFor(s.opts.Gatherer, promhttp.HandlerOpts{}))
	}
	if s.opts.Ledger != nil {
		m.HandleFunc("POST /v1/accounts", s.require(ScopeWrite, s.createAccount))
		m.HandleFunc("GET /v1/accounts", s.require(ScopeRead, s.listAccounts))
		m.HandleFunc("GET /v1/accounts/{id}", s.require(ScopeRead, s.getAccount))
		m.HandleFunc("GET /v1/accounts/{id}/entries", s.require(ScopeRead, s.listEntries))
	}
	if s.opts.Addresses != nil {
		m.HandleFunc("POST /v1/addresses", s.require(ScopeWrite, s.registerAddress))
		m.HandleFunc("POST /v1/addresses/bulk", s.require(ScopeWrite, s.registerBulk))
		m.HandleFunc("POST /v1/addresses/derive", s.require(ScopeWrite, s.deriveAddress))
		m.HandleFunc("GET /v1/addresses/{family}/{address}", s.require(ScopeRead, s.lookupAddress))
	}
	if s.opts.Deposits != nil {
		m.HandleFunc("GET /v1/deposits", s.require(ScopeRead, s.listDeposits))
		m.HandleFunc("GET /v1/deposits/{id}", s.require(ScopeRead, s.getDeposit))
	}
	if s.opts.Chains != nil {
		m.HandleFunc("GET /v1/chains", s.require(ScopeRead, s.listChains))
		m.HandleFunc("POST /v1/chains/{name}/pause", s.require(ScopeWrite, s.pauseChain))
		m.HandleFunc("POST /v1/chains/{name}/resume", s.require(ScopeWrite, s.resumeChain))
	}
	if s.opts.Settlement != nil {
		m.HandleFunc("POST /v1/statements", s.require(ScopeWrite, s.createStatement))
		m.HandleFunc("GET /v1/statements", s.require(ScopeRead, s.listStatements))
		m.HandleFunc("GET /v1/statements/{id}", s.require(ScopeRead, s.getStatement))
		m.HandleFunc("POST /v1/accounts/{id}/settle", s.require(ScopeWrite, s.settleAccount))
		m.HandleFunc("PUT /v1/accounts/{id}/credit-limit", s.require(ScopeWrite, s.setCreditLimit))
		m.HandleFunc("PUT /v1/accounts/{id}/alert-thresholds", s.require(ScopeWrite, s.setAlertThresholds))
		m.HandleFunc("POST /v1/coupons", s.require(ScopeWrite, s.createCoupon))
		m.HandleFunc("GET /v1/accounts/{id}/coupons", s.require(ScopeRead, s.listCoupons))
		m.HandleFunc("POST /v1/discounts", s.require(ScopeWrite, s.createDiscount))
		m.HandleFunc("GET /v1/accounts/{id}/discounts", s.require(ScopeRead, s.listDiscounts))
		m.HandleFunc("GET /v1/reconciliation", s.require(ScopeRead, s.reconcile))
	}
	if s.opts.Webhooks != nil {
		m.HandleFunc("GET /v1/webhooks/deliveries", s.require(ScopeRead, s.listDeliveries))
		m.HandleFunc("GET /v1/webhooks/deliveries/{id}", s.require(ScopeRead, s.getDelivery))
		m.HandleFunc("POST /v1/webhooks/deliveries/{id}/redeliver", s.require(ScopeWrite, s.redeliver))
		m.HandleFunc("POST /v1/webhooks/endpoints/{name}/redeliver", s.require(ScopeWrite, s.redeliverFailed))
	}
	if s.opts.Credits != nil {
		m.HandleFunc("POST /v1/credits", s.require(ScopeWrite, s.recordCredit))
		m.HandleFunc("GET /v1/credits", s.require(ScopeRead, s.listCredits))
		m.HandleFunc("GET /v1/credits/{id}", s.require(ScopeRead, s.getCredit))
		m.HandleFunc("POST /v1/credits/{id}/approve", s.require(ScopeWrite, s.approveCredit))
		m.HandleFunc("POST /v1/credits/{id}/reject", s.require(ScopeWrite, s.rejectCredit))
	}
	s.opsRoutes()
	m.HandleFunc("/v1/", s.require(ScopeRead, func(w http.ResponseWriter, r *http.Request) error {
		return notFound("no route %s %s", r.Method, r.URL.Path)
	}))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.opts.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.opts.Ready(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
