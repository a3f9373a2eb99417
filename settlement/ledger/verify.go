package ledger

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/outbox"
)

// Breach is one violated ledger invariant.
type Breach struct{ Invariant, Detail string }

// Invariant names reported in Breach.Invariant.
const (
	InvAccounts     = "accounts"     // the accounts set and the account hashes agree
	InvBalanced     = "balanced"     // each entry's postings sum to zero
	InvDerivable    = "derivable"    // each stored book equals the fold of its entries
	InvConservation = "conservation" // all books, customer and system, sum to zero
	InvNoNegative   = "no_negative"  // cash >= 0
	InvCreditLimit  = "credit_limit" // credit >= -credit_limit
	InvOutbox       = "outbox"       // each entry's events exist in the shard's outbox
	InvIdempotency  = "idempotency"  // each idempotency record points to its entry
	InvExactlyOnce  = "exactly_once" // each deposit id has one entry, in one account
)

// Verify audits every ledger invariant (reliability.md) and returns the
// breaches found; an empty slice means the ledger is clean. It reads the
// whole ledger, so run it off the hot path. An error means the audit itself
// could not run (Redis unreachable), not that the ledger is broken.
func (l *Ledger) Verify(ctx context.Context) ([]Breach, error) {
	v := &verifier{
		l:       l,
		sys:     make([]map[string]*big.Int, outbox.Shards),
		entries: map[string]entryRef{},
		deps:    map[string][]AccountID{},
		events:  make([][]eventRef, outbox.Shards),
		total:   new(big.Int),
		out:     []Breach{},
	}
	ids, err := v.accounts(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if err := v.account(ctx, id); err != nil {
			return nil, err
		}
	}
	for shard := 0; shard < outbox.Shards; shard++ {
		if err := v.shard(ctx, shard); err != nil {
			return nil, err
		}
	}
	if v.total.Sign() != 0 {
		v.breach(InvConservation, "all books sum to %s, want 0", v.total)
	}
	keys := make([]string, 0, len(v.deps))
	for k := range v.deps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if accts := v.deps[k]; len(accts) > 1 {
			v.breach(InvExactlyOnce, "%s has %d entries, in accounts %v", k, len(accts), accts)
		}
	}
	return v.out, nil
}

type entryRef struct {
	account AccountID
	sid     string
}

type eventRef struct{ id, sid, entry string }

type verifier struct {
	l       *Ledger
	sys     []map[string]*big.Int  // per shard: fold of system postings
	entries map[string]entryRef    // entry id -> where it is stored
	deps    map[string][]AccountID // deposit key -> accounts holding an entry for it
	events  [][]eventRef           // per shard
	total   *big.Int               // sum of every stored book
	out     []Breach
}

func (v *verifier) breach(inv, format string, args ...any) {
	v.out = append(v.out, Breach{Invariant: inv, Detail: fmt.Sprintf(format, args...)})
}

// accounts returns the union of the accounts set and the account hashes
// found by SCAN, reporting any difference.
func (v *verifier) accounts(ctx context.Context) ([]AccountID, error) {
	listed, err := v.l.rdb.SMembers(ctx, accountsKey).Result()
	if err != nil {
		return nil, fmt.Errorf("verify: accounts: %w", err)
	}
	inSet := map[string]bool{}
	for _, id := range listed {
		inSet[id] = true
	}
	found, err := scanAccounts(ctx, v.l.rdb)
	if err != nil {
		return nil, err
	}
	all := map[string]bool{}
	for id := range inSet {
		all[id] = true
		if !found[id] {
			v.breach(InvAccounts, "account %s is listed but has no account hash", id)
		}
	}
	for id := range found {
		all[id] = true
		if !inSet[id] {
			v.breach(InvAccounts, "account %s exists but is not in the accounts set", id)
		}
	}
	ids := make([]string, 0, len(all))
	for id := range all {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]AccountID, len(ids))
	for i, id := range ids {
		out[i] = AccountID(id)
	}
	return out, nil
}

// scanAccounts finds every account hash, on every master of a Cluster.
func scanAccounts(ctx context.Context, rdb redis.UniversalClient) (map[string]bool, error) {
	var mu sync.Mutex
	found := map[string]bool{}
	scan := func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, "{s[0-9][0-9]}:acct:*", 1000).Iterator()
		for iter.Next(ctx) {
			_, id, _ := strings.Cut(iter.Val(), ":acct:")
			mu.Lock()
			found[id] = true
			mu.Unlock()
		}
		if err := iter.Err(); err != nil {
			return fmt.Errorf("verify: scan accounts: %w", err)
		}
		return nil
	}
	var err error
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, scan)
	case *redis.Client:
		err = scan(ctx, c)
	default:
		err = fmt.Errorf("verify: scan accounts: unsupported client %T", rdb)
	}
	return found, err
}

