package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/outbox"
)

// readStream turns one outbox stream's entries into deliveries. It first
// re-reads the entries this consumer left unacknowledged, then reads new
// ones, and periodically takes over entries other consumers left idle
// longer than ClaimIdle. An entry is acknowledged only after its
// deliveries are stored, so a crash between the two re-reads it, and the
// deterministic delivery ids make that harmless.
func (d *Dispatcher) readStream(ctx context.Context, stream string) error {
	var b backoff
	claimTick := time.NewTicker(max(d.o.ClaimIdle/2, 10*time.Millisecond))
	defer claimTick.Stop()
	haveGroup, ownPendingRead := false, false
	claimFrom := "0-0"
	for ctx.Err() == nil {
		if !haveGroup {
			if err := d.ensureGroup(ctx, stream); err != nil {
				d.log.Warn("webhook consumer group", "stream", stream, "err", err)
				b.wait(ctx)
				continue
			}
			haveGroup = true
		}
		var msgs []redis.XMessage
		var err error
		select {
		case <-claimTick.C:
			msgs, claimFrom, err = d.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
				Stream: stream, Group: d.o.Group, Consumer: d.o.Consumer,
				MinIdle: d.o.ClaimIdle, Start: claimFrom, Count: claimBatch,
			}).Result()
			if err != nil {
				claimFrom = "0-0"
			}
		default:
			if !ownPendingRead {
				msgs, err = d.read(ctx, stream, "0", -1)
				ownPendingRead = err == nil && len(msgs) == 0
			} else {
				msgs, err = d.read(ctx, stream, ">", d.o.ReadBlock)
			}
		}
		if errors.Is(err, redis.Nil) {
			continue // the block timed out
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if strings.HasPrefix(err.Error(), "NOGROUP") {
				haveGroup, ownPendingRead = false, false
			}
			d.log.Warn("webhook outbox read", "stream", stream, "err", err)
			b.wait(ctx)
			continue
		}
		if err := d.store(ctx, stream, msgs); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			ownPendingRead = false // they stay pending: read them again
			d.log.Warn("webhook enqueue", "stream", stream, "err", err)
			b.wait(ctx)
			continue
		}
		b.reset()
	}
	return nil
}

// ensureGroup creates the consumer group at the stream's start, so events
// written before the first dispatcher ran are delivered too.
func (d *Dispatcher) ensureGroup(ctx context.Context, stream string) error {
	err := d.rdb.XGroupCreateMkStream(ctx, stream, d.o.Group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return err
	}
	return nil
}

func (d *Dispatcher) read(ctx context.Context, stream, from string, block time.Duration) ([]redis.XMessage, error) {
	res, err := d.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: d.o.Group, Consumer: d.o.Consumer, Streams: []string{stream, from},
		Count: claimBatch, Block: block,
	}).Result()
	if err != nil || len(res) == 0 {
		return nil, err
	}
	return res[0].Messages, nil
}

// store creates the deliveries of a batch of entries, then acknowledges
// the entries. Malformed entries are copied to the poison stream
// and acknowledged.
func (d *Dispatcher) store(ctx context.Context, stream string, msgs []redis.XMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	now := d.o.Now().UnixMilli()
	ids := make([]string, 0, len(msgs))
	var calls []scriptCall
	poisoned := 0
	for _, msg := range msgs {
		ids = append(ids, msg.ID)
		if len(msg.Values) == 0 {
			continue // trimmed from the stream before we read it
		}
		ev, body, err := parseEntry(msg.Values)
		if err != nil {
			d.log.Error("webhook outbox entry malformed; moved to poison stream",
				"stream", stream, "entry", msg.ID, "err", err)
			vals := map[string]any{"stream": stream, "entry": msg.ID, "error": err.Error()}
			for k, v := range msg.Values {
				vals["f_"+k] = v
			}
			if err := d.rdb.XAdd(ctx, &redis.XAddArgs{Stream: d.k.poison(), Values: vals}).Err(); err != nil {
				return fmt.Errorf("poison %s: %w", msg.ID, err)
			}
			poisoned++
			continue
		}
		c := scriptCall{
			keys: []string{d.k.event(ev.ID), d.k.due(), d.k.index(StatusPending, ""), d.k.index("", "")},
			args: []any{body, now, ev.ID, ev.Type, ev.CreatedAt.UnixMilli(), member(ev.CreatedAt, "")},
		}
		for _, ep := range d.order {
			if !ep.wants(ev.Type) {
				continue
			}
			id := DeliveryID(ev.ID, ep.Name)
			c.keys = append(c.keys, d.k.delivery(id), d.k.index(StatusPending, ep.Name), d.k.index("", ep.Name))
			c.args = append(c.args, id, ep.Name)
		}
		if len(c.keys) > 4 {
			calls = append(calls, c)
		}
	}
	// Acknowledge only once every delivery is stored: a pipeline is not
	// atomic, and an entry acknowledged after a failed store would be lost.
	if len(calls) > 0 {
		if _, err := evalBatch(ctx, d.rdb, enqueueScript, calls); err != nil {
			return fmt.Errorf("store deliveries: %w", err)
		}
	}
	if err := d.rdb.XAck(ctx, stream, d.o.Group, ids...).Err(); err != nil {
		return fmt.Errorf("xack: %w", err)
	}
	d.m.poison.Add(float64(poisoned))
	d.signal()
	return nil
}

// parseEntry validates an outbox entry and renders the webhook body
// {id, type, created_at, data}.
func parseEntry(v map[string]any) (outbox.Event, []byte, error) {
	get := func(f string) (string, error) {
		s, ok := v[f].(string)
		if !ok || s == "" {
			return "", fmt.Errorf("field %q missing", f)
		}
		return s, nil
	}
	var ev outbox.Event
	var err error
	if ev.ID, err = get(outbox.FieldID); err != nil {
		return ev, nil, err
	}
	if strings.ContainsAny(ev.ID, " \t\r\n") {
		return ev, nil, fmt.Errorf("id %q has white space", ev.ID)
	}
	if ev.Type, err = get(outbox.FieldType); err != nil {
		return ev, nil, err
	}
	ts, err := get(outbox.FieldCreatedAt)
	if err != nil {
		return ev, nil, err
	}
	if ev.CreatedAt, err = time.Parse(time.RFC3339Nano, ts); err != nil {
		return ev, nil, fmt.Errorf("created_at: %w", err)
	}
	data, err := get(outbox.FieldData)
	if err != nil {
		return ev, nil, err
	}
	if t := strings.TrimSpace(data); !strings.HasPrefix(t, "{") || !json.Valid([]byte(t)) {
		return ev, nil, errors.New("data is not a JSON object")
	}
	ev.Data = []byte(data)
	body, err := json.Marshal(struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		CreatedAt string          `json:"created_at"`
		Data      json.RawMessage `json:"data"`
	}{ev.ID, ev.Type, ev.CreatedAt.UTC().Format(time.RFC3339Nano), ev.Data})
	if err != nil {
		return ev, nil, fmt.Errorf("body: %w", err)
	}
	return ev, body, nil
}
