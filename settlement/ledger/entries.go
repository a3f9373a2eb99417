package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Entry is one applied step, as stored. Entries are never edited or deleted.
type Entry struct {
	ID       string
	Key      string // idempotency key
	Kind     string
	Account  AccountID
	At       time.Time // ledger time, ms precision, non-decreasing per account
	Postings []Posting
	Meta     map[string]string
	Events   []string // outbox event ids written with the entry
	// Cursor is the entry's position in the account's entry stream; pass it
	// to Entries to continue after this entry.
	Cursor string
	// outbox stream ids of Events, same order (for Verify).
	eventSIDs []string
}

// MaxPage is the largest page Entries returns.
const MaxPage = 1000

// Entries returns up to limit (1..MaxPage) entries of the account in ledger
// order, starting after cursor ("" = from the beginning), and the cursor of
// the next page ("" at the end). ErrNotFound if the account is missing.
func (l *Ledger) Entries(ctx context.Context, id AccountID, cursor string, limit int) ([]Entry, string, error) {
	if err := l.checkAccount(ctx, id); err != nil {
		return nil, "", err
	}
	if limit < 1 || limit > MaxPage {
		return nil, "", fmt.Errorf("entries limit %d: must be 1..%d", limit, MaxPage)
	}
	start := "-"
	if cursor != "" {
		if !validStreamID(cursor) {
			return nil, "", fmt.Errorf("entries cursor %q: malformed", cursor)
		}
		start = "(" + cursor
	}
	msgs, err := l.rdb.XRangeN(ctx, entriesKey(id), start, "+", int64(limit)+1).Result()
	if err != nil {
		return nil, "", fmt.Errorf("entries %s: %w", id, err)
	}
	next := ""
	if len(msgs) > limit {
		msgs = msgs[:limit]
		next = msgs[limit-1].ID
	}
	out, err := decodeEntries(id, msgs)
	return out, next, err
}

// EntriesSince returns the account's entries whose ledger time At lies in
// [from, to), in ledger order, for reconciliation windows (e.g. a month in
// UTC+8). ErrNotFound if the account is missing.
func (l *Ledger) EntriesSince(ctx context.Context, id AccountID, from, to time.Time) ([]Entry, error) {
	if err := l.checkAccount(ctx, id); err != nil {
		return nil, err
	}
	lo, hi := max(ceilMilli(from), 0), ceilMilli(to)-1 // stream ids are unsigned
	if hi < lo {
		return nil, nil
	}
	start, end := strconv.FormatInt(lo, 10), strconv.FormatInt(hi, 10)
	var out []Entry
	for {
		msgs, err := l.rdb.XRangeN(ctx, entriesKey(id), start, end, MaxPage).Result()
		if err != nil {
			return nil, fmt.Errorf("entries %s: %w", id, err)
		}
		es, err := decodeEntries(id, msgs)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
		if len(msgs) < MaxPage {
			return out, nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

// ceilMilli is the first whole millisecond at or after t.
func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.After(time.UnixMilli(ms)) {
		ms++
	}
	return ms
}

func (l *Ledger) checkAccount(ctx context.Context, id AccountID) error {
	if _, err := ParseAccountID(string(id)); err != nil {
		return err
	}
	n, err := l.rdb.Exists(ctx, acctKey(id)).Result()
	if err != nil {
		return fmt.Errorf("account %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("account %s: %w", id, ErrNotFound)
	}
	return nil
}

func validStreamID(s string) bool {
	ms, seq, ok := strings.Cut(s, "-")
	if !ok {
		return false
	}
	_, err1 := strconv.ParseUint(ms, 10, 64)
	_, err2 := strconv.ParseUint(seq, 10, 64)
	return err1 == nil && err2 == nil
}

func decodeEntries(id AccountID, msgs []redis.XMessage) ([]Entry, error) {
	out := make([]Entry, 0, len(msgs))
	for _, m := range msgs {
		e, err := decodeEntry(id, m)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func decodeEntry(id AccountID, m redis.XMessage) (Entry, error) {
	str := func(f string) string { s, _ := m.Values[f].(string); return s }
	e := Entry{ID: str("id"), Key: str("key"), Kind: str("kind"), Account: id, Cursor: m.ID}
	msPart, _, _ := strings.Cut(m.ID, "-")
	ms, err := strconv.ParseInt(msPart, 10, 64)
	if err != nil {
		return Entry{}, fmt.Errorf("entry %s of %s: stream id %q: %w", e.ID, id, m.ID, err)
	}
	e.At = time.UnixMilli(ms).UTC()
	if err := json.Unmarshal([]byte(str("p")), &e.Postings); err != nil {
		return Entry{}, fmt.Errorf("entry %s of %s: postings: %w", e.ID, id, err)
	}
	if err := json.Unmarshal([]byte(str("m")), &e.Meta); err != nil {
		return Entry{}, fmt.Errorf("entry %s of %s: meta: %w", e.ID, id, err)
	}
	for _, ev := range strings.Fields(str("ev")) {
		eid, sid, ok := strings.Cut(ev, "@")
		if !ok {
			return Entry{}, fmt.Errorf("entry %s of %s: event %q: malformed", e.ID, id, ev)
		}
		e.Events = append(e.Events, eid)
		e.eventSIDs = append(e.eventSIDs, sid)
	}
	return e, nil
}

// DepositIDs returns the id of every deposit the ledger holds an entry for,
// over every account, sorted, repeats kept: a checker comparing it with the
// chain's final transfers sees a missed credit, an extra one and a double
// one. It reads the whole ledger: an audit, not a hot path.
func (l *Ledger) DepositIDs(ctx context.Context) ([]string, error) {
	ids, err := l.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, id := range ids {
		for cursor := ""; ; {
			es, next, err := l.Entries(ctx, id, cursor, MaxPage)
			if err != nil {
				return nil, err
			}
			for _, e := range es {
				if dep, ok := strings.CutPrefix(e.Key, "dep:"); ok {
					out = append(out, dep)
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	slices.Sort(out)
	return out, nil
}
