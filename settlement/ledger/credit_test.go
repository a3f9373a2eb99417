package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/outbox"
)

// bscUSDT is an 18-decimal deposit as on BSC (fixtures/bsc: USDT has 18 dp).
func bscUSDT(acct AccountID, tx string, index uint32, raw *big.Int) Deposit {
	d := usdt(acct, tx, index, 0)
	d.ID = "bsc:" + tx + ":" + itoa(index)
	d.Chain, d.Contract, d.Raw, d.Decimals = "bsc", "0x55d398326f99059fF775485246999027B3197955", raw, 18
	return d
}

func itoa(n uint32) string { return big.NewInt(int64(n)).String() }

func TestCreditAmounts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.open(t, "acme")
	tests := []struct {
		name string
		dep  Deposit
		usd  money.Units
		dust string
	}{
		// ethereum fixture, logIndex 58: 500 USDT.
		{"500 USDT on ethereum", usdt("acme", "0x80cbf946", 58, 500000000), 500_00000000, "0"},
		// bsc fixture, txIndex 18: 729 USDT in 18 decimals.
		{"729 USDT on bsc", bscUSDT("acme", "0xb18", 0, mustBig(t, "729000000000000000000")), 729_00000000, "0"},
		// bsc fixture, txIndex 12: 0.002138 USDT.
		{"0.002138 USDT on bsc", bscUSDT("acme", "0xb12", 0, mustBig(t, "2138000000000000")), 213800, "0"},
		{"18 decimals floored to 8", bscUSDT("acme", "0xb99", 3, mustBig(t, "123456789012345678")), 12345678, "0.000000009012345678"},
		{"dust only still records an entry", bscUSDT("acme", "0xb98", 1, big.NewInt(1)), 0, "0.000000000000000001"},
		{"rate below one", func() Deposit {
			d := usdt("acme", "0xr", 1, 3)
			d.Rate = decimal.RequireFromString("0.9999")
			return d
		}(), 299, "0.0000000097"},
	}
	var total money.Units
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, events := e.entryCount(t, "acme"), e.outboxLen(t, "acme")
			c, err := e.l.Credit(ctx, tt.dep)
			if err != nil {
				t.Fatal(err)
			}
			if !c.Applied || c.USD != tt.usd || c.Dust.String() != tt.dust {
				t.Fatalf("Credit = %+v; want applied, usd %s, dust %s", c, tt.usd, tt.dust)
			}
			total += tt.usd
			if a := e.account(t, "acme"); a.Cash != total {
				t.Fatalf("cash %s; want %s", a.Cash, total)
			}
			if e.entryCount(t, "acme") != entries+1 || e.outboxLen(t, "acme") != events+1 {
				t.Fatal("credit did not write exactly one entry and one event")
			}
		})
	}
	sys, _ := e.rdb.HGetAll(ctx, sysKey(tagOf("acme"))).Result()
	if sys["sys:deposits:ethereum:USDT"] != "-50000000299" || sys["sys:deposits:bsc:USDT"] != "-72912559478" {
		t.Fatalf("system books %v", sys)
	}
	e.mustVerify(t)
}

func TestCreditEvent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.open(t, "acme")
	d := bscUSDT("acme", "0xa08ff8cf", 68, mustBig(t, "10000000000000000123"))
	c, err := e.l.Credit(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := e.rdb.XRange(ctx, outbox.Stream(outbox.ShardOf("acme")), "-", "+").Result()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("outbox: %v, %v", msgs, err)
	}
	v := msgs[0].Values
	if v[outbox.FieldID] != EventID("dep:bsc:0xa08ff8cf:68", outbox.DepositCredited) || v[outbox.FieldType] != outbox.DepositCredited ||
		v[outbox.FieldCreatedAt] != "2026-11-01T00:00:00Z" {
		t.Fatalf("event fields %v", v)
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(v[outbox.FieldData].(string)), &data); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id": "bsc:0xa08ff8cf:68", "account": "acme", "chain": "bsc", "token": "USDT", "tx": "0xa08ff8cf",
		"index": 68.0, "block": 17053184.0, "to": d.To, "raw_amount": "10000000000000000123",
		"amount": "10.000000000000000123", "usd": "10.00000000", "dust": "0.000000000000000123", "entry_id": c.EntryID,
	}
	for k, w := range want {
		if data[k] != w {
			t.Errorf("event data %s = %v; want %v", k, data[k], w)
		}
	}
	if len(data) != len(want) {
		t.Errorf("event data has %d fields; want %d: %v", len(data), len(want), data)
	}
}

