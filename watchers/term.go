package watchers

import (
	"context"
	"time"
)

// RunTerm runs the watcher for one lease term with the term's fencing
// token: it forgets everything the previous term knew (cursors, the tip
// tracker, recently credited deposits), so the term starts from what
// Redis holds once the lease has fenced the chain, then runs Run. Terms
// must not overlap.
func (w *Watcher) RunTerm(ctx context.Context, token int64) error {
	w.token = token
	w.tracker, w.scannedTip = nil, 0
	w.cursorFinal, w.haveCursor = 0, false
	w.progress = progress{}
	w.creditMu.Lock()
	w.recent, w.seenAt = nil, map[string]time.Time{}
	w.creditMu.Unlock()
	return w.Run(ctx)
}
