package settlement

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/depositd/depositd/outbox"
	"github.com/depositd/depositd/settlement/ledger"
)

// SweepOverdue marks every open statement past its due date with an amount
// left as overdue, each in one ledger step with a statement.overdue event,
// and returns how many it marked. Idempotent: a statement is marked once.
func (s *Service) SweepOverdue(ctx context.Context) (int, error) {
	refs, err := s.allStatements(ctx)
	if err != nil {
		return 0, err
	}
	marked := 0
	defer func() { s.cfg.Metrics.markedOverdue(marked) }()
	for _, r := range refs {
		if r.status != Pending && r.status != PartiallyPaid {
			continue
		}
		ok, err := s.markOverdue(ctx, r.account, r.id)
		if err != nil {
			return marked, err
		}
		if ok {
			marked++
		}
	}
	return marked, nil
}

func (s *Service) markOverdue(ctx context.Context, account, id string) (bool, error) {
	for range maxAttempts {
		st, err := readStatement(ctx, s.rdb, account, id)
		if err != nil {
			return false, err
		}
		if st.Status != Pending && st.Status != PartiallyPaid || st.Due() <= 0 || s.now().Before(st.DueAt) {
			return false, nil
		}
		after := st.Statement
		after.Status = Overdue
		key := overdueTxKey(id)
		data, err := eventData(after, nil)
		if err != nil {
			return false, err
		}
		sk := stmtKey(id)
		_, err = s.step(ctx, "overdue", ledger.Txn{
			Key: key, Fingerprint: "overdue", Account: ledger.AccountID(account), Kind: "statement.overdue",
			Guards: []ledger.Guard{{Key: sk, Field: "version", Equals: strconv.Itoa(st.Version)}},
			Sets: append([]ledger.Set{
				{Key: sk, Field: "status", Value: string(Overdue)},
				{Key: sk, Field: "version", Value: strconv.Itoa(st.Version + 1)},
			}, s.indexSets(after)...),
			Events: []outbox.Event{{ID: ledger.EventID(key, outbox.StatementOverdue), Type: outbox.StatementOverdue, CreatedAt: s.now(), Data: data}},
			Meta:   map[string]string{"statement": id, "due": st.Due().String()},
		})
		if errors.Is(err, ledger.ErrConflict) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("statement %s: overdue: %w", id, err)
		}
		return true, nil
	}
	return false, fmt.Errorf("statement %s: overdue: %w", id, ledger.ErrConflict)
}

// SweepLocks releases the coupon locks of payments that have not completed
// within Config.LockTimeout (their run crashed or hung) and returns how many
// it released. Safe to run at any time: a lock younger than the timeout is
// left to its payment.
func (s *Service) SweepLocks(ctx context.Context) (int, error) {
	refs, err := s.allStatements(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range refs {
		if !r.status.Open() {
			continue
		}
		st, err := readStatement(ctx, s.rdb, r.account, r.id)
		if err != nil {
			return n, err
		}
		if st.Lock == nil || s.now().Sub(st.Lock.At) < s.cfg.LockTimeout {
			continue
		}
		a, err := s.account(ctx, r.account)
		if err != nil {
			return n, err
		}
		switch err := s.unlock(ctx, a, st); {
		case errors.Is(err, ledger.ErrConflict): // the payment moved on meanwhile
		case err != nil:
			return n, err
		default:
			n++
		}
	}
	return n, nil
}

// Run sweeps overdue statements and stale coupon locks at every tick until
// ctx ends, then returns ctx's error. The caller owns the timer (a
// time.Ticker's channel in the daemon, a plain channel in tests). A failed
// sweep is logged as a warning and retried at the next tick.
func (s *Service) Run(ctx context.Context, tick <-chan time.Time) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
			if n, err := s.SweepOverdue(ctx); err != nil {
				s.cfg.Logger.Warn("overdue sweep", "err", err, "marked", n)
			}
			if n, err := s.SweepLocks(ctx); err != nil {
				s.cfg.Logger.Warn("coupon lock sweep", "err", err, "unlocked", n)
			}
		}
	}
}
