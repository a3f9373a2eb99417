package watchers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/chains"
)

// FinalPolicy chooses the final marker below which deposits are credited.
type FinalPolicy string

const (
	// PolicyFinalized uses the chain's own marker (Heads.Final: EVM
	// finalized tag, Tron solidified block, Solana finalized slot).
	PolicyFinalized FinalPolicy = "finalized"
	// PolicyConfirmations uses latest − Required + 1, for chains without a
	// finalized marker.
	PolicyConfirmations FinalPolicy = "confirmations"
)

// Token is one watched token of the chain.
type Token struct {
	Symbol string
	MinRaw *big.Int // smallest credited amount in base units; nil = any non-zero
}

// Config is one chain's watcher configuration.
type Config struct {
	Family   chains.Family
	Tokens   []Token
	Policy   FinalPolicy
	Required uint64 // N of "n of N confirmations"; the final depth under PolicyConfirmations
	MinDepth uint64 // with PolicyFinalized: also require ≥ MinDepth confirmations (bsc); 0 = off
	// StartBlock is the first block to credit when no cursor is stored;
	// 0 means "from the final marker at first start" (no backfill).
	StartBlock    uint64
	MaxRange      uint64        // blocks per Headers/Transfers call
	Rescan        uint64        // blocks re-scanned below the stored final cursor on start
	Retain        uint64        // credited blocks kept for a reversal check after a deep reorg
	PollInterval  time.Duration // wait between polls when caught up
	MaxBackoff    time.Duration // cap of the doubling wait after errors
	ProgressEvery time.Duration // backfill progress log interval
	// ReuseTipReads lets the final tier credit blocks from the transfers the
	// tip tier already read and checked against the hash chain instead of
	// reading them again. Only for sources whose final reads answer what
	// their tip reads do (EVM); Tron and Solana read final blocks from their
	// finality-level service.
	ReuseTipReads bool
	// CreditConcurrency is how many credits of one range run at once when
	// the Crediter is not a BatchCrediter (it must then be safe for
	// concurrent use); default 8.
	CreditConcurrency int
}

func (c *Config) defaults() {
	if c.Policy == "" {
		c.Policy = PolicyFinalized
	}
	if c.MaxRange == 0 {
		c.MaxRange = 1000
	}
	if c.Retain == 0 {
		c.Retain = 256
	}
	if c.PollInterval == 0 {
		c.PollInterval = 2 * time.Second
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = time.Minute
	}
	if c.ProgressEvery == 0 {
		c.ProgressEvery = 5 * time.Second
	}
	if c.CreditConcurrency <= 0 {
		c.CreditConcurrency = 8
	}
}

func (c *Config) validate() error {
	var errs []error
	switch c.Family {
	case chains.FamilyEVM, chains.FamilyTron, chains.FamilySolana:
	default:
		errs = append(errs, fmt.Errorf("family %q: want evm, tron or solana", c.Family))
	}
	switch c.Policy {
	case PolicyFinalized, PolicyConfirmations:
	default:
		errs = append(errs, fmt.Errorf("policy %q: want finalized or confirmations", c.Policy))
	}
	if c.Required == 0 {
		errs = append(errs, errors.New("required confirmations: must be ≥ 1"))
	}
	if len(c.Tokens) == 0 {
		errs = append(errs, errors.New("tokens: none configured"))
	}
	for _, t := range c.Tokens {
		if t.MinRaw != nil && t.MinRaw.Sign() < 0 {
			errs = append(errs, fmt.Errorf("tokens[%s].min: negative", t.Symbol))
		}
	}
	return errors.Join(errs...)
}

// Clock is the watcher's time source, injected so tests need no sleeps.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Options carries a watcher's collaborators; zero fields get defaults
// (slog.Default, the real clock). Metrics is required.
type Options struct {
	Logger  *slog.Logger
	Metrics *Metrics
	Clock   Clock
}

// Watcher scans one chain: the tip tier records deposits as seen with n of
// N confirmations and follows reorgs; the final tier credits deposits in
// blocks at or below the final marker through the Crediter, then advances
// cursor_final in Redis.
type Watcher struct {
	src      chains.Source
	index    Index
	crediter Crediter
	rdb      redis.UniversalClient
	deposits *Deposits
	cfg      Config
	name     string
	tokens   map[string]Token
	log      *slog.Logger
	metrics  *Metrics
	clock    Clock

	// Run's state; only the Run goroutine touches it.
	token       int64 // fencing token of the current lease term; 0 = no lease
	tracker     *Tracker
	scannedTip  uint64   // newest number the tip tier has covered (≥ tracker tip on skipped slots)
	cache       tipCache // transfers the tip tier read, for the final tier
	cursorFinal uint64
	haveCursor  bool
	progress    progress
	recent      []Deposit            // credited within Retain blocks of the final cursor
	seenAt      map[string]time.Time // tip-tier first sighting, for the credit delay

	mu     sync.Mutex
	status ChainStatus
}

// New returns a watcher for src. It reads nothing yet: Run loads the cursors.
func New(src chains.Source, index Index, crediter Crediter, rdb redis.UniversalClient, cfg Config, opts Options) (*Watcher, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("watcher %s: %w", src.Name(), err)
	}
	if opts.Metrics == nil {
		return nil, fmt.Errorf("watcher %s: no metrics", src.Name())
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	w := &Watcher{
		src: src, index: index, crediter: crediter, rdb: rdb, deposits: NewDeposits(rdb), cfg: cfg,
		name: src.Name(), tokens: map[string]Token{}, log: opts.Logger.With("chain", src.Name()),
		metrics: opts.Metrics, clock: opts.Clock, seenAt: map[string]time.Time{},
	}
	for _, t := range cfg.Tokens {
		w.tokens[t.Symbol] = t
		// Exported at 0 from the start, so that an alert on increase()
		// sees the first reversal too.
		opts.Metrics.reversed.WithLabelValues(w.name, t.Symbol)
	}
	w.status.Name = w.name
	return w, nil
}

