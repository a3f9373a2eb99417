package addressbook

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Load reads the addrlog stream from the current position to its end, in
// pages, and applies every entry. Call it once before the watchers start so
// they see every address; Run calls it too if it was not called. Malformed
// entries are logged as errors and skipped.
func (x *Index) Load(ctx context.Context) error {
	for {
		msgs, err := x.rdb.XRangeN(ctx, LogStream, "("+x.position(), "+", x.opts.Page).Result()
		if err != nil {
			return fmt.Errorf("load address index: %w", err)
		}
		if len(msgs) == 0 {
			x.mu.Lock()
			x.loaded = true
			x.mu.Unlock()
			return nil
		}
		x.applyMessages(msgs)
	}
}

// Run loads the index if needed, then tails the addrlog stream (XREAD
// BLOCK) and applies new entries as they arrive, so an address registered
// through the API is matched without a restart. Redis errors are logged and
// retried with a doubling backoff. It returns ctx.Err() once ctx is done
// (within one IndexOptions.Block of cancellation).
func (x *Index) Run(ctx context.Context) error {
	backoff := x.opts.BackoffMin
	for {
		err := x.step(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			backoff = x.opts.BackoffMin
			continue
		}
		x.opts.Logger.Warn("address index: redis", "err", err, "retry_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, x.opts.BackoffMax)
	}
}

// step loads the index if it is not loaded yet, else waits up to Block for
// new entries and applies them.
func (x *Index) step(ctx context.Context) error {
	x.mu.RLock()
	loaded := x.loaded
	x.mu.RUnlock()
	if !loaded {
		return x.Load(ctx)
	}
	res, err := x.rdb.XRead(ctx, &redis.XReadArgs{
		Streams: []string{LogStream, x.position()},
		Count:   x.opts.Page,
		Block:   x.opts.Block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil // nothing new within Block
	}
	if err != nil {
		return fmt.Errorf("tail %s: %w", LogStream, err)
	}
	for _, s := range res {
		x.applyMessages(s.Messages)
	}
	return nil
}

func (x *Index) position() string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.last
}

func (x *Index) applyMessages(msgs []redis.XMessage) {
	recs := make([]record, 0, len(msgs))
	for _, m := range msgs {
		e, err := parseEntry(m.Values)
		if err == nil {
			var r record
			if r, err = x.toRecord(e); err == nil {
				recs = append(recs, r)
				continue
			}
		}
		x.opts.Logger.Error("address index: malformed addrlog entry skipped", "id", m.ID, "err", err)
	}
	x.apply(recs, msgs[len(msgs)-1].ID)
}
