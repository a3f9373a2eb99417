package chaos

import (
	"context"
	"fmt"
	"math/big"
	"slices"
	"strings"

	"github.com/gagliardetto/solana-go"
	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/evm"
	sol "github.com/depositd/depositd/chains/solana"
	"github.com/depositd/depositd/chains/tron"
	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/outbox"
	"github.com/depositd/depositd/settlement"
	"github.com/depositd/depositd/settlement/ledger"
)

// unitsPerUSD is 10^money.Scale.
var unitsPerUSD = new(big.Int).Exp(big.NewInt(10), big.NewInt(money.Scale), nil)

// checker compares the ledger with the chains and reads the statements
// and the webhook deliveries once everything is quiet.
type checker struct {
	nets     *nets
	rdb      redis.UniversalClient
	ledger   *ledger.Ledger
	settle   *settlement.Service
	accounts []account
	recv     *receiver
	s        *Summary
}

func (c *checker) run(ctx context.Context, finals finalMarks) error {
	truth, err := c.truth(ctx, finals)
	if err != nil {
		return fmt.Errorf("chaos checker: reading the chains: %w", err)
	}
	if err := c.deposits(ctx, truth); err != nil {
		return err
	}
	if err := c.books(ctx, truth); err != nil {
		return err
	}
	if err := c.statements(ctx); err != nil {
		return err
	}
	return c.events(ctx)
}

// truth reads every canonical final transfer of the watched tokens to a
// watched address, straight from each node (not through a proxy), with a
// fresh adapter.
func (c *checker) truth(ctx context.Context, finals finalMarks) (map[string]chains.Transfer, error) {
	owner := map[string]string{} // deposit address (canonical text) → account
	wallets := map[chains.AddrKey]string{}
	for _, a := range c.accounts {
		owner[a.evm.Hex()] = a.id
		owner[a.tron] = a.id
		wallets[chains.AddrKey(a.solana)] = a.id
	}
	out := map[string]chains.Transfer{}
	keep := func(ts []chains.Transfer, watched func(chains.Transfer) bool) {
		for _, t := range ts {
			if watched(t) {
				out[t.ID()] = t
			}
		}
	}
	for _, e := range c.nets.evm {
		cl, err := evm.New(evm.Config{Chain: e.name, Endpoints: []string{e.chain.URL()},
			Tokens: []evm.Token{{Symbol: "USDT", Contract: e.token, Decimals: int32(e.decimals)}}})
		if err != nil {
			return nil, err
		}
		ts, err := cl.Transfers(ctx, 1, finals[e.name])
		cl.Close()
		if err != nil {
			return nil, err
		}
		keep(ts, func(t chains.Transfer) bool { _, ok := owner[t.To]; return ok })
	}
	tn := c.nets.tron
	tc, err := tron.New(ctx, tron.Config{Name: "tron", FullNodes: []string{tn.node.Addr()}, SolidityNodes: []string{tn.node.SolidityAddr()},
		Tokens: []tron.Token{{Symbol: "USDT", Contract: tn.usdt, Decimals: 6}}})
	if err != nil {
		return nil, err
	}
	ts, err := tc.Transfers(ctx, 1, finals["tron"])
	tc.Close()
	if err != nil {
		return nil, err
	}
	keep(ts, func(t chains.Transfer) bool { _, ok := owner[t.To]; return ok })
	sn := c.nets.sol
	sc, err := sol.New(sol.Config{Name: "solana", Endpoints: []string{sn.node.URL()},
		Mints: []sol.Mint{{Symbol: "USDT", Mint: sn.mint, Program: solana.TokenProgramID, Decimals: 6}}})
	if err != nil {
		return nil, err
	}
	ts, err = sc.Transfers(ctx, 1, finals["solana"])
	sc.Close()
	if err != nil {
		return nil, err
	}
	atas := map[chains.AddrKey]chains.AddrKey{}
	for _, a := range c.accounts {
		ata, err := sn.node.ATA(a.solana, sn.mint)
		if err != nil {
			return nil, err
		}
		atas[chains.AddrKey(ata)] = chains.AddrKey(a.solana)
	}
	keep(ts, func(t chains.Transfer) bool { w, ok := atas[t.HolderKey]; return ok && w == t.ToKey })
	return out, nil
}

// deposits: every final transfer credited exactly once, nothing else.
func (c *checker) deposits(ctx context.Context, truth map[string]chains.Transfer) error {
	ids, err := c.ledger.DepositIDs(ctx)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	s := c.s
	s.FinalDeposits = len(truth)
	for id, n := range seen {
		if n > 1 {
			s.Doubled++
			s.problem("deposit %s credited %d times", id, n)
		}
		if _, ok := truth[id]; !ok {
			s.Unfounded++
			s.problem("deposit %s credited without a final transfer", id)
		}
	}
	for id, t := range truth {
		s.FinalByChain[t.Chain]++
		if seen[id] == 0 {
			s.Lost++
			s.problem("final transfer %s (block %d) not credited", id, t.Block)
		} else {
			s.Credited++
		}
	}
	return nil
}

