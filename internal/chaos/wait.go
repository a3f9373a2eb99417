package chaos

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/outbox"
	"github.com/depositd/depositd/watchers"
)

// poll calls cond every 200 ms until it reports done, ctx ends or limit
// passes; the error names what was still missing.
func poll(ctx context.Context, limit time.Duration, cond func() (bool, string)) error {
	deadline := time.Now().Add(limit)
	for {
		ok, why := cond()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("after %s: %s", limit, why)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitWatching waits until every chain's watcher has published a status.
func waitWatching(ctx context.Context, rdb redis.UniversalClient, limit time.Duration) error {
	return poll(ctx, limit, func() (bool, string) {
		for _, c := range chainNames {
			st, err := watchers.LoadStatus(ctx, rdb, c)
			if err != nil || st.UpdatedAt.IsZero() || st.Final == 0 {
				return false, "chain " + c + " has no watcher status yet"
			}
		}
		return true, ""
	})
}

// finalMarks are, per chain, the final block the checker reads up to.
type finalMarks map[string]uint64

// final is the chain's own final block now (the node's truth, not the
// watcher's view).
func (n *nets) final(ctx context.Context, c int) (head, final uint64, err error) {
	switch c {
	case 0, 1:
		h, _, err := n.evm[c].chain.Head(ctx)
		if err != nil {
			return 0, 0, err
		}
		f := uint64(0)
		if h > 0 {
			f = (h - 1) / 32 * 32
			if h%32 == 0 {
				f = h
			}
		}
		return h, f, nil
	case 2:
		return n.tron.node.Head(), n.tron.node.Solid(), nil
	default:
		h, f := n.sol.node.Slot()
		return h, f, nil
	}
}

// quiesce waits until every block that held a deposit when the faults
// stopped is final on its chain (the miners keep running), then until the
// watchers' final cursors reach that final block; it returns the blocks.
func quiesce(ctx context.Context, n *nets, rdb redis.UniversalClient, limit time.Duration) (finalMarks, error) {
	marks := finalMarks{}
	for c, name := range chainNames {
		head, _, err := n.final(ctx, c)
		if err != nil {
			return nil, err
		}
		err = poll(ctx, limit, func() (bool, string) {
			_, f, err := n.final(ctx, c)
			if err != nil {
				return false, err.Error()
			}
			marks[name] = f
			return f >= head+1, fmt.Sprintf("%s final %d below the head %d at the end of the faults", name, f, head)
		})
		if err != nil {
			return nil, err
		}
	}
	err := poll(ctx, limit, func() (bool, string) {
		for _, name := range chainNames {
			v, err := rdb.Get(ctx, "chain:"+name+":cursor_final").Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				return false, err.Error()
			}
			got, _ := strconv.ParseUint(v, 10, 64)
			if got < marks[name] {
				return false, fmt.Sprintf("%s final cursor %d below the chain's final %d", name, got, marks[name])
			}
		}
		return true, ""
	})
	return marks, err
}

// deliveryKey is the webhook dispatcher's index of deliveries in a status.
func deliveryKey(status string) string { return "{wh}:ix:" + status }

// waitWebhooks waits until every outbox event has a delivery and none is
// pending or failed (awaiting a retry): each ended delivered or dead.
func waitWebhooks(ctx context.Context, rdb redis.UniversalClient, limit time.Duration) error {
	return poll(ctx, limit, func() (bool, string) {
		events := int64(0)
		for _, s := range outbox.Streams() {
			k, err := rdb.XLen(ctx, s).Result()
			if err != nil {
				return false, err.Error()
			}
			events += k
		}
		var n [3]int64
		for i, st := range []string{"", "pending", "failed"} {
			k, err := rdb.ZCard(ctx, deliveryKey(st)).Result()
			if err != nil {
				return false, err.Error()
			}
			n[i] = k
		}
		return n[0] == events && n[1] == 0 && n[2] == 0,
			fmt.Sprintf("%d events, %d deliveries, %d pending, %d failed", events, n[0], n[1], n[2])
	})
}
