package watchers

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/depositd/depositd/chains"
)

// finalTier credits every deposit in (cursor_final, final], range by range:
// credit each through the Crediter, mark it credited, orphan the seen
// deposits of the range that the canonical chain does not hold, and only
// then advance cursor_final. Final ranges are immutable: no reorg logic.
// The next range's transfers are read while the current range is credited;
// a failure discards that read, so the cursor never passes a range that was
// not credited.
func (w *Watcher) finalTier(ctx context.Context, final uint64) error {
	if w.cursorFinal >= final {
		return nil
	}
	w.progress.start(w.cursorFinal, final, w.clock.Now(), w.cfg.MaxRange)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := w.fetch(ctx, w.cursorFinal+1, final)
	for w.cursorFinal < final {
		r := <-next
		if r.err != nil {
			return r.err
		}
		if r.to < final {
			next = w.fetch(ctx, r.to+1, final)
		}
		if err := w.creditRange(ctx, r.from, r.to, r.ts); err != nil {
			return err
		}
		w.cursorFinal = r.to
		w.setStatus(func(s *ChainStatus) { s.Final = r.to })
		w.metrics.final.WithLabelValues(w.name).Set(float64(r.to))
		if msg, ok := w.progress.step(r.to, w.clock.Now(), w.cfg.ProgressEvery); ok {
			w.log.Info("backfill", msg...)
		}
	}
	w.pruneRecent()
	return nil
}

// fetched is one final range's transfers (or why they could not be read).
type fetched struct {
	from, to uint64
	ts       []chains.Transfer
	err      error
}

// fetch starts reading the final range starting at from (at most MaxRange
// blocks, not past final): from the tip cache when it covers the range,
// else from the source in the background.
func (w *Watcher) fetch(ctx context.Context, from, final uint64) <-chan fetched {
	to := min(final, from+w.cfg.MaxRange-1)
	ch := make(chan fetched, 1)
	if ts, ok := w.cache.take(from, to); ok {
		ch <- fetched{from: from, to: to, ts: ts}
		return ch
	}
	go func() {
		r := fetched{from: from, to: to}
		if err := ctx.Err(); err != nil {
			r.err = err
		} else if r.ts, r.err = w.src.Transfers(ctx, from, to); r.err != nil {
			r.err = fmt.Errorf("transfers [%d, %d]: %w", from, to, r.err)
		}
		ch <- r
	}()
	return ch
}

func (w *Watcher) creditRange(ctx context.Context, from, to uint64, ts []chains.Transfer) error {
	for _, t := range ts {
		if t.Block < from || t.Block > to {
			return fmt.Errorf("transfer %s in block %d outside [%d, %d]: %w", t.ID(), t.Block, from, to, ErrInconsistent)
		}
	}
	ms := w.match(ts, true)
	if err := w.creditAll(ctx, ms); err != nil {
		return err
	}
	if err := w.recordCredits(ctx, ms); err != nil {
		return err
	}
	if err := w.orphanStale(ctx, to); err != nil {
		return err
	}
	return storeCursor(ctx, w.rdb, w.token, w.name, "cursor_final", to)
}

