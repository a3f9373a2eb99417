// Package daemon wires depositd together: config → Redis → ledger, address
// book and settlement → chain adapters and watchers → webhook dispatcher →
// HTTP API. Every long-running part is a Run(ctx) loop owned by one errgroup;
// the first failure or a cancelled context stops them all, and shutdown is
// bounded.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/depositd/depositd/addressbook"
	"github.com/depositd/depositd/api"
	"github.com/depositd/depositd/config"
	"github.com/depositd/depositd/settlement"
	"github.com/depositd/depositd/settlement/ledger"
	"github.com/depositd/depositd/watchers"
	"github.com/depositd/depositd/webhooks"
)

// Options carry what the caller provides besides the config.
type Options struct {
	Logger *slog.Logger
	// Redis, when set, is used instead of a client built from cfg.Redis.
	Redis redis.UniversalClient
	// Listener, when set, serves the API instead of listening on cfg.Listen.
	Listener net.Listener
	// Started, when set, is called once every component is built and the
	// API is listening.
	Started func(*Daemon)
}

// Daemon is a running depositd: its parts, for the dev environment and
// tests that drive it in-process.
type Daemon struct {
	Redis      redis.UniversalClient
	Ledger     *ledger.Ledger
	Book       *addressbook.Book
	Index      *addressbook.Index
	Settlement *settlement.Service
	Webhooks   *webhooks.Dispatcher
	Registry   *prometheus.Registry
	Addr       string // the API's listening address
	Holder     string // this process's id in the chains' scan leases
}

// shutdownGrace bounds the HTTP server's graceful shutdown.
const shutdownGrace = 10 * time.Second

// Run starts every part and blocks until ctx ends (then shuts down and
// returns nil) or a part fails (returns its error).
func Run(ctx context.Context, cfg *config.Config, opts Options) error {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	for _, w := range cfg.Warnings {
		log.Warn("config", "warning", w)
	}
	rdb := opts.Redis
	if rdb == nil {
		var err error
		if rdb, err = NewRedis(cfg.Redis); err != nil {
			return err
		}
		defer rdb.Close()
	}
	if err := waitRedis(ctx, rdb, redisStartWait, log); err != nil {
		return err
	}
	for _, w := range ledger.CheckPersistence(ctx, rdb) {
		log.Error("REDIS CAN LOSE ACKNOWLEDGED MONEY WRITES", "problem", w)
	}

	l, waitAOF, err := ledger.WithDurableAcks(ctx, rdb, ledger.New(rdb, time.Now))
	if err != nil {
		return fmt.Errorf("redis persistence settings: %w", err)
	}
	if waitAOF {
		log.Info("redis fsyncs its AOF lazily: each ledger step waits for WAITAOF before it is acknowledged")
	}
	l, warns := replicated(l, cfg.Redis)
	for _, w := range warns {
		log.Error("REDIS CAN LOSE ACKNOWLEDGED MONEY WRITES", "problem", w)
	}
	d := &Daemon{Redis: rdb, Ledger: l, Registry: prometheus.NewRegistry()}
	d.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mints, err := solanaMints(cfg)
	if err != nil {
		return err
	}
	bookOpts := addressbook.Options{Mints: mints, XPubs: xpubs(cfg)}
	if s := cfg.Redis.Sentinel; s != nil {
		bookOpts.WaitReplicas, bookOpts.WaitTimeout = s.WaitReplicas, s.WaitTimeout
	}
	if d.Book, err = addressbook.New(rdb, bookOpts); err != nil {
		return fmt.Errorf("address book: %w", err)
	}
	if d.Index, err = addressbook.NewIndex(rdb, mints, addressbook.IndexOptions{Logger: log.With("part", "index")}); err != nil {
		return fmt.Errorf("address index: %w", err)
	}
	if err := d.Index.Load(ctx); err != nil {
		return fmt.Errorf("address index: %w", err)
	}
	log.Info("address index loaded", "addresses", d.Index.Len())
	smetrics, err := settlement.NewMetrics(d.Registry)
	if err != nil {
		return err
	}
	d.Settlement = settlement.New(d.Ledger, rdb, settlement.Config{
		Location: cfg.Settlement.Location, DueDays: cfg.Settlement.DueDays,
		LowBalance: cfg.Settlement.LowBalanceThresholds, OffchainApprovalAbove: cfg.Settlement.OffchainApprovalAbove,
		Logger: log.With("part", "settlement"), Metrics: smetrics,
	}, time.Now)
	if d.Webhooks, err = webhooks.NewDispatcher(rdb, webhookEndpoints(cfg), webhooks.Options{
		Logger: log.With("part", "webhooks"), Registerer: d.Registry,
	}); err != nil {
		return fmt.Errorf("webhooks: %w", err)
	}
	importHuawei, err := d.huaweiImporter(cfg, log)
	if err != nil {
		return err
	}
	ws, err := d.buildWatchers(ctx, cfg, log)
	if err != nil {
		return err
	}
	d.Registry.MustRegister(newOpsCollector(rdb, cfg, d.Webhooks, len(warns)))

	ln := opts.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			return fmt.Errorf("listen %s: %w", cfg.Listen, err)
		}
	}
	d.Addr = ln.Addr().String()
	srv := &http.Server{Handler: api.New(api.Options{
		Tokens: apiTokens(cfg), Logger: log.With("part", "api"), Gatherer: d.Registry,
		Ready:  func(ctx context.Context) error { return ping(ctx, rdb) },
		Ledger: d.Ledger, Addresses: d.Book, Deposits: watchers.NewDeposits(rdb), Chains: ws,
		Settlement: d.Settlement, Credits: d.Settlement, Webhooks: d.Webhooks,
	}).Handler(), ReadHeaderTimeout: 10 * time.Second}

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return d.Index.Run(gctx) })
	leases, err := d.leases(cfg, ws, log)
	if err != nil {
		return err
	}
	for i, l := range leases {
		w := ws.watchers[i]
		g.Go(func() error { return l.Run(gctx, w.RunTerm) })
	}
	for _, run := range ws.loops {
		g.Go(func() error { return run(gctx) })
	}
	g.Go(func() error { return d.Webhooks.Run(gctx) })
	g.Go(func() error { return runTicker(gctx, cfg.Settlement.OverdueSweep, d.Settlement.Run) })
	if importHuawei != nil {
		g.Go(func() error { return importHuawei(gctx) })
	}
	audit := newAuditor(d.Ledger, d.Registry, log.With("part", "audit"))
	g.Go(func() error { return runTicker(gctx, auditEvery, audit.Run) })
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("api: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		return srv.Shutdown(sctx)
	})
	log.Info("depositd started", "listen", d.Addr, "holder", d.Holder, "chains", len(ws.watchers), "webhook_endpoints", len(cfg.Webhooks.Endpoints))
	if opts.Started != nil {
		opts.Started(d)
	}
	err = g.Wait()
	if ctx.Err() != nil && (err == nil || errors.Is(err, context.Canceled)) {
		log.Info("depositd stopped")
		return nil
	}
	return err
}

// runTicker feeds run a ticker channel of period every; it owns the ticker.
func runTicker(ctx context.Context, every time.Duration, run func(context.Context, <-chan time.Time) error) error {
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	err := run(ctx, t.C)
	if ctx.Err() != nil {
		return nil
	}
	return err
}
