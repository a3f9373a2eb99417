package settlement

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/settlement/ledger"
)

// Config is the billing policy of a Service.
type Config struct {
	// Location is the billing time zone; nil means DefaultLocation (UTC+8).
	Location *time.Location
	// DueDays is the time from issue to due date; <= 0 means DefaultDueDays.
	DueDays int
	// LowBalance are the default available-balance thresholds (cash plus
	// unused credit) that raise balance.low once per downward crossing; an
	// account may set its own with SetAlertThresholds.
	LowBalance []money.Units
	// LockTimeout is how long a coupon may stay locked by a payment that did
	// not complete before a run or sweep unlocks it; <= 0 means 5 minutes.
	LockTimeout time.Duration
	// OffchainApprovalAbove is the largest off-chain credit one operator
	// may apply alone; a larger one waits for a second operator. The zero
	// value makes every off-chain credit need a second operator.
	OffchainApprovalAbove money.Units
	// Logger receives the warnings of Run; nil discards them.
	Logger *slog.Logger
	// Metrics, when set, counts runs, payments and overdue marks.
	Metrics *Metrics
}

// DefaultLockTimeout is the coupon lock timeout when Config leaves it 0.
const DefaultLockTimeout = 5 * time.Minute

// Service settles statements on the ledger. It is safe for concurrent use:
// every step is guarded by the versions it read (optimistic concurrency) and
// re-planned on a conflict.
type Service struct {
	l   *ledger.Ledger
	rdb redis.UniversalClient
	cfg Config
	now func() time.Time

	// hook, when set (tests), runs before every ledger step with the step's
	// name; an error aborts the run at once with no clean-up, as a crash
	// between two steps would.
	hook func(step string) error
}

// New returns a Service moving money through l, keeping statements, coupon
// and discount records in rdb (the ledger's Redis), with policy cfg and
// clock now.
func New(l *ledger.Ledger, rdb redis.UniversalClient, cfg Config, now func() time.Time) *Service {
	if cfg.Location == nil {
		cfg.Location = DefaultLocation
	}
	if cfg.DueDays <= 0 {
		cfg.DueDays = DefaultDueDays
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.LockTimeout <= 0 {
		cfg.LockTimeout = DefaultLockTimeout
	}
	return &Service{l: l, rdb: rdb, cfg: cfg, now: now}
}

// maxAttempts bounds the re-plans of one step under concurrent changes.
const maxAttempts = 16

// step runs the crash hook, then applies t.
func (s *Service) step(ctx context.Context, name string, t ledger.Txn) (ledger.Result, error) {
	if s.hook != nil {
		if err := s.hook(name); err != nil {
			return ledger.Result{}, err
		}
	}
	return s.l.Apply(ctx, t)
}

// account reads the ledger account of id, mapping the ledger's not-found.
func (s *Service) account(ctx context.Context, id string) (ledger.Account, error) {
	aid, err := ledger.ParseAccountID(id)
	if err != nil {
		return ledger.Account{}, invalid(err)
	}
	a, err := s.l.Account(ctx, aid)
	if errors.Is(err, ledger.ErrNotFound) {
		return ledger.Account{}, fmt.Errorf("account %s: %w", id, ErrNotFound)
	}
	return a, err
}

func acctGuard(a ledger.Account) ledger.Guard {
	return ledger.Guard{Key: "acct:" + string(a.ID), Field: "_ver", Equals: itoa(a.Version)}
}
