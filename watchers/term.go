package watchers

import (
	"context"
	"errors"
	"time"
)

// RunTerm runs the watcher for one lease term with the term's fencing
// token: it forgets everything the previous term knew (cursors, the tip
// tracker and its cache, recently credited deposits), so the term starts
// from what Redis holds once the lease has fenced the chain, then runs Run.
// Terms must not overlap.
func (w *Watcher) RunTerm(ctx context.Context, token int64) error {
	w.token = token
	w.tracker, w.scannedTip, w.cache = nil, 0, tipCache{}
	w.cursorFinal, w.haveCursor = 0, false
	w.progress = progress{}
	w.recent, w.seenAt = nil, map[string]time.Time{}
	return w.Run(ctx)
}

// fenced reports whether err is a write refused by the chain's fence, and
// counts and logs it: this process no longer owns the chain.
func (w *Watcher) fenced(err error) bool {
	if !errors.Is(err, ErrStaleFence) {
		return false
	}
	w.metrics.fenced.WithLabelValues(w.name).Inc()
	w.log.Error("write refused by the chain's fence: another process holds the chain; stopping", "token", w.token, "err", err)
	return true
}
