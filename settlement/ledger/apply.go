package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/outbox"
)

// Floor is the lower bound a posting's book must respect after the step.
type Floor uint8

const (
	FloorNone        Floor = iota // no bound
	FloorZero                     // book >= 0
	FloorCreditLimit              // book >= -credit_limit (the "credit" book)
)

// Txn is one atomic, idempotent, balanced step. Everything is read and
// checked inside one Lua script before its first write.
type Txn struct {
	Key         string // idempotency key from the external fact: "dep:<chain>:<tx>:<idx>", "pay:<stmt>:<n>", ...
	Fingerprint string // same Key + same Fingerprint: already applied; another Fingerprint: ErrFingerprint
	Account     AccountID
	Kind        string // "deposit", "payment", "coupon.grant", ...
	Postings    []Posting
	Guards      []Guard
	Sets        []Set
	Events      []outbox.Event
	Meta        map[string]string
}

// Posting moves Delta into Book. Customer books live in the account hash;
// books starting with "sys:" live in the shard's system hash.
type Posting struct {
	Book  string      `json:"b"`
	Delta money.Units `json:"d"`
	Floor Floor       `json:"f,omitempty"`
}

// Guard requires HGET(tag:Key, Field) == Equals ("" matches a missing
// field). Key is relative to the account's shard tag, e.g. "stmt:<id>".
type Guard struct{ Key, Field, Equals string }

// Set is an HSET of tag:Key Field Value, written only when the step applies.
type Set struct{ Key, Field, Value string }

// Result of Apply. Applied is false when the key was applied earlier; the
// EntryID is then that earlier entry's.
type Result struct {
	EntryID string
	Applied bool
}

// Apply runs t as one atomic step. It is idempotent: a replay of the same
// Key and Fingerprint returns Applied=false and the same EntryID, writing
// nothing. Invalid or unbalanced input is an error before any Redis call.
// Errors: ErrFingerprint (Key reused with another Fingerprint), ErrNotFound
// (account), ErrConflict (a guard failed), ErrInsufficient (a floor would
// break); in each case nothing is written. A network error means the outcome
// is unknown: retry with the same Txn.
func (l *Ledger) Apply(ctx context.Context, t Txn) (Result, error) {
	o, err := l.applyTxn(ctx, t, nil)
	return o.Result, err
}

func (l *Ledger) applyTxn(ctx context.Context, t Txn, limit *money.Units) (outcome, error) {
	s, err := l.prepare(t, limit)
	if err != nil {
		return outcome{}, err
	}
	outs, err := l.runSteps(ctx, []step{s})
	if err != nil {
		return outcome{}, err
	}
	return outs[0].outcome, outs[0].err
}

// step is a validated Txn ready for the script.
type step struct {
	key, fp string
	account AccountID
	tag     string
	keys    []string
	args    []any
}

type outcome struct {
	Result
	account AccountID // the entry's account
	sid     string    // the entry's stream id
}

type stepResult struct {
	outcome
	err error
}

func (l *Ledger) prepare(t Txn, limit *money.Units) (step, error) {
	if err := validateTxn(t); err != nil {
		return step{}, fmt.Errorf("txn %q: %w", t.Key, err)
	}
	books, err := aggregate(t.Postings)
	if err != nil {
		return step{}, fmt.Errorf("txn %q: %w", t.Key, err)
	}
	newLimit := ""
	if limit != nil {
		newLimit = strconv.FormatInt(int64(*limit), 10)
		books = withCreditFloor(books)
	}
	pj, err := json.Marshal(t.Postings)
	if err != nil {
		return step{}, fmt.Errorf("txn %q: postings: %w", t.Key, err)
	}
	if t.Postings == nil {
		pj = []byte("[]")
	}
	mj, err := jsonMeta(t.Meta)
	if err != nil {
		return step{}, fmt.Errorf("txn %q: %w", t.Key, err)
	}
	now := l.now().UTC()
	tag := tagOf(t.Account)
	keys := []string{tag + ":acct:" + string(t.Account), sysKey(tag), idemKey(tag), tag + ":ent:" + string(t.Account), outbox.Stream(outbox.ShardOf(string(t.Account)))}
	args := []any{t.Key, t.Fingerprint, entryIDFor(t.Account, t.Key), string(t.Account), now.UnixMilli(),
		t.Kind, pj, mj, newLimit, len(t.Guards), len(books), len(t.Sets), len(t.Events)}
	for _, g := range t.Guards {
		keys = append(keys, tag+":"+g.Key)
		args = append(args, g.Field, g.Equals)
	}
	for _, b := range books {
		where := "a"
		if isSysBook(b.book) {
			where = "s"
		}
		args = append(args, where, b.book, int64(b.delta), b.floor)
	}
	for _, s := range t.Sets {
		keys = append(keys, tag+":"+s.Key)
		args = append(args, s.Field, s.Value)
	}
	for _, e := range t.Events {
		at := e.CreatedAt
		if at.IsZero() {
			at = now
		}
		args = append(args, e.ID, e.Type, at.UTC().Format(time.RFC3339Nano), e.Data)
	}
	return step{key: t.Key, fp: t.Fingerprint, account: t.Account, tag: tag, keys: keys, args: args}, nil
}

// bookDelta is the net change of one book in a step, with the floors of
// every posting on it (the final value must respect all of them).
type bookDelta struct {
	book  string
	delta money.Units
	floor string // "z" zero, "c" credit limit
}