// Deposits returns the store the watcher writes.
func (w *Watcher) Deposits() *Deposits { return w.deposits }

// Status returns the last known state of the chain. Safe for concurrent use.
func (w *Watcher) Status() ChainStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status
}

// Pause stops scanning and crediting this chain in every process.
func (w *Watcher) Pause(ctx context.Context) error { return Pause(ctx, w.rdb, w.name, "") }

// Resume undoes Pause.
func (w *Watcher) Resume(ctx context.Context) error { return Resume(ctx, w.rdb, w.name) }

// Run polls until ctx ends, then returns nil, or until a write is refused
// by the chain's fence (another process holds the chain now), then
// returns that ErrStaleFence error. A failed poll is logged as a
// warning once per streak (and again when the error changes) and retried
// after a wait that doubles from PollInterval to MaxBackoff and resets on
// success. It never advances a cursor past data it has not processed.
func (w *Watcher) Run(ctx context.Context) error {
	var backoff time.Duration
	var lastErr string
	failures := 0
	for {
		err := w.Poll(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if w.fenced(err) {
			return err
		}
		wait := w.cfg.PollInterval
		if err != nil {
			failures++
			backoff = min(max(2*backoff, w.cfg.PollInterval), w.cfg.MaxBackoff)
			wait = backoff
			if err.Error() != lastErr {
				lvl := slog.LevelWarn
				if errors.Is(err, ErrReorgPastFinal) {
					lvl = slog.LevelError
				}
				w.log.Log(ctx, lvl, "poll", "err", err, "retry_in", wait, "failures", failures)
				lastErr = err.Error()
			}
		} else {
			if failures > 0 {
				w.log.Info("poll recovered", "failures", failures)
			}
			failures, backoff, lastErr = 0, 0, ""
		}
		select {
		case <-ctx.Done():
			return nil
		case <-w.clock.After(wait):
		}
	}
}

// Poll runs the tiers until they are caught up with the chain's current
// heads (or ctx ends): one poll of Run. On error nothing past the failure is
// marked processed; the next Poll resumes there. The error is also kept as
// the status' LastError.
func (w *Watcher) Poll(ctx context.Context) error {
	err := w.poll(ctx)
	w.mu.Lock()
	w.status.LastError = ""
	if err != nil {
		w.status.LastError = err.Error()
	}
	w.status.UpdatedAt = w.clock.Now()
	st := w.status
	w.mu.Unlock()
	if perr := publishStatus(ctx, w.rdb, w.token, st); perr != nil && err == nil {
		err = perr
	}
	return err
}

func (w *Watcher) poll(ctx context.Context) error {
	heads, err := w.heads(ctx)
	if err != nil {
		return fmt.Errorf("heads: %w", err)
	}
	if heads.Final > heads.Latest {
		return fmt.Errorf("heads: final %d above latest %d", heads.Final, heads.Latest)
	}
	w.metrics.head.WithLabelValues(w.name).Set(float64(heads.Latest))
	paused, err := w.rdb.Exists(ctx, chainKey(w.name, "paused")).Result()
	if err != nil {
		return fmt.Errorf("paused flag: %w", err)
	}
	w.setStatus(func(s *ChainStatus) { s.Head, s.Paused = heads.Latest, paused == 1 })
	if paused == 1 {
		w.tracker = nil // re-anchor on resume: the chain may have moved on
		return nil
	}
	if err := w.loadCursors(ctx, heads); err != nil {
		return err
	}
	final := w.finalMarker(heads)
	if err := w.tip(ctx, heads.Latest, final); err != nil {
		return fmt.Errorf("tip tier: %w", err)
	}
	if err := w.finalTier(ctx, final); err != nil {
		return fmt.Errorf("final tier: %w", err)
	}
	return nil
}

// finalMarker applies the policy to the heads.
func (w *Watcher) finalMarker(h chains.Heads) uint64 {
	depth := func(n uint64) uint64 { // newest block with ≥ n confirmations
		if h.Latest+1 < n {
			return 0
		}
		return h.Latest + 1 - n
	}
	if w.cfg.Policy == PolicyConfirmations {
		return depth(w.cfg.Required)
	}
	if w.cfg.MinDepth > 0 {
		return min(h.Final, depth(w.cfg.MinDepth))
	}
	return h.Final
}

func (w *Watcher) loadCursors(ctx context.Context, heads chains.Heads) error {
	if w.haveCursor {
		return nil
	}
	n, ok, err := loadCursor(ctx, w.rdb, w.name, "cursor_final")
	if err != nil {
		return err
	}
	switch {
	case ok:
		n -= min(n, w.cfg.Rescan)
		if w.cfg.StartBlock > 0 {
			n = max(n, w.cfg.StartBlock-1)
		}
	case w.cfg.StartBlock > 0:
		n = w.cfg.StartBlock - 1
	default:
		n = w.finalMarker(heads)
	}
	w.cursorFinal, w.haveCursor = n, true
	w.setStatus(func(s *ChainStatus) { s.Final = n })
	w.metrics.final.WithLabelValues(w.name).Set(float64(n))
	return nil
}

func (w *Watcher) setStatus(f func(*ChainStatus)) {
	w.mu.Lock()
	f(&w.status)
	w.status.Lag = 0
	if w.status.Head > w.status.Scanned {
		w.status.Lag = w.status.Head - w.status.Scanned
	}
	lag := w.status.Lag
	w.mu.Unlock()
	w.metrics.lag.WithLabelValues(w.name).Set(float64(lag))
}