// creditAll credits ms through the Crediter: in one call when it is a
// BatchCrediter, else a few at once (each is idempotent on its id, and a
// durable Redis groups the fsyncs of concurrent steps).
func (w *Watcher) creditAll(ctx context.Context, ms []Match) error {
	if bc, ok := w.crediter.(BatchCrediter); ok && len(ms) > 1 {
		ts, accts := make([]chains.Transfer, len(ms)), make([]string, len(ms))
		for i, m := range ms {
			ts[i], accts[i] = m.Transfer, m.Account
		}
		errs := bc.CreditBatch(ctx, ts, accts)
		if len(errs) != len(ms) {
			return fmt.Errorf("credit batch: %d results for %d deposits", len(errs), len(ms))
		}
		for i, err := range errs {
			if err != nil {
				return fmt.Errorf("credit %s: %w", ms[i].Transfer.ID(), err)
			}
		}
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(w.cfg.CreditConcurrency)
	for _, m := range ms {
		g.Go(func() error {
			if err := w.crediter.Credit(gctx, m.Transfer, m.Account); err != nil {
				return fmt.Errorf("credit %s: %w", m.Transfer.ID(), err)
			}
			return nil
		})
	}
	return g.Wait()
}

// recordCredits marks the credited deposits' records credited, in one
// pipeline, and counts and logs the first-time ones.
func (w *Watcher) recordCredits(ctx context.Context, ms []Match) error {
	if len(ms) == 0 {
		return nil
	}
	now := w.clock.Now()
	ds := make([]Deposit, len(ms))
	for i, m := range ms {
		ds[i] = depositOf(m, StatusCredited, w.cfg.Required, w.cfg.Required, now)
		ds[i].CreditedAt = &now
	}
	res, err := w.deposits.writeMany(ctx, w.token, opCredit, ds, now)
	if err != nil {
		return err
	}
	w.recent = append(w.recent, ds...)
	for i, d := range ds {
		at, seen := w.seenAt[d.ID]
		delete(w.seenAt, d.ID)
		if res[i] != string(StatusCredited) {
			continue // credited before (a re-scan)
		}
		tok := d.Token
		w.metrics.credited.WithLabelValues(w.name, tok).Inc()
		amt, _ := new(big.Float).SetInt(ms[i].Transfer.Amount).Float64()
		w.metrics.amountTotal.WithLabelValues(w.name, tok).Add(amt)
		if seen {
			w.metrics.creditDelay.WithLabelValues(w.name).Observe(now.Sub(at).Seconds())
		}
		w.log.Info("deposit credited", "id", d.ID, "account", d.Account, "token", tok, "amount", d.Amount, "block", d.Block)
	}
	return nil
}

// orphanStale orphans seen deposits in blocks ≤ to that the final scan did
// not credit: their block is not canonical. This also repairs what the tip
// tier missed while the process was down.
func (w *Watcher) orphanStale(ctx context.Context, to uint64) error {
	stale, err := w.deposits.pendingUpTo(ctx, w.name, to)
	if err != nil {
		return err
	}
	for _, d := range stale {
		if err := w.orphan(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

func (w *Watcher) pruneRecent() {
	keep := w.recent[:0]
	for _, d := range w.recent {
		if d.Block+w.cfg.Retain > w.cursorFinal {
			keep = append(keep, d)
		}
	}
	w.recent = keep
}

// deepReorg handles a reorg that reaches at or below the final marker: the
// chain broke its own finality. Recently credited deposits whose block hash
// is no longer canonical are flagged reversed; the chain is paused for an
// operator and the tracker dropped.
func (w *Watcher) deepReorg(ctx context.Context, cause error) error {
	w.log.Error("reorg past the final marker: pausing chain", "err", cause)
	w.tracker = nil
	if err := Pause(ctx, w.rdb, w.name, "reorg past final marker: "+cause.Error()); err != nil {
		return err
	}
	if len(w.recent) > 0 {
		lo, hi := w.recent[0].Block, w.recent[0].Block
		for _, d := range w.recent {
			lo, hi = min(lo, d.Block), max(hi, d.Block)
		}
		hs, err := w.src.Headers(ctx, lo, hi)
		if err != nil {
			return fmt.Errorf("%w; re-check headers [%d, %d]: %w", cause, lo, hi, err)
		}
		canon := make(map[uint64]string, len(hs))
		for _, h := range hs {
			canon[h.Number] = h.Hash
		}
		for _, d := range w.recent {
			if canon[d.Block] == d.BlockHash {
				continue
			}
			now := w.clock.Now()
			d.Status = StatusReversed
			res, err := w.deposits.write(ctx, w.token, opReverse, d, now)
			if err != nil {
				return fmt.Errorf("%w; %w", cause, err)
			}
			if res == string(StatusReversed) {
				w.reversed(d.ID, d.Account, d.Token, d.Block)
			}
		}
	}
	return cause
}

// progress reports a long final-tier catch-up (a backfill): blocks/s and ETA.
type progress struct {
	target, startBlock uint64
	startAt, lastLog   time.Time
	active             bool
}

func (p *progress) start(cursor, target uint64, now time.Time, maxRange uint64) {
	p.target = target
	if p.active || target-cursor <= maxRange {
		return
	}
	*p = progress{target: target, startBlock: cursor, startAt: now, lastLog: now, active: true}
}

// step returns log attributes when a progress line is due.
func (p *progress) step(block uint64, now time.Time, every time.Duration) ([]any, bool) {
	if !p.active {
		return nil, false
	}
	done := block >= p.target
	if !done && now.Sub(p.lastLog) < every {
		return nil, false
	}
	p.lastLog = now
	p.active = !done
	elapsed := now.Sub(p.startAt).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(block-p.startBlock) / elapsed
	}
	eta := time.Duration(0)
	if rate > 0 {
		eta = time.Duration(float64(p.target-block) / rate * float64(time.Second))
	}
	return []any{"block", block, "target", p.target, "blocks_per_s", rate, "eta", eta.Round(time.Second), "done", done}, true
}
