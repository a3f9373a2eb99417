package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// completion is an attempt's outcome waiting to be recorded.
type completion struct {
	j   job
	out outcome
}

// runRecorder records outcomes in batches, one pipeline each, until in
// is closed and drained.
func (d *Dispatcher) runRecorder(ctx context.Context, in <-chan completion) {
	for c := range in {
		batch := []completion{c}
	fill:
		for len(batch) < claimBatch {
			select {
			case c, ok := <-in:
				if !ok {
					break fill
				}
				batch = append(batch, c)
			default:
				break fill
			}
		}
		d.record(ctx, batch)
	}
}

// record stores outcomes under their leases, retrying while Redis is
// briefly away (a restart). Shutdown does not cut it short: the requests
// were made, so their records matter. An outcome whose lease was lost is
// dropped: the new holder's attempt is the one recorded.
func (d *Dispatcher) record(ctx context.Context, batch []completion) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	calls := make([]scriptCall, len(batch))
	ids := make([]string, len(batch))
	for i, c := range batch {
		calls[i], ids[i] = d.completeCall(c), c.j.id
	}
	var b backoff
	for retried := false; ; retried = true {
		res, err := evalBatch(rctx, d.rdb, completeScript, calls)
		var again []scriptCall
		var againIDs []string
		for i, r := range res {
			ok, rerr := r.Int()
			switch {
			case rerr != nil:
				again, againIDs = append(again, calls[i]), append(againIDs, ids[i])
			case ok == 0 && !retried: // after a retry, 0 may be our own earlier success
				d.log.Warn("webhook lease lost before the outcome was recorded", "delivery", ids[i])
			}
		}
		if err == nil && len(again) == 0 {
			return
		}
		d.log.Warn("webhook record outcomes", "pending", len(again), "err", err)
		if !b.wait(rctx) {
			return // the leases expire and the deliveries are sent again
		}
		if len(again) > 0 {
			calls, ids = again, againIDs
		}
	}
}

func (d *Dispatcher) completeCall(c completion) scriptCall {
	j, out := c.j, c.out
	attemptJSON := ""
	if out.attempt != nil {
		b, _ := json.Marshal(out.attempt) // an Attempt always marshals
		attemptJSON = string(b)
	}
	nextAt := ""
	if !out.nextAt.IsZero() {
		nextAt = strconv.FormatInt(out.nextAt.UnixMilli(), 10)
	}
	disable := "0"
	if out.disable {
		disable = "1"
	}
	return scriptCall{
		keys: []string{d.k.delivery(j.id), d.k.attempts(j.id), d.k.due(), d.k.disabled(),
			d.k.index(j.status, ""), d.k.index(j.status, j.endpoint),
			d.k.index(out.status, ""), d.k.index(out.status, j.endpoint),
			d.k.index(StatusPending, ""), d.k.index(StatusPending, j.endpoint)},
		args: []any{j.token, d.o.Now().UnixMilli(), out.status, out.n, nextAt, attemptJSON, disable, j.endpoint},
	}
}

// release hands an unused lease back.
func (d *Dispatcher) release(j job) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := releaseScript.Run(ctx, d.rdb, []string{d.k.delivery(j.id), d.k.due()},
		j.token, d.o.Now().UnixMilli()).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		d.log.Warn("webhook release lease", "delivery", j.id, "err", err)
	}
}

// scriptCall is one invocation of a script.
type scriptCall struct {
	keys []string
	args []any
}

// evalBatch runs a script once per call in one pipeline by its SHA,
// loading it first when Redis has lost it (a restart). It returns one
// command per call; err is the first failure, if any.
func evalBatch(ctx context.Context, rdb redis.UniversalClient, s *redis.Script, calls []scriptCall) ([]*redis.Cmd, error) {
	for loaded := false; ; loaded = true {
		pipe := rdb.Pipeline()
		cmds := make([]*redis.Cmd, len(calls))
		for i, c := range calls {
			cmds[i] = s.EvalSha(ctx, pipe, c.keys, c.args...)
		}
		_, err := pipe.Exec(ctx)
		if err != nil && !loaded && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			if lerr := s.Load(ctx, rdb).Err(); lerr != nil {
				return cmds, lerr
			}
			continue
		}
		return cmds, err
	}
}
