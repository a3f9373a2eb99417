package ledger

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"pgregory.net/rapid"

	"github.com/depositd/depositd/money"
)

// model is what the ledger's customer balances must be.
type model struct {
	cash, credit, limit map[AccountID]money.Units
	credited            []Deposit
}

// TestLedgerProperties runs random sequences of credits, replays, cash and
// credit payments and limit changes against the ledger and a plain model:
// every step's outcome matches the model and Verify stays clean.
func TestLedgerProperties(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ids := []AccountID{"acme", "globex", "initech"}
	e.open(t, ids...)
	m := model{cash: map[AccountID]money.Units{}, credit: map[AccountID]money.Units{}, limit: map[AccountID]money.Units{}}
	seq := 0
	rapid.Check(t, func(rt *rapid.T) {
		steps := rapid.IntRange(1, 25).Draw(rt, "steps")
		for range steps {
			seq++
			id := rapid.SampledFrom(ids).Draw(rt, "account")
			amt := money.Units(rapid.Int64Range(0, 50).Draw(rt, "amount")) * 1_00000000
			key := "op:" + strconv.Itoa(seq)
			switch op := rapid.IntRange(0, 4).Draw(rt, "op"); op {
			case 0: // a new deposit
				d := usdt(id, "0x"+strconv.Itoa(seq), 0, int64(amt/100)+1)
				c, err := e.l.Credit(ctx, d)
				if err != nil || !c.Applied {
					rt.Fatalf("credit: %+v, %v", c, err)
				}
				m.cash[id] += c.USD
				m.credited = append(m.credited, d)
			case 1: // a replay of an earlier deposit
				if len(m.credited) == 0 {
					continue
				}
				d := rapid.SampledFrom(m.credited).Draw(rt, "replay")
				if c, err := e.l.Credit(ctx, d); err != nil || c.Applied {
					rt.Fatalf("replay: %+v, %v", c, err)
				}
			case 2: // pay from cash
				_, err := e.l.Apply(ctx, pay(id, key, amt, FloorZero))
				check(rt, "pay", err, m.cash[id] >= amt)
				if err == nil {
					m.cash[id] -= amt
				}
			case 3: // pay on credit
				_, err := e.l.Apply(ctx, Txn{Key: key, Fingerprint: "f", Account: id, Kind: "payment", Postings: []Posting{
					{Book: "credit", Delta: -amt, Floor: FloorCreditLimit}, {Book: "sys:receivable", Delta: amt}}})
				check(rt, "credit payment", err, m.credit[id]-amt >= -m.limit[id])
				if err == nil {
					m.credit[id] -= amt
				}
			case 4: // change the credit limit
				err := e.l.SetCreditLimit(ctx, id, amt)
				check(rt, "limit", err, amt >= -m.credit[id])
				if err == nil {
					m.limit[id] = amt
				}
			}
			a, err := e.l.Account(ctx, id)
			if err != nil {
				rt.Fatal(err)
			}
			if a.Cash != m.cash[id] || a.Books["credit"] != m.credit[id] || a.CreditLimit != m.limit[id] {
				rt.Fatalf("%s: cash %s credit %s limit %s; model %s %s %s", id, a.Cash, a.Books["credit"], a.CreditLimit,
					m.cash[id], m.credit[id], m.limit[id])
			}
		}
		bs, err := e.l.Verify(ctx)
		if err != nil || len(bs) != 0 {
			rt.Fatalf("verify: %+v, %v", bs, err)
		}
	})
}

// check asserts a step succeeded when the model allows it and was refused
// with ErrInsufficient otherwise.
func check(rt *rapid.T, what string, err error, allowed bool) {
	if allowed && err != nil || !allowed && !errors.Is(err, ErrInsufficient) {
		rt.Fatalf("%s: err %v; model allows it: %v", what, err, allowed)
	}
}
