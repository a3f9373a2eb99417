package ledger

import (
	"context"
	"errors"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"testing"

	"pgregory.net/rapid"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/outbox"
)

func pay(id AccountID, key string, usd money.Units, floor Floor) Txn {
	return Txn{Key: key, Fingerprint: "fp:" + key + ":" + strconv.FormatInt(int64(usd), 10), Account: id, Kind: "payment",
		Postings: []Posting{{Book: "cash", Delta: -usd, Floor: floor}, {Book: "sys:receivable", Delta: usd}}}
}

func TestApplyRejectsInvalidInputBeforeRedis(t *testing.T) {
	e := newEnv(t)
	ok := pay("acme", "pay:s1:1", 5, FloorZero)
	tests := []struct {
		name   string
		mutate func(*Txn)
	}{
		{"unbalanced postings", func(t *Txn) { t.Postings[1].Delta = 4 }},
		{"postings overflow int64", func(t *Txn) {
			t.Postings = []Posting{{Book: "cash", Delta: math.MaxInt64}, {Book: "cash", Delta: 1}, {Book: "sys:x", Delta: math.MinInt64}}
		}},
		{"empty key", func(t *Txn) { t.Key = "" }},
		{"empty fingerprint", func(t *Txn) { t.Fingerprint = "" }},
		{"invalid account", func(t *Txn) { t.Account = "a b" }},
		{"invalid kind", func(t *Txn) { t.Kind = "Pay Ment" }},
		{"book starting with underscore", func(t *Txn) { t.Postings[0].Book = "_ver" }},
		{"book with a space", func(t *Txn) { t.Postings[0].Book = "ca sh" }},
		{"unknown floor", func(t *Txn) { t.Postings[0].Floor = 9 }},
		{"credit-limit floor on a system book", func(t *Txn) { t.Postings[1].Floor = FloorCreditLimit }},
		{"guard key with a brace", func(t *Txn) { t.Guards = []Guard{{Key: "{s01}:x", Field: "f"}} }},
		{"guard without field", func(t *Txn) { t.Guards = []Guard{{Key: "stmt:1"}} }},
		{"set on the account hash", func(t *Txn) { t.Sets = []Set{{Key: "acct:acme", Field: "cash", Value: "1"}} }},
		{"set on the idempotency hash", func(t *Txn) { t.Sets = []Set{{Key: "idem", Field: "k", Value: "v"}} }},
		{"set without field", func(t *Txn) { t.Sets = []Set{{Key: "stmt:1"}} }},
		{"event without id", func(t *Txn) { t.Events = []outbox.Event{{Type: "x", Data: []byte(`{}`)}} }},
		{"event without type", func(t *Txn) { t.Events = []outbox.Event{{ID: "evt_1", Data: []byte(`{}`)}} }},
		{"event data not an object", func(t *Txn) { t.Events = []outbox.Event{{ID: "evt_1", Type: "x", Data: []byte(`[1]`)}} }},
		{"meta with empty key", func(t *Txn) { t.Meta = map[string]string{"": "x"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			txn := ok
			txn.Postings = append([]Posting(nil), ok.Postings...)
			tt.mutate(&txn)
			before := e.calls.Load()
			if _, err := e.l.Apply(context.Background(), txn); err == nil {
				t.Fatal("Apply accepted invalid input")
			}
			if n := e.calls.Load() - before; n != 0 {
				t.Fatalf("Apply sent %d redis commands for invalid input; want 0", n)
			}
		})
	}
}

// state is everything a step may write, to prove a refused step wrote nothing.
type state struct {
	acct, sys, idem, stmt map[string]string
	entries, outbox       int64
}

func (e *env) state(t testing.TB, id AccountID) state {
	t.Helper()
	ctx := context.Background()
	tag := tagOf(id)
	get := func(k string) map[string]string {
		m, err := e.rdb.HGetAll(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	return state{acct: get(acctKey(id)), sys: get(sysKey(tag)), idem: get(idemKey(tag)), stmt: get(tag + ":stmt:s1"),
		entries: e.entryCount(t, id), outbox: e.outboxLen(t, id)}
}

func TestApplyRefusalsWriteNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.open(t, "acme")
	if err := e.l.SetCreditLimit(ctx, "acme", 50); err != nil {
		t.Fatal(err)
	}
	fund := Txn{Key: "grant:1", Fingerprint: "100", Account: "acme", Kind: "offchain",
		Postings: []Posting{{Book: "cash", Delta: 100}, {Book: "sys:offchain", Delta: -100}}}
	if _, err := e.l.Apply(ctx, fund); err != nil {
		t.Fatal(err)
	}
	withSideEffects := func(t Txn) Txn {
		t.Sets = []Set{{Key: "stmt:s1", Field: "state", Value: "paid"}}
		t.Events = []outbox.Event{{ID: EventID(t.Key, outbox.StatementPaid), Type: outbox.StatementPaid, Data: []byte(`{"statement":"s1"}`)}}
		return t
	}
	overCredit := pay("acme", "pay:s1:2", 51, FloorNone)
	overCredit.Postings[0] = Posting{Book: "credit", Delta: -51, Floor: FloorCreditLimit}
	badGuard := pay("acme", "pay:s1:3", 1, FloorZero)
	badGuard.Guards = []Guard{{Key: "stmt:s1", Field: "ver", Equals: "7"}}
	reused := fund
	reused.Fingerprint = "999"
	tests := []struct {
		name string
		txn  Txn
		want error
	}{
		{"cash below zero", pay("acme", "pay:s1:1", 101, FloorZero), ErrInsufficient},
		{"credit beyond the limit", overCredit, ErrInsufficient},
		{"guard on a missing field", badGuard, ErrConflict},
		{"key reused with another fingerprint", reused, ErrFingerprint},
		{"missing account", pay("nobody", "pay:s9:1", 1, FloorZero), ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.state(t, tt.txn.Account)
			_, err := e.l.Apply(ctx, withSideEffects(tt.txn))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Apply = %v; want %v", err, tt.want)
			}
			if after := e.state(t, tt.txn.Account); !reflect.DeepEqual(before, after) {
				t.Fatalf("refused step wrote:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
	e.mustVerify(t)
}

func TestApplyWritesSetsAndEventsOnlyWhenApplied(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.open(t, "acme")
	tag := tagOf("acme")
	if _, err := e.l.Apply(ctx, Txn{Key: "grant:1", Fingerprint: "10", Account: "acme", Kind: "offchain",
		Postings: []Posting{{Book: "cash", Delta: 10}, {Book: "sys:offchain", Delta: -10}}}); err != nil {
		t.Fatal(err)
	}
	txn := pay("acme", "pay:s1:1", 7, FloorZero)
	txn.Guards = []Guard{{Key: "stmt:s1", Field: "ver", Equals: ""}} // "" matches the missing field
	txn.Sets = []Set{{Key: "stmt:s1", Field: "ver", Value: "1"}, {Key: "stmt:s1", Field: "state", Value: "paid"}}
	txn.Events = []outbox.Event{{ID: EventID(txn.Key, outbox.StatementPaid), Type: outbox.StatementPaid, Data: []byte(`{"statement":"s1"}`)}}
	txn.Meta = map[string]string{"statement": "s1"}

	first, err := e.l.Apply(ctx, txn)
	if err != nil || !first.Applied || first.EntryID == "" {
		t.Fatalf("first Apply = %+v, %v", first, err)
	}
	stmt, _ := e.rdb.HGetAll(ctx, tag+":stmt:s1").Result()
	if !reflect.DeepEqual(stmt, map[string]string{"ver": "1", "state": "paid"}) {
		t.Fatalf("sets after apply: %v", stmt)
	}
	msgs, _ := e.rdb.XRange(ctx, outbox.Stream(outbox.ShardOf("acme")), "-", "+").Result()
	if len(msgs) != 1 || msgs[0].Values[outbox.FieldID] != txn.Events[0].ID || msgs[0].Values[outbox.FieldType] != outbox.StatementPaid ||
		msgs[0].Values[outbox.FieldCreatedAt] != "2026-11-01T00:00:00Z" || msgs[0].Values[outbox.FieldData] != `{"statement":"s1"}` {
		t.Fatalf("outbox after apply: %+v", msgs)
	}
	before := e.state(t, "acme")
	tests := []struct {
		name   string
		mutate func(*Txn)
	}{
		{"identical replay", func(*Txn) {}},
		// A replay is recognised by key and fingerprint before the guards:
		// the first run changed the guarded field.
		{"replay whose guard no longer holds", func(t *Txn) { t.Guards[0].Equals = "stale" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			again := txn
			again.Guards = append([]Guard(nil), txn.Guards...)
			tt.mutate(&again)
			r, err := e.l.Apply(ctx, again)
			if err != nil || r.Applied || r.EntryID != first.EntryID {
				t.Fatalf("replay = %+v, %v; want Applied=false, EntryID %s", r, err, first.EntryID)
			}
			if after := e.state(t, "acme"); !reflect.DeepEqual(before, after) {
				t.Fatalf("replay wrote:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
	a := e.account(t, "acme")
	if a.Cash != 3 || a.Version != 3 {
		t.Fatalf("cash %d version %d; want 3 and 3", a.Cash, a.Version)
	}
	es, _, _ := e.l.Entries(ctx, "acme", "", 10)
	last := es[len(es)-1]
	if last.ID != first.EntryID || last.Key != "pay:s1:1" || last.Meta["statement"] != "s1" ||
		!reflect.DeepEqual(last.Events, []string{txn.Events[0].ID}) || !reflect.DeepEqual(last.Postings, txn.Postings) {
		t.Fatalf("stored entry %+v", last)
	}
	e.mustVerify(t)
}

func TestApplyFloors(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.open(t, "acme")
	if err := e.l.SetCreditLimit(ctx, "acme", 30); err != nil {
		t.Fatal(err)
	}
	if _, err := e.l.Apply(ctx, Txn{Key: "grant:1", Fingerprint: "20", Account: "acme", Kind: "offchain",
		Postings: []Posting{{Book: "cash", Delta: 20}, {Book: "sys:offchain", Delta: -20}}}); err != nil {
		t.Fatal(err)
	}
	// Each case runs in order on the same account.
	tests := []struct {
		name     string
		postings []Posting
		want     error
		cash     money.Units
		credit   money.Units
	}{
		{"cash to exactly zero", []Posting{{Book: "cash", Delta: -20, Floor: FloorZero}, {Book: "sys:r", Delta: 20}}, nil, 0, 0},
		{"cash one unit below zero", []Posting{{Book: "cash", Delta: -1, Floor: FloorZero}, {Book: "sys:r", Delta: 1}}, ErrInsufficient, 0, 0},
		{"cash below zero without a floor", []Posting{{Book: "cash", Delta: -1}, {Book: "sys:r", Delta: 1}}, nil, -1, 0},
		{"back to zero", []Posting{{Book: "cash", Delta: 1}, {Book: "sys:r", Delta: -1}}, nil, 0, 0},
		{"credit to exactly the limit", []Posting{{Book: "credit", Delta: -30, Floor: FloorCreditLimit}, {Book: "sys:r", Delta: 30}}, nil, 0, -30},
		{"credit one unit beyond", []Posting{{Book: "credit", Delta: -1, Floor: FloorCreditLimit}, {Book: "sys:r", Delta: 1}}, ErrInsufficient, 0, -30},
		{"floor checks the net of several postings on one book", []Posting{
			{Book: "cash", Delta: 5}, {Book: "cash", Delta: -5, Floor: FloorZero}, {Book: "credit", Delta: 10}, {Book: "sys:r", Delta: -10},
		}, nil, 0, -20},
		{"every posting's floor applies to the final value", []Posting{
			{Book: "cash", Delta: -1, Floor: FloorZero}, {Book: "cash", Delta: 1}, {Book: "cash", Delta: -1}, {Book: "sys:r", Delta: 1},
		}, ErrInsufficient, 0, -20},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.l.Apply(ctx, Txn{Key: "step:" + strconv.Itoa(i), Fingerprint: "x", Account: "acme", Kind: "offchain", Postings: tt.postings})
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Apply = %v; want %v", err, tt.want)
			}
			a := e.account(t, "acme")
			if a.Cash != tt.cash || a.Books["credit"] != tt.credit {
				t.Fatalf("cash %d credit %d; want %d and %d", a.Cash, a.Books["credit"], tt.cash, tt.credit)
			}
		})
	}
	// The "without a floor" step took cash below zero once; it is back at
	// zero, so Verify is clean again.
	e.mustVerify(t)
}

// TestApplyInt64Exact checks the script's exact int64 arithmetic (Lua
// numbers are doubles) against math/big: the result is written exactly, a
// floor is judged exactly, and any step leaving the int64 range is refused
// before writing.
func TestApplyInt64Exact(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.open(t, "acme")
	acct := acctKey("acme")
	sys := sysKey(tagOf("acme"))
	near := rapid.OneOf(rapid.Int64(), rapid.Int64Range(math.MaxInt64-1e10, math.MaxInt64),
		rapid.Int64Range(math.MinInt64, math.MinInt64+1e10), rapid.Int64Range(-5e9, 5e9))
	n := 0
	// Edges a random search rarely hits: sums whose 1e9 halves have mixed
	// signs, compared against a limit in the same 1e9 band.
	for _, c := range [][4]int64{
		{999999999, -2e9, 1999999999, 1}, {999999999, -2e9, 1000000000, 0}, {1e9, -1, 0, 1},
		{-999999999, 2e9, 0, 1}, {math.MaxInt64, 0, math.MaxInt64, 1}, {math.MinInt64 + 1, 1, math.MaxInt64, 1},
		{-1e9, -1, 1e9, 0}, {-1e9, 0, 1e9, 1}, {999999999, 1, 0, 1}, {-999999999, -1, 1e9, 1},
		{1999999999, 1, 0, 1}, {-1999999999, -1, 3e9, 1}, {5e8, 5e8, 0, 1}, {3e9 + 1, -1e9 - 2, 0, 1},
	} {
		n++
		if err := e.rdb.HSet(ctx, acct, "credit", c[0], fieldLimit, c[2]).Err(); err != nil {
			t.Fatal(err)
		}
		_, err := e.l.Apply(ctx, Txn{Key: "edge" + strconv.Itoa(n), Fingerprint: "f", Account: "acme", Kind: "offchain",
			Postings: []Posting{{Book: "credit", Delta: money.Units(c[1]), Floor: FloorCreditLimit}, {Book: "sys:x", Delta: money.Units(-c[1])}}})
		if ok := err == nil; ok != (c[3] == 1) || !ok && !errors.Is(err, ErrInsufficient) {
			t.Fatalf("credit %d%+d against limit %d: %v; want allowed=%v", c[0], c[1], c[2], err, c[3] == 1)
		}
		want := c[0]
		if err == nil {
			want += c[1]
		}
		if got, _ := e.rdb.HGet(ctx, acct, "credit").Result(); got != strconv.FormatInt(want, 10) {
			t.Fatalf("credit %d%+d: stored %s, want %d", c[0], c[1], got, want)
		}
	}
	rapid.Check(t, func(rt *rapid.T) {
		cur := near.Draw(rt, "cur")
		delta := rapid.OneOf(near, rapid.Int64Range(-5e9, 5e9)).Filter(func(d int64) bool { return d != math.MinInt64 }).Draw(rt, "delta")
		limit := rapid.OneOf(rapid.Int64Range(0, math.MaxInt64), rapid.Int64Range(0, 5e9)).Draw(rt, "limit")
		floor := rapid.SampledFrom([]Floor{FloorNone, FloorZero, FloorCreditLimit}).Draw(rt, "floor")
		// Test-only setup: place an arbitrary balance and limit (Verify is
		// not run here).
		if err := e.rdb.HSet(ctx, acct, "credit", cur, fieldLimit, limit).Err(); err != nil {
			rt.Fatal(err)
		}
		if err := e.rdb.HSet(ctx, sys, "sys:x", 0).Err(); err != nil {
			rt.Fatal(err)
		}
		n++
		_, err := e.l.Apply(ctx, Txn{Key: "k" + strconv.Itoa(n), Fingerprint: "f", Account: "acme", Kind: "offchain",
			Postings: []Posting{{Book: "credit", Delta: money.Units(delta), Floor: floor}, {Book: "sys:x", Delta: money.Units(-delta)}}})
		want := new(big.Int).Add(big.NewInt(cur), big.NewInt(delta))
		got, gerr := e.rdb.HGet(ctx, acct, "credit").Result()
		if gerr != nil {
			rt.Fatal(gerr)
		}
		unchanged := got == strconv.FormatInt(cur, 10)
		switch {
		case !want.IsInt64():
			if !errors.Is(err, money.ErrRange) || !unchanged {
				rt.Fatalf("%d%+d out of range: err %v, book %s", cur, delta, err, got)
			}
		case floor == FloorZero && want.Sign() < 0,
			floor == FloorCreditLimit && want.Int64() < -limit:
			if !errors.Is(err, ErrInsufficient) || !unchanged {
				rt.Fatalf("%d%+d below floor %d (limit %d): err %v, book %s", cur, delta, floor, limit, err, got)
			}
		default:
			if err != nil || got != want.String() {
				rt.Fatalf("%d%+d (floor %d, limit %d): err %v, book %s, want %s", cur, delta, floor, limit, err, got, want)
			}
		}
	})
}

// TestApplyConcurrentPaymentsNeverOverdraw races 20 payments of 1 against a
// cash balance of 10: exactly 10 apply, the rest are refused, cash ends at 0.
func TestApplyConcurrentPaymentsNeverOverdraw(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.open(t, "acme")
	if _, err := e.l.Apply(ctx, Txn{Key: "grant:1", Fingerprint: "10", Account: "acme", Kind: "offchain",
		Postings: []Posting{{Book: "cash", Delta: 10}, {Book: "sys:offchain", Delta: -10}}}); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 20)
	for i := range 20 {
		go func() {
			_, err := e.l.Apply(ctx, pay("acme", "pay:race:"+strconv.Itoa(i), 1, FloorZero))
			errs <- err
		}()
	}
	applied, refused := 0, 0
	for range 20 {
		switch err := <-errs; {
		case err == nil:
			applied++
		case errors.Is(err, ErrInsufficient):
			refused++
		default:
			t.Fatal(err)
		}
	}
	if applied != 10 || refused != 10 || e.account(t, "acme").Cash != 0 {
		t.Fatalf("applied %d refused %d cash %s; want 10, 10, 0", applied, refused, e.account(t, "acme").Cash)
	}
	e.mustVerify(t)
}