func aggregate(ps []Posting) ([]bookDelta, error) {
	var out []bookDelta
	idx := map[string]int{}
	var sum money.Units
	for _, p := range ps {
		var ok bool
		if sum, ok = addUnits(sum, p.Delta); !ok {
			return nil, fmt.Errorf("postings: sum: %w", money.ErrRange)
		}
		i, seen := idx[p.Book]
		if !seen {
			i = len(out)
			idx[p.Book] = i
			out = append(out, bookDelta{book: p.Book})
		}
		if out[i].delta, ok = addUnits(out[i].delta, p.Delta); !ok {
			return nil, fmt.Errorf("postings: book %s: %w", p.Book, money.ErrRange)
		}
		switch p.Floor {
		case FloorZero:
			if !strings.Contains(out[i].floor, "z") {
				out[i].floor += "z"
			}
		case FloorCreditLimit:
			if !strings.Contains(out[i].floor, "c") {
				out[i].floor += "c"
			}
		}
	}
	if sum != 0 {
		return nil, fmt.Errorf("postings unbalanced: sum %s, want 0", sum)
	}
	return out, nil
}

// withCreditFloor makes the step check the credit book against the (new)
// credit limit.
func withCreditFloor(books []bookDelta) []bookDelta {
	for i := range books {
		if books[i].book == "credit" {
			if !strings.Contains(books[i].floor, "c") {
				books[i].floor += "c"
			}
			return books
		}
	}
	return append(books, bookDelta{book: "credit", floor: "c"})
}

func addUnits(a, b money.Units) (money.Units, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

// entryIDFor derives the entry id from the account and idempotency key, so
// it is known before the step runs (events can carry it) and a replay names
// the same entry.
func entryIDFor(id AccountID, key string) string {
	return "ent_" + hashSuffix(string(id)+"\x00"+key)
}

// EventID returns the deterministic outbox event id of an event of type typ
// caused by the fact with idempotency key key: a re-run writes the same id.
func EventID(key, typ string) string { return "evt_" + hashSuffix(key+"\x00"+typ) }

// b32 is the standard base32 alphabet in lower case, unpadded.
var b32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func hashSuffix(s string) string {
	sum := sha256.Sum256([]byte(s))
	return b32.EncodeToString(sum[:16])
}

// maxStepsPerCall bounds one script call, so that a large batch does not
// block the server for long.
const maxStepsPerCall = 64

// runSteps runs the steps in one pipeline: the steps of each shard go in
// script calls of up to maxStepsPerCall (one Cluster slot per call), in
// their original order. A returned error means the pipeline itself failed;
// per-step results carry the ledger errors.
func (l *Ledger) runSteps(ctx context.Context, steps []step) ([]stepResult, error) {
	byTag := map[string][]int{}
	var tags []string
	for i, s := range steps {
		if _, ok := byTag[s.tag]; !ok {
			tags = append(tags, s.tag)
		}
		byTag[s.tag] = append(byTag[s.tag], i)
	}
	var calls []call
	var members [][]int
	for _, tag := range tags {
		idx := byTag[tag]
		for len(idx) > 0 {
			n := min(len(idx), maxStepsPerCall)
			c := call{args: []any{n}}
			for _, i := range idx[:n] {
				c.keys = append(c.keys, steps[i].keys...)
				c.args = append(c.args, len(steps[i].keys), len(steps[i].args))
				c.args = append(c.args, steps[i].args...)
			}
			calls = append(calls, c)
			members = append(members, idx[:n])
			idx = idx[n:]
		}
	}
	cmds, err := l.evalPipelined(ctx, l.apply, calls)
	if err != nil {
		return nil, err
	}
	out := make([]stepResult, len(steps))
	for ci, c := range cmds {
		replies, err := c.Slice()
		if err == nil && len(replies) != len(members[ci]) {
			err = fmt.Errorf("script returned %d results for %d steps", len(replies), len(members[ci]))
		}
		for j, i := range members[ci] {
			if err != nil {
				out[i].err = fmt.Errorf("txn %q: %w", steps[i].key, err)
				continue
			}
			out[i].outcome, out[i].err = decodeApply(steps[i], replies[j])
		}
	}
	return out, nil
}

func decodeApply(s step, reply any) (outcome, error) {
	res, _ := reply.([]any)
	at := func(i int) string {
		if i < len(res) {
			v, _ := res[i].(string)
			return v
		}
		return ""
	}
	switch at(0) {
	case "ok":
		return outcome{Result: Result{EntryID: at(1), Applied: true}, account: s.account, sid: at(2)}, nil
	case "dup":
		return outcome{Result: Result{EntryID: at(1)}, account: AccountID(at(2)), sid: at(3)}, nil
	case "fingerprint":
		return outcome{}, fmt.Errorf("txn %q: stored fingerprint %q, got %q: %w", s.key, at(1), s.fp, ErrFingerprint)
	case "notfound":
		return outcome{}, fmt.Errorf("txn %q: account %s: %w", s.key, s.account, ErrNotFound)
	case "conflict":
		return outcome{}, fmt.Errorf("txn %q: guard %s %s is %q, want %q: %w", s.key, at(1), at(2), at(3), at(4), ErrConflict)
	case "insufficient":
		return outcome{}, fmt.Errorf("txn %q: book %s would be %s, below %s: %w", s.key, at(1), at(2), at(3), ErrInsufficient)
	case "range":
		return outcome{}, fmt.Errorf("txn %q: book %s: %w", s.key, at(1), money.ErrRange)
	}
	return outcome{}, fmt.Errorf("txn %q: unexpected script reply %q", s.key, res)
}
