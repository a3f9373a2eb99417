package watchers

import (
	"context"
	"errors"
	"fmt"

	"github.com/depositd/depositd/chains"
)

// ErrInconsistent is a source answer that contradicts itself (headers not
// linked, a transfer tagged with another block hash): retried, never used.
var ErrInconsistent = errors.New("inconsistent source answer")

// walkWindow is how many canonical headers one walk-back request fetches.
const walkWindow = 32

// tip runs the tip tier up to latest: connect new headers with their
// matches as seen deposits, walk back on a parent mismatch, then announce
// confirmation counts.
func (w *Watcher) tip(ctx context.Context, latest, final uint64) error {
	if w.tracker == nil {
		if err := w.anchor(ctx, final); err != nil {
			return err
		}
	}
	for {
		tip, _ := w.tracker.Tip()
		from := max(tip.Number, w.scannedTip) + 1
		if from > latest {
			break
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		to := min(latest, from+w.cfg.MaxRange-1)
		if err := w.scanTip(ctx, tip, from, to, latest); err != nil {
			return err
		}
	}
	for _, u := range w.tracker.NotifyHeight(latest, final) {
		if u.Kind != Confirmed {
			continue // Final: the final tier credits it from its own immutable scan
		}
		d := depositOf(u.Match, StatusSeen, u.Confirmations, u.Required, w.clock.Now())
		if _, err := w.deposits.write(ctx, w.token, opConf, d, w.clock.Now()); err != nil {
			return err
		}
	}
	return nil
}

// anchor starts a fresh tracker at the newest produced block at or below
// the final marker.
func (w *Watcher) anchor(ctx context.Context, final uint64) error {
	lo := final - min(final, walkWindow)
	hs, err := w.src.Headers(ctx, lo, final)
	if err != nil {
		return fmt.Errorf("anchor headers [%d, %d]: %w", lo, final, err)
	}
	if len(hs) == 0 {
		return fmt.Errorf("anchor headers [%d, %d]: none produced: %w", lo, final, ErrInconsistent)
	}
	t := NewTracker(w.cfg.Required)
	if err := t.ConnectTip(hs[len(hs)-1], nil); err != nil {
		return err
	}
	t.NotifyHeight(final, final)
	w.tracker, w.scannedTip = t, hs[len(hs)-1].Number
	w.cache.reset(w.scannedTip + 1)
	return nil
}

// scanTip fetches [from, to], checks it, and connects it.
func (w *Watcher) scanTip(ctx context.Context, tip chains.Header, from, to, latest uint64) error {
	hs, err := w.linked(ctx, from, to)
	if err != nil {
		return fmt.Errorf("headers [%d, %d]: %w", from, to, err)
	}
	for i, h := range hs {
		if h.Number < from || h.Number > to || (i > 0 && (h.Number <= hs[i-1].Number || h.Parent != hs[i-1].Hash)) {
			return fmt.Errorf("headers [%d, %d]: %d %s parent %s out of order or unlinked: %w", from, to, h.Number, h.Hash, h.Parent, ErrInconsistent)
		}
	}
	if len(hs) > 0 && hs[0].Parent != tip.Hash {
		return w.walkBack(ctx)
	}
	ts, err := w.src.Transfers(ctx, from, to)
	if err != nil {
		return fmt.Errorf("transfers [%d, %d]: %w", from, to, err)
	}
	canon := make(map[uint64]string, len(hs))
	for _, h := range hs {
		canon[h.Number] = h.Hash
	}
	for _, t := range ts {
		if h, ok := canon[t.Block]; !ok || h != t.BlockHash {
			return fmt.Errorf("transfer %s in block %d %s, header says %q: %w", t.ID(), t.Block, t.BlockHash, h, ErrInconsistent)
		}
	}
	byBlock := map[uint64][]Match{}
	for _, m := range w.match(ts, false) {
		byBlock[m.Transfer.Block] = append(byBlock[m.Transfer.Block], m)
	}
	for _, h := range hs {
		// Records first: a failed write leaves h unconnected, so it is redone.
		for _, m := range byBlock[h.Number] {
			if err := w.recordSeen(ctx, m, latest); err != nil {
				return err
			}
		}
		if err := w.tracker.ConnectTip(h, byBlock[h.Number]); err != nil {
			return err
		}
	}
	w.scannedTip = to
	if w.cfg.ReuseTipReads {
		w.cache.add(from, to, ts)
	}
	if err := storeCursor(ctx, w.rdb, w.token, w.name, "cursor_tip", to); err != nil {
		return err
	}
	w.setStatus(func(s *ChainStatus) { s.Scanned = to })
	w.metrics.scanned.WithLabelValues(w.name).Set(float64(to))
	return nil
}

func (w *Watcher) recordSeen(ctx context.Context, m Match, latest uint64) error {
	now := w.clock.Now()
	c := min(confs(latest, m.Transfer.Block), w.cfg.Required)
	res, err := w.deposits.write(ctx, w.token, opSeen, depositOf(m, StatusSeen, c, w.cfg.Required, now), now)
	if err != nil {
		return err
	}
	if res == string(StatusSeen) {
		w.metrics.seen.WithLabelValues(w.name, m.Transfer.Token).Inc()
		if _, ok := w.seenAt[m.Transfer.ID()]; !ok {
			w.seenAt[m.Transfer.ID()] = now
		}
		w.log.Info("deposit seen", "id", m.Transfer.ID(), "account", m.Account, "block", m.Transfer.Block, "confirmations", c)
	}
	return nil
}

// walkBack disconnects tracker headers that are no longer canonical,
// newest first, orphaning their deposits, until the tip is canonical again
// (the common ancestor, chains.md §7). A walk past the final anchor halts
// the chain.
func (w *Watcher) walkBack(ctx context.Context) error {
	for {
		tip, _ := w.tracker.Tip()
		anchor, _ := w.tracker.Anchor()
		lo := max(anchor.Number, tip.Number-min(tip.Number, walkWindow-1))
		hs, err := w.linked(ctx, lo, tip.Number)
		if err != nil {
			return fmt.Errorf("walk back headers [%d, %d]: %w", lo, tip.Number, err)
		}
		canon := make(map[uint64]string, len(hs))
		for _, h := range hs {
			canon[h.Number] = h.Hash
		}
		for tip.Number >= lo {
			if canon[tip.Number] == tip.Hash {
				w.scannedTip = tip.Number
				w.cache.cut(tip.Number)
				w.log.Info("reorg resolved", "ancestor", tip.Number, "hash", tip.Hash)
				return nil
			}
			orphaned, err := w.tracker.DisconnectTip()
			if errors.Is(err, ErrReorgPastFinal) {
				return w.deepReorg(ctx, err)
			}
			if err != nil {
				return err
			}
			w.log.Warn("block left the canonical chain", "block", tip.Number, "hash", tip.Hash, "orphaned", len(orphaned))
			for _, m := range orphaned {
				if err := w.orphan(ctx, depositOf(m, StatusOrphaned, 0, w.cfg.Required, w.clock.Now())); err != nil {
					return err
				}
			}
			tip, _ = w.tracker.Tip()
		}
	}
}

// orphan marks a deposit whose block left the chain; a credited one
// becomes reversed instead (never debited).
func (w *Watcher) orphan(ctx context.Context, d Deposit) error {
	d.Status = StatusOrphaned
	res, err := w.deposits.write(ctx, w.token, opOrphan, d, w.clock.Now())
	if err != nil {
		return err
	}
	delete(w.seenAt, d.ID)
	switch Status(res) {
	case StatusOrphaned:
		w.metrics.orphaned.WithLabelValues(w.name, d.Token).Inc()
		w.log.Warn("deposit orphaned", "id", d.ID, "account", d.Account, "block", d.Block)
	case StatusReversed:
		w.reversed(d.ID, d.Account, d.Token, d.Block)
	}
	return nil
}

func (w *Watcher) reversed(id, account, token string, block uint64) {
	w.metrics.reversed.WithLabelValues(w.name, token).Inc()
	w.log.Error("credited deposit is not canonical: flagged reversed, operator action needed",
		"id", id, "account", account, "block", block)
}
