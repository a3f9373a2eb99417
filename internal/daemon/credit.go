package daemon

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/settlement"
	"github.com/depositd/depositd/settlement/ledger"
	"github.com/depositd/depositd/watchers"
)

// crediter is the watchers' Crediter over the ledger: it credits a final
// deposit once and then settles the account's arrears and open statements.
// A settlement failure does not undo or fail the credit: the periodic
// settlement sweep and the next deposit retry it.
type crediter struct {
	ledger *ledger.Ledger
	settle *settlement.Service
	rates  map[string]decimal.Decimal // chain + "/" + symbol → USD per token
	log    *slog.Logger
}

var _ watchers.Crediter = (*crediter)(nil)

func rateKey(chain, symbol string) string { return chain + "/" + symbol }

// Credit implements watchers.Crediter. It is idempotent on the deposit id.
func (c *crediter) Credit(ctx context.Context, t chains.Transfer, account string) error {
	rate, ok := c.rates[rateKey(t.Chain, t.Token)]
	if !ok {
		return fmt.Errorf("credit %s: no rate for %s on %s", t.ID(), t.Token, t.Chain)
	}
	acct, err := ledger.ParseAccountID(account)
	if err != nil {
		return fmt.Errorf("credit %s: %w", t.ID(), err)
	}
	res, err := c.ledger.Credit(ctx, ledger.Deposit{
		ID: t.ID(), Account: acct, Chain: t.Chain, Token: t.Token, Contract: t.Contract,
		TxID: t.TxID, Index: t.Index, Block: t.Block, BlockHash: t.BlockHash, To: t.To,
		Raw: t.Amount, Decimals: t.Decimals, Rate: rate,
	})
	if err != nil {
		return fmt.Errorf("credit %s: %w", t.ID(), err)
	}
	if res.Applied {
		c.log.Info("deposit credited", "id", t.ID(), "account", account, "usd", res.USD.String(), "dust", res.Dust.String())
	}
	if c.settle != nil {
		if _, err := c.settle.SettleAccount(ctx, account); err != nil {
			c.log.Warn("settlement after credit", "account", account, "deposit", t.ID(), "err", err)
		}
	}
	return nil
}
