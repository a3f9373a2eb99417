package daemon

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/gagliardetto/solana-go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/depositd/depositd/addressbook"
	"github.com/depositd/depositd/api"
	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/config"
	"github.com/depositd/depositd/internal/lease"
	"github.com/depositd/depositd/internal/ledgercredit"
	"github.com/depositd/depositd/watchers"
	"github.com/depositd/depositd/webhooks"
)

// chainSet is every configured chain's watcher; it serves GET /v1/chains
// and pause/resume.
type chainSet struct {
	d        *Daemon
	names    []string
	health   map[string]func() any
	watchers []*watchers.Watcher
	loops    []func(context.Context) error // adapters' own loops
}

var _ api.Chains = (*chainSet)(nil)

func (d *Daemon) buildWatchers(ctx context.Context, cfg *config.Config, log *slog.Logger) (*chainSet, error) {
	set := &chainSet{d: d, health: map[string]func() any{}}
	metrics, err := watchers.NewMetrics(d.Registry)
	if err != nil {
		return nil, err
	}
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "depositd_chain_dropped_logs_total",
		Help: "Token logs the chain adapter dropped before matching (zero amount, unknown emitter, malformed), by reason.",
	}, []string{"chain", "token", "reason"})
	d.Registry.MustRegister(dropped)
	onDrop := func(chain, token, reason string) { dropped.WithLabelValues(chain, token, reason).Inc() }
	rpc := newRPCMetrics(d.Registry)
	cr := &crediter{credit: &ledgercredit.Crediter{Ledger: d.Ledger, Rate: rates(cfg)}, settle: d.Settlement, log: log.With("part", "credit")}
	for i := range cfg.Chains {
		c := &cfg.Chains[i]
		cs, err := newSource(ctx, c, onDrop, d.Index, rpc, log)
		if err != nil {
			return nil, err
		}
		if err := checkTokens(ctx, c.Name, cs); err != nil {
			return nil, err
		}
		w, err := watchers.New(cs.src, d.Index, cr, d.Redis, watcherConfig(c), watchers.Options{
			Logger: log.With("part", "watcher"), Metrics: metrics,
		})
		if err != nil {
			return nil, err
		}
		set.names = append(set.names, c.Name)
		set.health[c.Name] = cs.health
		set.watchers = append(set.watchers, w)
		if cs.run != nil {
			set.loops = append(set.loops, cs.run)
		}
	}
	return set, nil
}

// Statuses implements api.Chains from the state every watcher publishes in
// Redis (so any process can answer) plus this process's endpoint health.
func (s *chainSet) Statuses(ctx context.Context) ([]api.ChainStatus, error) {
	out := make([]api.ChainStatus, 0, len(s.names))
	for _, n := range s.names {
		st, err := watchers.LoadStatus(ctx, s.d.Redis, n)
		if err != nil {
			return nil, err
		}
		holder, _, _, err := lease.Holder(ctx, s.d.Redis, n)
		if err != nil {
			return nil, err
		}
		out = append(out, api.ChainStatus{ChainStatus: st, Holder: holder, Endpoints: s.health[n]()})
	}
	return out, nil
}

func (s *chainSet) known(name string) error {
	if _, ok := s.health[name]; !ok {
		return fmt.Errorf("chain %q: %w", name, api.ErrUnknownChain)
	}
	return nil
}

// Pause implements api.Chains.
func (s *chainSet) Pause(ctx context.Context, name, reason string) error {
	if err := s.known(name); err != nil {
		return err
	}
	return watchers.Pause(ctx, s.d.Redis, name, reason)
}

// Resume implements api.Chains.
func (s *chainSet) Resume(ctx context.Context, name string) error {
	if err := s.known(name); err != nil {
		return err
	}
	return watchers.Resume(ctx, s.d.Redis, name)
}

// solanaMints lists the configured SPL mints with their token programs.
func solanaMints(cfg *config.Config) ([]addressbook.SolanaMint, error) {
	var out []addressbook.SolanaMint
	for _, c := range cfg.Chains {
		if c.Kind != config.KindSolana {
			continue
		}
		for _, t := range c.Tokens {
			mint, err := solana.PublicKeyFromBase58(t.Address)
			if err != nil {
				return nil, fmt.Errorf("chains[%s].tokens[%s].address: %w", c.Name, t.Symbol, err)
			}
			prog := solana.TokenProgramID
			if t.Program == config.ProgramToken2022 {
				prog = solana.Token2022ProgramID
			}
			out = append(out, addressbook.SolanaMint{Mint: mint, Program: prog})
		}
	}
	return out, nil
}

func xpubs(cfg *config.Config) map[chains.Family]string {
	return cfg.Addresses.XPubs()
}

func webhookEndpoints(cfg *config.Config) []webhooks.Endpoint {
	var out []webhooks.Endpoint
	for _, e := range cfg.Webhooks.Endpoints {
		ep := webhooks.Endpoint{Name: e.Name, URL: e.URL, Events: e.Events, Timeout: e.Timeout, Schedule: e.Schedule, AllowPrivate: e.AllowPrivate}
		for _, s := range e.Secrets {
			ep.Secrets = append(ep.Secrets, s.Reveal())
		}
		out = append(out, ep)
	}
	return out
}

func apiTokens(cfg *config.Config) []api.Token {
	var out []api.Token
	for _, t := range cfg.API.Tokens {
		tok := api.Token{Name: t.Name, Secret: t.Token.Reveal()}
		for _, s := range t.Scopes {
			tok.Scopes = append(tok.Scopes, api.Scope(s))
		}
		out = append(out, tok)
	}
	return out
}
