package ledger

import (
	"context"
	"slices"
	"sort"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/outbox"
)

// scenario fills a ledger with credits, payments on cash and credit, a
// coupon grant and lock, over accounts in several shards.
func scenario(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	ids := []AccountID{"acme", "globex", "initech", "umbrella"}
	e.open(t, ids...)
	for i, id := range ids {
		if err := e.l.SetCreditLimit(ctx, id, 100_00000000); err != nil {
			t.Fatal(err)
		}
		for j := range 3 {
			if _, err := e.l.Credit(ctx, usdt(id, "0x"+string(id), uint32(j), int64(10_000000*(i+j+1)))); err != nil {
				t.Fatal(err)
			}
		}
		key := "pay:" + string(id) + ":1"
		if _, err := e.l.Apply(ctx, Txn{Key: key, Fingerprint: "p", Account: id, Kind: "payment",
			Postings: []Posting{
				{Book: "cash", Delta: -5_00000000, Floor: FloorZero},
				{Book: "credit", Delta: -7_00000000, Floor: FloorCreditLimit},
				{Book: "sys:receivable", Delta: 12_00000000},
			},
			Events: []outbox.Event{{ID: EventID(key, outbox.StatementPaid), Type: outbox.StatementPaid, Data: []byte(`{}`)}},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.l.Apply(ctx, Txn{Key: "coupon:" + string(id), Fingerprint: "c", Account: id, Kind: "coupon.grant",
			Postings: []Posting{
				{Book: "coupon:c1", Delta: 3_00000000}, {Book: "coupon:c1", Delta: -1_00000000, Floor: FloorZero},
				{Book: "coupon_locked:c1", Delta: 1_00000000}, {Book: "sys:coupons", Delta: -3_00000000},
			}}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		corrupt func(t *testing.T, e *env)
		want    []string // invariants that must be reported
	}{
		{"clean", func(*testing.T, *env) {}, nil},
		{"hand-corrupted cash balance", func(t *testing.T, e *env) {
			do(t, e.rdb.HSet(ctx, acctKey("globex"), "cash", "999"))
		}, []string{InvConservation, InvDerivable}},
		{"negative cash", func(t *testing.T, e *env) {
			do(t, e.rdb.HSet(ctx, acctKey("acme"), "cash", "-1"))
		}, []string{InvConservation, InvDerivable, InvNoNegative}},
		{"credit beyond the limit", func(t *testing.T, e *env) {
			do(t, e.rdb.HSet(ctx, acctKey("acme"), fieldLimit, "1"))
		}, []string{InvCreditLimit}},
		{"corrupted system book", func(t *testing.T, e *env) {
			do(t, e.rdb.HIncrBy(ctx, sysKey(tagOf("initech")), "sys:receivable", 1))
		}, []string{InvConservation, InvDerivable}},
		{"missing outbox event", func(t *testing.T, e *env) {
			msgs, err := e.rdb.XRange(ctx, outbox.Stream(outbox.ShardOf("umbrella")), "-", "+").Result()
			if err != nil || len(msgs) == 0 {
				t.Fatalf("outbox: %v, %v", msgs, err)
			}
			do(t, e.rdb.XDel(ctx, outbox.Stream(outbox.ShardOf("umbrella")), msgs[len(msgs)-1].ID))
		}, []string{InvOutbox}},
		{"idempotency record without an entry", func(t *testing.T, e *env) {
			do(t, e.rdb.HSet(ctx, idemKey(tagOf("acme")), "pay:ghost:1", "ent_ghost|acme|1-0|fp"))
		}, []string{InvIdempotency}},
		{"unbalanced entry", func(t *testing.T, e *env) {
			do(t, e.rdb.XAdd(ctx, &redis.XAddArgs{Stream: entriesKey("acme"), ID: "*",
				Values: []string{"id", "ent_x", "key", "x", "kind", "offchain", "p", `[{"b":"cash","d":1}]`, "m", "{}", "ev", ""}}))
		}, []string{InvBalanced, InvDerivable}},
		{"deposit credited to a second account around the binding", func(t *testing.T, e *env) {
			if _, err := e.l.Apply(ctx, Txn{Key: "dep:ethereum:0xacme:0", Fingerprint: "other", Account: "globex", Kind: "deposit",
				Postings: []Posting{{Book: "cash", Delta: 1}, {Book: "sys:deposits:ethereum:USDT", Delta: -1}}}); err != nil {
				t.Fatal(err)
			}
		}, []string{InvExactlyOnce}},
		{"account missing from the accounts set", func(t *testing.T, e *env) {
			do(t, e.rdb.SRem(ctx, accountsKey, "initech"))
		}, []string{InvAccounts}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			scenario(t, e)
			e.mustVerify(t)
			tt.corrupt(t, e)
			bs, err := e.l.Verify(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, b := range bs {
				got[b.Invariant] = true
			}
			var inv []string
			for k := range got {
				inv = append(inv, k)
			}
			sort.Strings(inv)
			want := append([]string(nil), tt.want...)
			sort.Strings(want)
			if !slices.Equal(inv, want) {
				t.Fatalf("breaches %+v\ninvariants %v; want %v", bs, inv, want)
			}
		})
	}
}

func do(t *testing.T, c redis.Cmder) {
	t.Helper()
	if err := c.Err(); err != nil {
		t.Fatal(err)
	}
}
