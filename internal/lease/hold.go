package lease

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// Reasons a term ends, the values of depositd_lease_lost_total's reason.
const (
	ReasonTaken    = "taken"    // renewal refused: the lease expired and another took it
	ReasonDeadline = "deadline" // no renewal landed before the safety margin
	ReasonWork     = "work"     // work returned (e.g. a write refused by the fence)
	ReasonFence    = "fence"    // a fence copy was already above the new token
	ReasonShutdown = "shutdown" // the process is stopping
)

// hold runs one term: raise the fences, run work, renew every TTL/3 and
// end the term (cancel work and wait for it) on the first of: renewal
// refused, deadline reached, work returned, ctx done.
func (l *Lease) hold(ctx context.Context, tok int64, takeover bool, deadline time.Time, work func(context.Context, int64) error) {
	m, name := l.cfg.Metrics, l.cfg.Name
	m.acquired.WithLabelValues(name).Inc()
	if takeover {
		m.takeovers.WithLabelValues(name).Inc()
	}
	rctx, rcancel := context.WithDeadline(ctx, deadline)
	err := l.raise(rctx, tok)
	rcancel()
	if err != nil {
		l.end(tok, ReasonFence, err)
		l.release(tok)
		return
	}
	l.log.Info("lease acquired", "token", tok, "takeover", takeover, "ttl", l.cfg.TTL)
	m.held.WithLabelValues(name).Set(1)
	m.token.WithLabelValues(name).Set(float64(tok))
	defer m.held.WithLabelValues(name).Set(0)

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- work(wctx, tok) }()
	stop := func(reason string, err error) {
		cancel()
		<-done
		l.end(tok, reason, err)
	}
	val := l.cfg.Holder + " " + strconv.FormatInt(tok, 10)
	stopAt := time.NewTimer(time.Until(deadline))
	defer stopAt.Stop()
	renew := time.NewTimer(l.cfg.TTL / 3)
	defer renew.Stop()
	for {
		select {
		case <-ctx.Done():
			stop(ReasonShutdown, nil)
			l.release(tok)
			return
		case err := <-done:
			l.end(tok, ReasonWork, err)
			l.release(tok)
			return
		case <-stopAt.C:
			stop(ReasonDeadline, nil)
			return
		case <-renew.C:
			sent := time.Now()
			ok, err := l.renew(ctx, val, deadline)
			switch {
			case err != nil:
				l.log.Warn("lease renew", "token", tok, "err", err, "stops_in", time.Until(deadline).Round(time.Millisecond))
				renew.Reset(l.cfg.TTL / 12)
			case !ok:
				stop(ReasonTaken, nil)
				return
			default:
				deadline = sent.Add(l.cfg.TTL - l.margin())
				stopAt.Reset(time.Until(deadline))
				renew.Reset(l.cfg.TTL / 3)
			}
		}
	}
}

// renew extends the term; the attempt gives up at the term's deadline.
func (l *Lease) renew(ctx context.Context, val string, deadline time.Time) (bool, error) {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	n, err := renewScript.Run(ctx, l.rdb, []string{l.key("holder")}, val, l.cfg.TTL.Milliseconds()).Int()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// end logs and counts the end of a term.
func (l *Lease) end(tok int64, reason string, err error) {
	l.cfg.Metrics.lost.WithLabelValues(l.cfg.Name, reason).Inc()
	args := []any{"token", tok, "reason", reason}
	if err != nil && !errors.Is(err, context.Canceled) {
		args = append(args, "err", err)
	}
	if reason == ReasonShutdown {
		l.log.Info("lease released", args...)
		return
	}
	l.log.Warn("lease lost", args...)
}