func TestCreditIdempotent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.open(t, "acme", "other", "third")
	d := usdt("acme", "0xaa", 7, 25_000000)
	first, err := e.l.Credit(ctx, d)
	if err != nil || !first.Applied {
		t.Fatalf("first credit %+v, %v", first, err)
	}

	t.Run("sequential replay moves nothing", func(t *testing.T) {
		again, err := e.l.Credit(ctx, d)
		if err != nil || again.Applied || again.EntryID != first.EntryID || again.USD != first.USD {
			t.Fatalf("replay %+v, %v; want the first credit, not applied", again, err)
		}
	})
	t.Run("8 concurrent credits of a new deposit move money once", func(t *testing.T) {
		d2 := usdt("acme", "0xbb", 1, 3_000000)
		var wg sync.WaitGroup
		results := make([]Credit, 8)
		errs := make([]error, 8)
		for i := range 8 {
			wg.Add(1)
			go func() { defer wg.Done(); results[i], errs[i] = e.l.Credit(ctx, d2) }()
		}
		wg.Wait()
		applied := 0
		for i := range 8 {
			if errs[i] != nil {
				t.Fatalf("goroutine %d: %v", i, errs[i])
			}
			if results[i].Applied {
				applied++
			}
			if results[i].EntryID != results[0].EntryID || results[i].USD != 3_00000000 {
				t.Fatalf("goroutine %d: %+v", i, results[i])
			}
		}
		if applied != 1 {
			t.Fatalf("%d goroutines applied the credit; want 1", applied)
		}
	})
	t.Run("replay under a changed rate reports what was credited", func(t *testing.T) {
		d3 := d
		d3.Rate = decimal.RequireFromString("0.5")
		again, err := e.l.Credit(ctx, d3)
		if err != nil || again.Applied || again.USD != 25_00000000 {
			t.Fatalf("replay at another rate %+v, %v; want the stored 25 USD", again, err)
		}
	})
	if a := e.account(t, "acme"); a.Cash != 28_00000000 {
		t.Fatalf("cash %s; want 28", a.Cash)
	}

	rejected := []struct {
		name   string
		mutate func(*Deposit)
	}{
		{"another amount", func(d *Deposit) { d.Raw = big.NewInt(26_000000) }},
		{"another token", func(d *Deposit) { d.Token = "USDC" }},
		{"another contract", func(d *Deposit) { d.Contract = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48" }},
		{"another decimals", func(d *Deposit) { d.Decimals = 18 }},
		{"another account", func(d *Deposit) { d.Account = "other" }},
		{"a third account", func(d *Deposit) { d.Account = "third" }},
	}
	for _, tt := range rejected {
		t.Run("same id with "+tt.name, func(t *testing.T) {
			bad := d
			tt.mutate(&bad)
			if _, err := e.l.Credit(ctx, bad); !errors.Is(err, ErrFingerprint) {
				t.Fatalf("Credit = %v; want ErrFingerprint", err)
			}
		})
	}
	for _, id := range []AccountID{"acme", "other", "third"} {
		want := money.Units(0)
		if id == "acme" {
			want = 28_00000000
		}
		if a := e.account(t, id); a.Cash != want {
			t.Fatalf("%s cash %s; want %s", id, a.Cash, want)
		}
	}
	e.mustVerify(t)
}

func TestCreditRejectsInvalidDeposits(t *testing.T) {
	e := newEnv(t)
	e.open(t, "acme")
	tests := []struct {
		name   string
		mutate func(*Deposit)
		want   error
	}{
		{"id not chain:tx:index", func(d *Deposit) { d.ID = "ethereum:0xaa:8" }, errAny},
		{"nil amount", func(d *Deposit) { d.Raw = nil }, errAny},
		{"zero amount", func(d *Deposit) { d.Raw = big.NewInt(0) }, errAny},
		{"negative amount", func(d *Deposit) { d.Raw = big.NewInt(-1) }, errAny},
		{"zero rate", func(d *Deposit) { d.Rate = decimal.Zero }, errAny},
		{"decimals out of range", func(d *Deposit) { d.Decimals = 99 }, errAny},
		{"amount beyond int64 units", func(d *Deposit) { d.Raw = mustBig(t, "100000000000000000000000") }, money.ErrRange},
		{"chain with a colon", func(d *Deposit) { d.Chain = "a:b"; d.ID = "a:b:0xaa:7" }, errAny},
		{"empty token", func(d *Deposit) { d.Token = "" }, errAny},
		{"empty tx", func(d *Deposit) { d.TxID = ""; d.ID = "ethereum::7" }, errAny},
		{"invalid account", func(d *Deposit) { d.Account = "a b" }, errAny},
		{"missing account", func(d *Deposit) { d.Account = "nobody" }, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := usdt("acme", "0xaa", 7, 1_000000)
			tt.mutate(&d)
			_, err := e.l.Credit(context.Background(), d)
			if err == nil || tt.want != errAny && !errors.Is(err, tt.want) {
				t.Fatalf("Credit = %v; want %v", err, tt.want)
			}
		})
	}
	if a := e.account(t, "acme"); a.Cash != 0 || a.Version != 1 {
		t.Fatalf("rejected deposits changed the account: %+v", a)
	}
	e.mustVerify(t)
}