func (v *verifier) account(ctx context.Context, id AccountID) error {
	h, err := v.l.rdb.HGetAll(ctx, acctKey(id)).Result()
	if err != nil {
		return fmt.Errorf("verify: account %s: %w", id, err)
	}
	if len(h) == 0 {
		return nil // reported by accounts
	}
	a, err := decodeAccount(id, h)
	if err != nil {
		v.breach(InvDerivable, "account %s: unreadable: %v", id, err)
		return nil
	}
	shard := outbox.ShardOf(string(id))
	fold := map[string]*big.Int{}
	start := "-"
	for {
		msgs, err := v.l.rdb.XRangeN(ctx, entriesKey(id), start, "+", MaxPage).Result()
		if err != nil {
			return fmt.Errorf("verify: entries of %s: %w", id, err)
		}
		for _, m := range msgs {
			v.entry(id, shard, m, fold)
		}
		if len(msgs) < MaxPage {
			break
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
	for book, want := range fold {
		if _, ok := a.Books[book]; !ok && want.Sign() != 0 {
			v.breach(InvDerivable, "account %s book %s is missing, entries sum to %s", id, book, want)
		}
	}
	for book, have := range a.Books {
		want := fold[book]
		if want == nil {
			want = new(big.Int)
		}
		if big.NewInt(int64(have)).Cmp(want) != 0 {
			v.breach(InvDerivable, "account %s book %s is %d, entries sum to %s", id, book, have, want)
		}
		v.total.Add(v.total, big.NewInt(int64(have)))
	}
	if a.Cash < 0 {
		v.breach(InvNoNegative, "account %s cash is %s", id, a.Cash)
	}
	if c := a.Books["credit"]; c < -a.CreditLimit {
		v.breach(InvCreditLimit, "account %s credit is %s, limit %s", id, c, a.CreditLimit)
	}
	return nil
}

func (v *verifier) entry(id AccountID, shard int, m redis.XMessage, fold map[string]*big.Int) {
	e, err := decodeEntry(id, m)
	if err != nil {
		v.breach(InvDerivable, "%v", err)
		return
	}
	v.entries[e.ID] = entryRef{account: id, sid: m.ID}
	if strings.HasPrefix(e.Key, "dep:") {
		v.deps[e.Key] = append(v.deps[e.Key], id)
	}
	sum := new(big.Int)
	for _, p := range e.Postings {
		d := big.NewInt(int64(p.Delta))
		sum.Add(sum, d)
		target := fold
		if isSysBook(p.Book) {
			if v.sys[shard] == nil {
				v.sys[shard] = map[string]*big.Int{}
			}
			target = v.sys[shard]
		}
		if target[p.Book] == nil {
			target[p.Book] = new(big.Int)
		}
		target[p.Book].Add(target[p.Book], d)
	}
	if sum.Sign() != 0 {
		v.breach(InvBalanced, "entry %s of %s: postings sum to %s", e.ID, id, sum)
	}
	for i, evt := range e.Events {
		v.events[shard] = append(v.events[shard], eventRef{id: evt, sid: e.eventSIDs[i], entry: e.ID})
	}
}

func (v *verifier) shard(ctx context.Context, shard int) error {
	tag := outbox.Tag(shard)
	stored, err := v.l.rdb.HGetAll(ctx, sysKey(tag)).Result()
	if err != nil {
		return fmt.Errorf("verify: %s: %w", sysKey(tag), err)
	}
	fold := v.sys[shard]
	for book, s := range stored {
		have, ok := new(big.Int).SetString(s, 10)
		if !ok {
			v.breach(InvDerivable, "%s book %s is not an integer: %q", tag, book, s)
			continue
		}
		want := fold[book]
		if want == nil {
			want = new(big.Int)
		}
		if have.Cmp(want) != 0 {
			v.breach(InvDerivable, "%s book %s is %s, entries sum to %s", tag, book, have, want)
		}
		v.total.Add(v.total, have)
	}
	for book, want := range fold {
		if _, ok := stored[book]; !ok && want.Sign() != 0 {
			v.breach(InvDerivable, "%s book %s is missing, entries sum to %s", tag, book, want)
		}
	}
	if err := v.outbox(ctx, shard); err != nil {
		return err
	}
	return v.idempotency(ctx, tag)
}

func (v *verifier) outbox(ctx context.Context, shard int) error {
	evs := v.events[shard]
	for len(evs) > 0 {
		n := min(len(evs), MaxPage)
		batch := evs[:n]
		evs = evs[n:]
		pipe := v.l.rdb.Pipeline()
		cmds := make([]*redis.XMessageSliceCmd, len(batch))
		for i, e := range batch {
			cmds[i] = pipe.XRange(ctx, outbox.Stream(shard), e.sid, e.sid)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("verify: outbox %d: %w", shard, err)
		}
		for i, e := range batch {
			msgs := cmds[i].Val()
			if len(msgs) != 1 {
				v.breach(InvOutbox, "event %s of entry %s is missing from %s (stream id %s)", e.id, e.entry, outbox.Stream(shard), e.sid)
				continue
			}
			if got, _ := msgs[0].Values[outbox.FieldID].(string); got != e.id {
				v.breach(InvOutbox, "event %s of entry %s: %s %s holds event %q", e.id, e.entry, outbox.Stream(shard), e.sid, got)
			}
		}
	}
	return nil
}

func (v *verifier) idempotency(ctx context.Context, tag string) error {
	iter := v.l.rdb.HScan(ctx, idemKey(tag), 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		if !iter.Next(ctx) {
			break
		}
		rec := iter.Val()
		parts := strings.SplitN(rec, "|", 4)
		if len(parts) != 4 {
			v.breach(InvIdempotency, "%s key %q: malformed record %q", idemKey(tag), key, rec)
			continue
		}
		ref, ok := v.entries[parts[0]]
		if !ok || string(ref.account) != parts[1] || ref.sid != parts[2] {
			v.breach(InvIdempotency, "%s key %q points to entry %s of %s at %s, which does not exist", idemKey(tag), key, parts[0], parts[1], parts[2])
		}
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("verify: %s: %w", idemKey(tag), err)
	}
	return nil
}
