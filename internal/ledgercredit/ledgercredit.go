// Package ledgercredit is the glue between the chain watchers and the
// ledger: it maps a final on-chain transfer to a ledger deposit and credits
// it. The daemon wraps it with settlement; tests and benchmarks use it as
// it is, so every path credits exactly as production does.
package ledgercredit

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/settlement/ledger"
)

// Deposit maps a final transfer paying account to the ledger's deposit, at
// rate USD per whole token.
func Deposit(t chains.Transfer, account string, rate decimal.Decimal) (ledger.Deposit, error) {
	acct, err := ledger.ParseAccountID(account)
	if err != nil {
		return ledger.Deposit{}, fmt.Errorf("credit %s: %w", t.ID(), err)
	}
	return ledger.Deposit{
		ID: t.ID(), Account: acct, Chain: t.Chain, Token: t.Token, Contract: t.Contract,
		TxID: t.TxID, Index: t.Index, Block: t.Block, BlockHash: t.BlockHash, To: t.To,
		Raw: t.Amount, Decimals: t.Decimals, Rate: rate,
	}, nil
}

// Crediter credits final transfers through the ledger (it has the
// watchers.Crediter method set). Rate gives the USD rate
// of a chain's token; ok=false refuses the credit (an unconfigured token).
// Safe for concurrent use; idempotent on the deposit id.
type Crediter struct {
	Ledger  *ledger.Ledger
	Rate    func(chain, token string) (decimal.Decimal, bool)
	applied atomic.Int64
}

// OneUSD prices every token at 1 USD (tests and benchmarks).
func OneUSD(string, string) (decimal.Decimal, bool) { return decimal.NewFromInt(1), true }

// Credit implements watchers.Crediter. An error means the credit did not
// happen (or its outcome is unknown) and must be retried.
func (c *Crediter) Credit(ctx context.Context, t chains.Transfer, account string) error {
	_, err := c.CreditDeposit(ctx, t, account)
	return err
}

// CreditDeposit credits t to account and returns what the ledger did.
func (c *Crediter) CreditDeposit(ctx context.Context, t chains.Transfer, account string) (ledger.Credit, error) {
	rate, ok := c.Rate(t.Chain, t.Token)
	if !ok {
		return ledger.Credit{}, fmt.Errorf("credit %s: no rate for %s on %s", t.ID(), t.Token, t.Chain)
	}
	d, err := Deposit(t, account, rate)
	if err != nil {
		return ledger.Credit{}, err
	}
	res, err := c.Ledger.Credit(ctx, d)
	if err != nil {
		return ledger.Credit{}, fmt.Errorf("credit %s: %w", t.ID(), err)
	}
	if res.Applied {
		c.applied.Add(1)
	}
	return res, nil
}

// CreditBatch implements watchers.BatchCrediter: one ledger.CreditBatch
// (two pipelined round trips) for all of ts.
func (c *Crediter) CreditBatch(ctx context.Context, ts []chains.Transfer, accounts []string) []error {
	errs := make([]error, len(ts))
	for i, r := range c.CreditDeposits(ctx, ts, accounts) {
		errs[i] = r.Err
	}
	return errs
}

// CreditDeposits credits ts[i] to accounts[i] in one ledger.CreditBatch and
// returns what the ledger did with each.
func (c *Crediter) CreditDeposits(ctx context.Context, ts []chains.Transfer, accounts []string) []ledger.CreditResult {
	out := make([]ledger.CreditResult, len(ts))
	ds := make([]ledger.Deposit, 0, len(ts))
	idx := make([]int, 0, len(ts))
	for i, t := range ts {
		rate, ok := c.Rate(t.Chain, t.Token)
		if !ok {
			out[i].Err = fmt.Errorf("credit %s: no rate for %s on %s", t.ID(), t.Token, t.Chain)
			continue
		}
		d, err := Deposit(t, accounts[i], rate)
		if err != nil {
			out[i].Err = err
			continue
		}
		ds, idx = append(ds, d), append(idx, i)
	}
	if len(ds) == 0 {
		return out
	}
	for j, r := range c.Ledger.CreditBatch(ctx, ds) {
		i := idx[j]
		out[i] = r
		if r.Err != nil {
			out[i].Err = fmt.Errorf("credit %s: %w", ts[i].ID(), r.Err)
		} else if r.Applied {
			c.applied.Add(1)
		}
	}
	return out
}

// Applied is the number of first-time credits made through c.
func (c *Crediter) Applied() int64 { return c.applied.Load() }
