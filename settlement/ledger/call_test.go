package ledger

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/money"
)

// sameShard returns n account ids that share one shard, so their steps go
// in one script call.
func sameShard(t *testing.T, n int) []AccountID {
	t.Helper()
	byTag := map[string][]AccountID{}
	for i := 0; i < 10000; i++ {
		id := AccountID("cust" + strconv.Itoa(i))
		tag := tagOf(id)
		byTag[tag] = append(byTag[tag], id)
		if len(byTag[tag]) == n {
			return byTag[tag]
		}
	}
	t.Fatalf("no %d accounts in one shard", n)
	return nil
}

// A script call reads and writes the account, system and idempotency
// hashes once; a step that fails with a script error must still leave the
// earlier steps of the call fully written, so a retry replays them.
func TestCallErrorKeepsEarlierSteps(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ids := sameShard(t, 2)
	e.open(t, ids...)
	batch := []Deposit{usdt(ids[0], "0xa1", 0, 5_000000), usdt(ids[1], "0xb1", 0, 7_000000)}
	acct1 := tagOf(ids[1]) + ":acct:" + string(ids[1])
	if err := e.rdb.HSet(ctx, acct1, "cash", "not-a-number").Err(); err != nil {
		t.Fatal(err)
	}
	for i, r := range e.l.CreditBatch(ctx, batch) {
		if r.Err == nil {
			t.Fatalf("deposit %d: credited in a call that raised an error", i)
		}
	}
	if got := e.account(t, ids[0]).Books["cash"]; got != 5*usdUnit {
		t.Fatalf("%s cash after the failed call = %s, want 5 USD (the step before the error applied)", ids[0], got)
	}
	if err := e.rdb.HSet(ctx, acct1, "cash", "0").Err(); err != nil {
		t.Fatal(err)
	}
	res := e.l.CreditBatch(ctx, batch)
	for i, want := range []bool{false, true} {
		if res[i].Err != nil || res[i].Applied != want {
			t.Fatalf("retry, deposit %d: %+v, want Applied=%v", i, res[i], want)
		}
	}
	e.mustVerify(t)
}

// A guard reads the stored state as the earlier steps of its call left it.
func TestCallGuardSeesEarlierSteps(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.open(t, "acme")
	v0 := e.account(t, "acme").Version
	dep, _, _, err := e.l.depositStep(usdt("acme", "0xc1", 0, 10_000000))
	if err != nil {
		t.Fatal(err)
	}
	guarded := func(key string, ver int64) step {
		tx := pay("acme", key, usdUnit, FloorZero)
		tx.Guards = []Guard{{Key: "acct:acme", Field: fieldVersion, Equals: strconv.FormatInt(ver, 10)}}
		s, err := e.l.prepare(tx, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	res, err := e.l.runSteps(ctx, []step{dep, guarded("pay:1", v0+1), guarded("pay:2", v0+1)})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].err != nil || !res[0].Applied {
		t.Fatalf("deposit: %+v", res[0])
	}
	if res[1].err != nil || !res[1].Applied {
		t.Fatalf("payment guarded on the version after the deposit: %+v", res[1])
	}
	if !errors.Is(res[2].err, ErrConflict) {
		t.Fatalf("payment guarded on a version an earlier step changed: %v, want ErrConflict", res[2].err)
	}
	a := e.account(t, "acme")
	if a.Books["cash"] != 9*usdUnit || a.Version != v0+2 {
		t.Fatalf("account after the call: cash %s version %d, want 9 USD and %d", a.Books["cash"], a.Version, v0+2)
	}
	e.mustVerify(t)
}

// On Redis Cluster every key a script call touches must be in its shard's
// slot: a batch over accounts of every shard credits once, replays, and
// verifies clean.
func TestCreditBatchOnCluster(t *testing.T) {
	ctx := context.Background()
	l := New(redistest.NewCluster(t).Client(t), newClock().Now)
	ids := make([]AccountID, 48)
	for i := range ids {
		ids[i] = AccountID("acct" + strconv.Itoa(i))
		if err := l.CreateAccount(ctx, Account{ID: ids[i], Name: "Customer"}); err != nil {
			t.Fatal(err)
		}
	}
	batch := make([]Deposit, 300)
	for i := range batch {
		batch[i] = usdt(ids[i%len(ids)], "0xc"+strconv.Itoa(i), 0, 1_000000)
	}
	for round, applied := range []bool{true, false} {
		for i, r := range l.CreditBatch(ctx, batch) {
			if r.Err != nil || r.Applied != applied || r.USD != usdUnit {
				t.Fatalf("round %d, deposit %d: %+v, want Applied=%v and 1 USD", round, i, r, applied)
			}
		}
	}
	a, err := l.Account(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := money.Units(len(batch)/len(ids)+1) * usdUnit; a.Books["cash"] != want {
		t.Fatalf("%s cash %s, want %s", ids[0], a.Books["cash"], want)
	}
	bs, err := l.Verify(ctx)
	if err != nil || len(bs) != 0 {
		t.Fatalf("verify: %v %+v", err, bs)
	}
}

const usdUnit money.Units = 100_000_000 // 1 USD in units of 1e-8
