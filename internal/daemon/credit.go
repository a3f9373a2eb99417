package daemon

import (
	"context"
	"log/slog"

	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/config"
	"github.com/depositd/depositd/internal/ledgercredit"
	"github.com/depositd/depositd/settlement"
	"github.com/depositd/depositd/settlement/ledger"
	"github.com/depositd/depositd/watchers"
)

// crediter is the watchers' Crediter over the ledger: it credits a final
// deposit once and then settles the account's arrears and open statements.
// A settlement failure does not undo or fail the credit: the periodic
// settlement sweep and the next deposit retry it.
type crediter struct {
	credit *ledgercredit.Crediter
	settle *settlement.Service
	log    *slog.Logger
}

var _ watchers.BatchCrediter = (*crediter)(nil)

// rates returns the configured USD rate of each chain's tokens.
func rates(cfg *config.Config) func(chain, token string) (decimal.Decimal, bool) {
	m := map[string]decimal.Decimal{}
	for _, c := range cfg.Chains {
		for _, t := range c.Tokens {
			m[c.Name+"/"+t.Symbol] = t.USDRate
		}
	}
	return func(chain, token string) (decimal.Decimal, bool) {
		r, ok := m[chain+"/"+token]
		return r, ok
	}
}

// Credit implements watchers.Crediter. It is idempotent on the deposit id.
func (c *crediter) Credit(ctx context.Context, t chains.Transfer, account string) error {
	res, err := c.credit.CreditDeposit(ctx, t, account)
	if err != nil {
		return err
	}
	c.logCredit(t, account, res)
	c.settleAfter(ctx, t, account)
	return nil
}

// CreditBatch implements watchers.BatchCrediter: one ledger batch, then the
// settlement of each account the batch credited (once per account).
func (c *crediter) CreditBatch(ctx context.Context, ts []chains.Transfer, accounts []string) []error {
	errs := make([]error, len(ts))
	settled := map[string]bool{}
	for i, r := range c.credit.CreditDeposits(ctx, ts, accounts) {
		if errs[i] = r.Err; r.Err != nil {
			continue
		}
		c.logCredit(ts[i], accounts[i], r.Credit)
		if !settled[accounts[i]] {
			settled[accounts[i]] = true
			c.settleAfter(ctx, ts[i], accounts[i])
		}
	}
	return errs
}

func (c *crediter) logCredit(t chains.Transfer, account string, res ledger.Credit) {
	if res.Applied {
		c.log.Info("deposit credited", "id", t.ID(), "account", account, "usd", res.USD.String(), "dust", res.Dust.String())
	}
}

func (c *crediter) settleAfter(ctx context.Context, t chains.Transfer, account string) {
	if c.settle == nil {
		return
	}
	if _, err := c.settle.SettleAccount(ctx, account); err != nil {
		c.log.Warn("settlement after credit", "account", account, "deposit", t.ID(), "err", err)
	}
}
