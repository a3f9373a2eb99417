package webhooks

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// pruneScript removes one finished delivery, its attempts and index
// entries, and the event body once no delivery of the event remains.
//
// KEYS: hash, attempts, ix:<status>, ix:<status>:<ep>, ix:, ix::<ep>,
// event body, then the hashes of the event's other deliveries.
// ARGV: index member, the status the delivery must still have.
// Returns 1 when removed (or already gone), 0 when its status changed
// meanwhile.
var pruneScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'status')
if st and st ~= ARGV[2] then return 0 end
local keep = false
for i = 8, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then keep = true end
end
redis.call('DEL', KEYS[1], KEYS[2])
for i = 3, 6 do redis.call('ZREM', KEYS[i], ARGV[1]) end
if not keep then redis.call('DEL', KEYS[7]) end
return 1
`)

// Prune removes delivered and dead deliveries whose event is older than
// before, with their attempts and, when no delivery of the event is left,
// the event body. It returns how many it removed. Safe to run from several
// processes at once. A pruned delivery is forgotten: were its outbox entry
// read again later, it would be delivered again, so keep the retention far
// longer than Options.ClaimIdle.
func (d *Dispatcher) Prune(ctx context.Context, before time.Time) (int, error) {
	removed := 0
	for _, status := range []string{StatusDelivered, StatusDead} {
		for {
			members, err := d.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
				Key: d.k.index(status, ""), Start: "-", Stop: "(" + member(before, ""),
				ByLex: true, Count: claimBatch,
			}).Result()
			if err != nil {
				return removed, fmt.Errorf("prune %s: %w", status, err)
			}
			if len(members) == 0 {
				break
			}
			calls, err := d.pruneCalls(ctx, status, members)
			if err != nil {
				return removed, err
			}
			cmds, err := evalBatch(ctx, d.rdb, pruneScript, calls)
			if err != nil {
				return removed, fmt.Errorf("prune %s: %w", status, err)
			}
			n := 0
			for _, c := range cmds {
				if v, _ := c.Int(); v == 1 {
					n++
				}
			}
			removed += n
			if n == 0 {
				break // every candidate changed status meanwhile
			}
		}
	}
	return removed, nil
}

func (d *Dispatcher) pruneCalls(ctx context.Context, status string, members []string) ([]scriptCall, error) {
	pipe := d.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(members))
	for i, m := range members {
		_, id, _ := strings.Cut(m, "|")
		cmds[i] = pipe.HMGet(ctx, d.k.delivery(id), "event_id", "endpoint")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("prune: %w", err)
	}
	calls := make([]scriptCall, 0, len(members))
	for i, m := range members {
		_, id, _ := strings.Cut(m, "|")
		f := cmds[i].Val()
		ev, _ := f[0].(string)
		ep, _ := f[1].(string)
		c := scriptCall{
			keys: []string{d.k.delivery(id), d.k.attempts(id), d.k.index(status, ""), d.k.index(status, ep),
				d.k.index("", ""), d.k.index("", ep), d.k.event(ev)},
			args: []any{m, status},
		}
		for _, other := range d.order {
			if other.Name != ep {
				c.keys = append(c.keys, d.k.delivery(DeliveryID(ev, other.Name)))
			}
		}
		calls = append(calls, c)
	}
	return calls, nil
}

// runPrune prunes finished deliveries older than Options.Retention every
// Options.PruneEvery until ctx is done.
func (d *Dispatcher) runPrune(ctx context.Context) error {
	t := time.NewTicker(d.o.PruneEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		n, err := d.Prune(ctx, d.o.Now().Add(-d.o.Retention))
		if err != nil && ctx.Err() == nil {
			d.log.Warn("webhook prune", "err", err)
		} else if n > 0 {
			d.log.Info("webhook deliveries pruned", "removed", n)
		}
	}
}