func TestCreditBatch(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.open(t, "acme", "other")
	if _, err := e.l.Credit(ctx, usdt("acme", "0x01", 0, 1_000000)); err != nil {
		t.Fatal(err)
	}
	bad := usdt("acme", "0x03", 0, 1_000000)
	bad.Raw = nil
	batch := []Deposit{
		usdt("acme", "0x01", 0, 1_000000),  // replay
		usdt("acme", "0x02", 0, 2_000000),  // new
		bad,                                // invalid
		usdt("other", "0x01", 0, 1_000000), // bound to acme
		usdt("other", "0x04", 0, 4_000000), // new, other shard
		usdt("acme", "0x02", 0, 2_000000),  // repeated within the batch
	}
	res := e.l.CreditBatch(ctx, batch)
	type want struct {
		applied bool
		err     error
	}
	wants := []want{{false, nil}, {true, nil}, {false, errAny}, {false, ErrFingerprint}, {true, nil}, {false, nil}}
	for i, w := range wants {
		r := res[i]
		switch {
		case w.err == nil && r.Err != nil, w.err != nil && r.Err == nil, w.err != nil && w.err != errAny && !errors.Is(r.Err, w.err):
			t.Errorf("deposit %d: err %v; want %v", i, r.Err, w.err)
		case r.Applied != w.applied:
			t.Errorf("deposit %d: applied %v; want %v", i, r.Applied, w.applied)
		}
	}
	for i, r := range res {
		if r.Err != nil && r.Credit != (Credit{}) {
			t.Errorf("deposit %d failed but returned %+v", i, r.Credit)
		}
	}
	if res[5].EntryID != res[1].EntryID || res[5].USD != 2_00000000 {
		t.Errorf("in-batch repeat %+v; want entry %s", res[5], res[1].EntryID)
	}
	if a, o := e.account(t, "acme"), e.account(t, "other"); a.Cash != 3_00000000 || o.Cash != 4_00000000 {
		t.Fatalf("cash acme %s other %s; want 3 and 4", a.Cash, o.Cash)
	}
	e.mustVerify(t)
}

