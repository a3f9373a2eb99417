package webhooks

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotFound is returned for an unknown delivery id.
var ErrNotFound = errors.New("webhook delivery not found")

// ErrBadFilter is matched by the errors of a malformed listing or
// redelivery request (status, endpoint name, limit, cursor).
var ErrBadFilter = errors.New("bad filter")

// Filter selects deliveries to list.
type Filter struct {
	Status   string // one of the Status* values; "" for any
	Endpoint string // endpoint name; "" for any
	Limit    int    // page size; 0 means 50, at most 500
	Cursor   string // from the previous page; "" for the first
}

// Deliveries lists deliveries newest event first, with their attempts,
// and returns the cursor of the next page ("" on the last). It reads only;
// bad filters are errors naming the field.
func (d *Dispatcher) Deliveries(ctx context.Context, f Filter) ([]Delivery, string, error) {
	if f.Status != "" && !slices.Contains(statuses, f.Status) {
		return nil, "", fmt.Errorf("%w: status %q: want one of %s", ErrBadFilter, f.Status, strings.Join(statuses, ", "))
	}
	if f.Endpoint != "" && !nameRE.MatchString(f.Endpoint) {
		return nil, "", fmt.Errorf("%w: endpoint %q: not a valid name", ErrBadFilter, f.Endpoint)
	}
	if f.Limit < 0 || f.Limit > 500 {
		return nil, "", fmt.Errorf("%w: limit %d: want 1 to 500", ErrBadFilter, f.Limit)
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	start := "+"
	if f.Cursor != "" {
		m, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err != nil || !strings.Contains(string(m), "|") {
			return nil, "", fmt.Errorf("%w: cursor: malformed", ErrBadFilter)
		}
		start = "(" + string(m)
	}
	members, err := d.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: d.k.index(f.Status, f.Endpoint), Start: start, Stop: "-",
		ByLex: true, Rev: true, Count: int64(f.Limit + 1),
	}).Result()
	if err != nil {
		return nil, "", fmt.Errorf("list deliveries: %w", err)
	}
	next := ""
	if len(members) > f.Limit {
		members = members[:f.Limit]
		next = base64.RawURLEncoding.EncodeToString([]byte(members[len(members)-1]))
	}
	ids := make([]string, len(members))
	for i, m := range members {
		_, ids[i], _ = strings.Cut(m, "|")
	}
	out, err := d.load(ctx, ids)
	return out, next, err
}

// Delivery returns one delivery with its attempts, or ErrNotFound.
func (d *Dispatcher) Delivery(ctx context.Context, id string) (Delivery, error) {
	out, err := d.load(ctx, []string{id})
	if err != nil {
		return Delivery{}, err
	}
	if len(out) == 0 {
		return Delivery{}, ErrNotFound
	}
	return out[0], nil
}

// load reads deliveries by id, skipping ids that do not exist.
func (d *Dispatcher) load(ctx context.Context, ids []string) ([]Delivery, error) {
	pipe := d.rdb.Pipeline()
	hs := make([]*redis.MapStringStringCmd, len(ids))
	as := make([]*redis.StringSliceCmd, len(ids))
	for i, id := range ids {
		hs[i] = pipe.HGetAll(ctx, d.k.delivery(id))
		as[i] = pipe.LRange(ctx, d.k.attempts(id), 0, -1)
	}
	if len(ids) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("load deliveries: %w", err)
		}
	}
	out := make([]Delivery, 0, len(ids))
	for i := range ids {
		h := hs[i].Val()
		if len(h) == 0 {
			continue
		}
		dl := Delivery{
			ID: h["id"], EventID: h["event_id"], EventType: h["event_type"],
			Endpoint: h["endpoint"], Status: h["status"],
			CreatedAt: msTime(h["created"]), UpdatedAt: msTime(h["updated"]), NextAt: msTime(h["next_at"]),
			Attempts: make([]Attempt, 0, len(as[i].Val())),
		}
		for _, raw := range as[i].Val() {
			var a Attempt
			if err := json.Unmarshal([]byte(raw), &a); err != nil {
				return nil, fmt.Errorf("delivery %s: attempt record: %w", dl.ID, err)
			}
			dl.Attempts = append(dl.Attempts, a)
		}
		out = append(out, dl)
	}
	return out, nil
}

func msTime(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// Redeliver queues a delivery again, whatever its status, with a fresh
// schedule, and re-enables its endpoint if a 410 had disabled it. If the
// delivery is being attempted right now it is queued once that attempt
// ends. Returns ErrNotFound for an unknown id. Idempotent while the
// delivery is still pending.
func (d *Dispatcher) Redeliver(ctx context.Context, id string) error {
	ep, err := d.rdb.HGet(ctx, d.k.delivery(id), "endpoint").Result()
	if errors.Is(err, redis.Nil) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("redeliver %s: %w", id, err)
	}
	keys := append([]string{d.k.delivery(id), d.k.due(), d.k.disabled()}, d.k.statusIndexes(ep)...)
	r, err := redeliverScript.Run(ctx, d.rdb, keys, d.o.Now().UnixMilli(), ep).Int()
	if err != nil {
		return fmt.Errorf("redeliver %s: %w", id, err)
	}
	if r < 0 {
		return ErrNotFound
	}
	d.signal()
	return nil
}

// RedeliverFailed redelivers every delivery of an endpoint whose event is
// at or after since (the zero time: any) and whose status is failed, dead
// or disabled, and returns how many it queued. A malformed endpoint name
// is an ErrBadFilter error.
func (d *Dispatcher) RedeliverFailed(ctx context.Context, endpoint string, since time.Time) (int, error) {
	if !nameRE.MatchString(endpoint) {
		return 0, fmt.Errorf("%w: endpoint %q: not a valid name", ErrBadFilter, endpoint)
	}
	if _, ok := d.eps[endpoint]; !ok {
		return 0, fmt.Errorf("endpoint %q is not configured: %w", endpoint, ErrNotFound)
	}
	from := "-" // the zero time: every delivery
	if !since.IsZero() {
		from = "[" + member(since, "")
	}
	var ids []string
	for _, s := range []string{StatusFailed, StatusDead, StatusDisabled} {
		members, err := d.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
			Key: d.k.index(s, endpoint), Start: from, Stop: "+", ByLex: true,
		}).Result()
		if err != nil {
			return 0, fmt.Errorf("redeliver failed %s: %w", endpoint, err)
		}
		for _, m := range members {
			_, id, _ := strings.Cut(m, "|")
			ids = append(ids, id)
		}
	}
	n := 0
	for _, id := range ids {
		err := d.Redeliver(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
