package watchers

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/outbox"
)

// Filter selects deposits; empty fields match everything.
type Filter struct {
	Status  Status
	Chain   string
	Account string
}

// List limits.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Errors of List inputs (the API answers 400).
var (
	ErrBadCursor = errors.New("bad cursor")
	ErrBadFilter = errors.New("bad filter")
)

// List returns deposits matching f, newest first (by first-seen sequence),
// at most limit (≤ 0 means DefaultLimit, capped at MaxLimit), starting after
// cursor ("" = from the newest). next is the cursor of the following page,
// "" on the last page. Bad input is ErrBadFilter or ErrBadCursor.
func (s *Deposits) List(ctx context.Context, f Filter, cursor string, limit int) ([]Deposit, string, error) {
	if f.Status != "" && !slices.Contains(statuses, f.Status) {
		return nil, "", fmt.Errorf("status %q: want one of seen, credited, orphaned, reversed: %w", f.Status, ErrBadFilter)
	}
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	below, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	shards := make([]int, 0, outbox.Shards)
	if f.Account != "" {
		shards = append(shards, outbox.ShardOf(f.Account))
	} else {
		for i := range outbox.Shards {
			shards = append(shards, i)
		}
	}
	var all []scanned
	for _, sh := range shards {
		got, err := s.scanShard(ctx, sh, f, below, limit+1)
		if err != nil {
			return nil, "", err
		}
		all = append(all, got...)
	}
	slices.SortFunc(all, func(a, b scanned) int { return cmp.Compare(b.seq, a.seq) })
	next := ""
	if len(all) > limit {
		all = all[:limit]
		next = encodeCursor(all[limit-1].seq)
	}
	out := make([]Deposit, len(all))
	for i, it := range all {
		out[i] = it.d
	}
	return out, next, nil
}

// scanned is a record with its first-seen sequence, the sort key.
type scanned struct {
	d   Deposit
	seq int64
}

// scanShard walks one shard's most selective index downwards from below
// (exclusive) and returns up to want records matching f.
func (s *Deposits) scanShard(ctx context.Context, shard int, f Filter, below int64, want int) ([]scanned, error) {
	tag := outbox.Tag(shard)
	key := tag + ":deposits"
	switch {
	case f.Account != "":
		key = tag + ":deposits:account:" + f.Account
	case f.Status != "":
		key = tag + ":deposits:status:" + string(f.Status)
	case f.Chain != "":
		key = tag + ":deposits:chain:" + f.Chain
	}
	hi := "+inf"
	if below > 0 {
		hi = "(" + strconv.FormatInt(below, 10)
	}
	batch := int64(max(want, 32))
	var out []scanned
	for offset := int64(0); len(out) < want; offset += batch {
		ids, err := s.rdb.ZRevRangeByScore(ctx, key, &redis.ZRangeBy{Max: hi, Min: "-inf", Offset: offset, Count: batch}).Result()
		if err != nil {
			return nil, fmt.Errorf("list deposits %s: %w", key, err)
		}
		cmds := make([]*redis.MapStringStringCmd, len(ids))
		if len(ids) > 0 {
			if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i, id := range ids {
					cmds[i] = p.HGetAll(ctx, tag+":deposit:"+id)
				}
				return nil
			}); err != nil {
				return nil, fmt.Errorf("list deposits %s: %w", key, err)
			}
		}
		for _, c := range cmds {
			d, seq, err := parseDeposit(c.Val())
			if err != nil {
				return nil, err
			}
			if (f.Status == "" || d.Status == f.Status) && (f.Chain == "" || d.Chain == f.Chain) &&
				(f.Account == "" || d.Account == f.Account) && len(out) < want {
				out = append(out, scanned{d, seq})
			}
		}
		if int64(len(ids)) < batch {
			break
		}
	}
	return out, nil
}

const cursorPrefix = "v1:"

func encodeCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(seq, 10)))
}

func decodeCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), cursorPrefix) {
		return 0, fmt.Errorf("cursor %q: %w", c, ErrBadCursor)
	}
	seq, err := strconv.ParseInt(strings.TrimPrefix(string(b), cursorPrefix), 10, 64)
	if err != nil || seq <= 0 {
		return 0, fmt.Errorf("cursor %q: %w", c, ErrBadCursor)
	}
	return seq, nil
}