func TestCreditSurvivesKill9(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.open(t, "acme")
	d1, d2 := usdt("acme", "0x01", 0, 10_000000), usdt("acme", "0x02", 5, 20_000000)
	c1, err := e.l.Credit(ctx, d1)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Restart(ctx); err != nil { // SIGKILL, then start on the same AOF
		t.Fatal(err)
	}
	if _, err := e.l.Credit(ctx, d2); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range []Deposit{d1, d2} {
		r, err := e.l.Credit(ctx, d)
		if err != nil || r.Applied {
			t.Fatalf("re-credit %s after kill -9: %+v, %v; want already applied", d.ID, r, err)
		}
		if d == d1 && r.EntryID != c1.EntryID {
			t.Fatalf("entry id changed across restart: %s vs %s", r.EntryID, c1.EntryID)
		}
	}
	if a := e.account(t, "acme"); a.Cash != 30_00000000 || a.Version != 3 {
		t.Fatalf("after two kill -9: cash %s version %d; want 30 and 3", a.Cash, a.Version)
	}
	if n := e.outboxLen(t, "acme"); n != 2 {
		t.Fatalf("outbox has %d events; want 2", n)
	}
	e.mustVerify(t)
}

// TestCreditBatchLarge spans several shards and more steps per shard than
// one script call holds, with repeats inside the batch.
func TestCreditBatchLarge(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ids := []AccountID{"acme", "globex", "initech"}
	e.open(t, ids...)
	var batch []Deposit
	for i := range 3 * maxStepsPerCall {
		batch = append(batch, usdt(ids[i%3], "0xl", uint32(i), 1_000000))
	}
	batch = append(batch, batch[:maxStepsPerCall+5]...)
	applied := 0
	for i, r := range e.l.CreditBatch(ctx, batch) {
		if r.Err != nil {
			t.Fatalf("deposit %d: %v", i, r.Err)
		}
		if r.Applied {
			applied++
		}
		if i >= 3*maxStepsPerCall && r.Applied {
			t.Fatalf("repeat %d applied", i)
		}
	}
	if applied != 3*maxStepsPerCall {
		t.Fatalf("%d applied; want %d", applied, 3*maxStepsPerCall)
	}
	for _, id := range ids {
		if a := e.account(t, id); a.Cash != maxStepsPerCall*1_00000000 {
			t.Fatalf("%s cash %s; want %d", id, a.Cash, maxStepsPerCall)
		}
	}
	e.mustVerify(t)
}

// TestCreditStreamSurvivesKill9 kills redis-server twice while deposits
// flow; every credit is retried until acknowledged, as a watcher would. In
// the end each deposit moved money exactly once and the ledger is clean.
func TestCreditStreamSurvivesKill9(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ids := []AccountID{"acme", "globex", "initech", "umbrella"}
	e.open(t, ids...)
	const n = 300
	progress := make(chan int, n)
	done := make(chan error, 1)
	go func() {
		for i := range n {
			d := usdt(ids[i%len(ids)], "0xk", uint32(i), int64(i+1)*1_000000)
			var err error
			for attempt := 0; attempt < 1000; attempt++ {
				if _, err = e.l.Credit(ctx, d); err == nil {
					break
				}
			}
			if err != nil {
				done <- fmt.Errorf("deposit %d: %w", i, err)
				return
			}
			progress <- i
		}
		done <- nil
	}()
	restarts := 0
	for i := range progress {
		if (i == n/3 || i == 2*n/3) && restarts < 2 {
			restarts++
			if err := e.srv.Restart(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if i == n-1 {
			break
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var want, got money.Units
	for i := range n {
		want += money.Units(i+1) * 1_00000000
	}
	for _, id := range ids {
		got += e.account(t, id).Cash
	}
	if got != want || restarts != 2 {
		t.Fatalf("cash %s after %d restarts; want %s", got, restarts, want)
	}
	var events int64
	for _, id := range ids {
		events += e.outboxLen(t, id)
	}
	if events != n {
		t.Fatalf("%d outbox events; want %d", events, n)
	}
	e.mustVerify(t)
}
