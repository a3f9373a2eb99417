package watchers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Chain state keys, one set per chain name:
//
//	chain:<name>:cursor_final  newest block the final tier has credited
//	chain:<name>:cursor_tip    newest block the tip tier has scanned
//	chain:<name>:paused        present = paused (value: reason)
//	chain:<name>:status        hash: the last ChainStatus, for other processes
func chainKey(name, what string) string { return "chain:" + name + ":" + what }

// ChainStatus is a chain's scan state for the API and ops page.
type ChainStatus struct {
	Name      string    `json:"name"`
	Head      uint64    `json:"head"`    // latest block reported by the chain
	Scanned   uint64    `json:"scanned"` // newest block scanned by the tip tier
	Final     uint64    `json:"final"`   // newest block credited by the final tier
	Lag       uint64    `json:"lag"`     // Head − Scanned
	Paused    bool      `json:"paused"`
	LastError string    `json:"last_error,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Pause stops scanning and crediting chain name in every process sharing
// rdb (watchers keep polling heads). Idempotent.
func Pause(ctx context.Context, rdb redis.UniversalClient, name, reason string) error {
	if reason == "" {
		reason = "paused by operator"
	}
	if err := rdb.Set(ctx, chainKey(name, "paused"), reason, 0).Err(); err != nil {
		return fmt.Errorf("pause %s: %w", name, err)
	}
	return nil
}

// Resume lets chain name scan and credit again. Idempotent.
func Resume(ctx context.Context, rdb redis.UniversalClient, name string) error {
	if err := rdb.Del(ctx, chainKey(name, "paused")).Err(); err != nil {
		return fmt.Errorf("resume %s: %w", name, err)
	}
	return nil
}

// LoadStatus reads the status last published by the watcher of chain name
// (in any process) and the current pause flag. A chain never scanned has a
// zero status with only Name (and Paused) set.
func LoadStatus(ctx context.Context, rdb redis.UniversalClient, name string) (ChainStatus, error) {
	m, err := rdb.HGetAll(ctx, chainKey(name, "status")).Result()
	if err != nil {
		return ChainStatus{}, fmt.Errorf("chain %s status: %w", name, err)
	}
	paused, err := rdb.Exists(ctx, chainKey(name, "paused")).Result()
	if err != nil {
		return ChainStatus{}, fmt.Errorf("chain %s status: %w", name, err)
	}
	st := ChainStatus{Name: name, Paused: paused == 1, LastError: m["last_error"]}
	if len(m) == 0 {
		return st, nil
	}
	var errs []error
	u := func(k string) uint64 {
		v, err := strconv.ParseUint(m[k], 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
		}
		return v
	}
	st.Head, st.Scanned, st.Final, st.Lag = u("head"), u("scanned"), u("final"), u("lag")
	if st.UpdatedAt, err = time.Parse(time.RFC3339Nano, m["updated_at"]); err != nil {
		errs = append(errs, fmt.Errorf("updated_at: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return ChainStatus{}, fmt.Errorf("chain %s status: %w", name, err)
	}
	return st, nil
}

func publishStatus(ctx context.Context, rdb redis.UniversalClient, token int64, st ChainStatus) error {
	err := fencedHSet(ctx, rdb, token, chainKey(st.Name, "status"),
		"head", st.Head, "scanned", st.Scanned, "final", st.Final, "lag", st.Lag,
		"last_error", st.LastError, "updated_at", st.UpdatedAt.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("chain %s publish status: %w", st.Name, err)
	}
	return nil
}

// loadCursor reads a stored cursor; ok is false when none is stored.
func loadCursor(ctx context.Context, rdb redis.UniversalClient, name, which string) (uint64, bool, error) {
	s, err := rdb.Get(ctx, chainKey(name, which)).Result()
	if errors.Is(err, redis.Nil) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("chain %s %s: %w", name, which, err)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("chain %s %s %q: %w", name, which, s, err)
	}
	return n, true, nil
}

func storeCursor(ctx context.Context, rdb redis.UniversalClient, token int64, name, which string, n uint64) error {
	if err := fencedSet(ctx, rdb, token, chainKey(name, which), n); err != nil {
		return fmt.Errorf("chain %s %s: %w", name, which, err)
	}
	return nil
}