// books: ledger.Verify clean (balances, conservation, events), and each
// account's deposit entries add up to the USD of its final transfers.
func (c *checker) books(ctx context.Context, truth map[string]chains.Transfer) error {
	breaches, err := c.ledger.Verify(ctx)
	if err != nil {
		return err
	}
	for _, b := range breaches {
		c.s.problem("ledger verify: %+v", b)
	}
	want := map[string]money.Units{}
	owner := map[string]string{}
	for _, a := range c.accounts {
		owner[strings.ToLower(a.evm.Hex())] = a.id
		owner[strings.ToLower(a.tron)] = a.id
		owner[strings.ToLower(a.solana.String())] = a.id
	}
	for _, t := range truth {
		// Every campaign amount is whole cents: exact in Units for 6 and 18 decimals.
		u := new(big.Int).Mul(t.Amount, unitsPerUSD)
		u.Quo(u, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Decimals)), nil))
		want[owner[strings.ToLower(t.To)]] += money.Units(u.Int64())
		c.s.DepositedUSD += money.Units(u.Int64())
	}
	for _, a := range c.accounts {
		got, err := c.replay(ctx, a.id)
		if err != nil {
			return err
		}
		if got != want[a.id] {
			c.s.problem("account %s: deposit entries %s, final transfers %s", a.id, got, want[a.id])
		}
	}
	return nil
}

// replay walks an account's entries in ledger order, folding its books,
// and checks the payment sequence of every statement payment: credit is
// drawn only once cash is exhausted, and cash or credit only once the
// account's coupon (campaign coupons cover every service and never
// expire) is used up. It returns the cash the deposit entries added.
func (c *checker) replay(ctx context.Context, id string) (money.Units, error) {
	books := map[string]money.Units{}
	var deposits money.Units
	for cursor := ""; ; {
		es, next, err := c.ledger.Entries(ctx, ledger.AccountID(id), cursor, ledger.MaxPage)
		if err != nil {
			return 0, err
		}
		for _, e := range es {
			var cash, credit money.Units
			for _, p := range e.Postings {
				books[p.Book] += p.Delta
				switch p.Book {
				case "cash":
					cash += p.Delta
				case "credit":
					credit += p.Delta
				}
			}
			switch e.Kind {
			case "deposit":
				deposits += cash
			case "statement.payment":
				c.s.Payments++
				if credit < 0 && books["cash"] != 0 {
					c.s.problem("%s entry %s: drew credit %s with cash %s left", id, e.ID, -credit, books["cash"])
				}
				if cash < 0 || credit < 0 {
					for b, v := range books {
						if strings.HasPrefix(b, "coupon:") && v > 0 {
							c.s.problem("%s entry %s: paid cash %s / credit %s with coupon %s holding %s", id, e.ID, -cash, -credit, b, v)
						}
					}
				}
			}
		}
		if next == "" {
			return deposits, nil
		}
		cursor = next
	}
}

// statements: discounted amounts within the official price, paid = the
// sum of the lines' paid parts, third-party lines never paid, state
// consistent with what is due.
func (c *checker) statements(ctx context.Context) error {
	sts, err := c.settle.Statements(ctx, settlement.Filter{})
	if err != nil {
		return err
	}
	for _, st := range sts {
		c.s.Statements[st.Status]++
		var paid money.Units
		for i, l := range st.Lines {
			if l.Amount > l.Official || l.Paid < 0 || l.Paid > l.Amount || (l.ThirdParty && l.Paid != 0) {
				c.s.problem("statement %s line %d: official %s amount %s paid %s third-party %v", st.ID, i+1, l.Official, l.Amount, l.Paid, l.ThirdParty)
			}
			paid += l.Paid
		}
		due := st.Due()
		okState := map[settlement.Status]bool{
			settlement.Paid:          due == 0,
			settlement.Pending:       due > 0 && paid == 0,
			settlement.PartiallyPaid: due > 0 && paid > 0,
			settlement.Overdue:       due > 0,
		}[st.Status]
		if paid != st.PaidTotal() || !okState {
			c.s.problem("statement %s: %s with lines paid %s, paid total %s, due %s", st.ID, st.Status, paid, st.PaidTotal(), due)
		}
	}
	return nil
}

// events: every outbox event has a delivery that ended delivered (and the
// receiver verified it) or dead.
func (c *checker) events(ctx context.Context) error {
	var ids []string
	for _, s := range outbox.Streams() {
		xs, err := c.rdb.XRange(ctx, s, "-", "+").Result()
		if err != nil {
			return err
		}
		for _, x := range xs {
			id, _ := x.Values[outbox.FieldID].(string)
			ids = append(ids, id)
		}
	}
	status := map[string]string{}
	for _, st := range []string{"delivered", "dead", "pending", "failed", "disabled"} {
		ms, err := c.rdb.ZRange(ctx, deliveryKey(st), 0, -1).Result()
		if err != nil {
			return err
		}
		for _, m := range ms {
			_, id, _ := strings.Cut(m, "|")
			status[id] = st
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	c.s.Events = len(ids)
	for _, id := range ids {
		st := status[id+":receiver"]
		switch {
		case st == "delivered" && c.recv.inner.Count(id) > 0:
			c.s.Delivered++
		case st == "dead":
			c.s.DeadLettered++
		default:
			c.s.Undelivered++
			c.s.problem("event %s: delivery %q, received %d times", id, st, c.recv.inner.Count(id))
		}
	}
	return nil
}
