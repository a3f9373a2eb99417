package settlement

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/outbox"
	"github.com/depositd/depositd/settlement/ledger"
)

// available is the balance alerts watch: cash plus unused credit.
func available(a ledger.Account) money.Units {
	return a.Cash + max(a.CreditLimit-a.CreditUsed, 0)
}

// lowBalanceEvents returns a balance.low event for every threshold of a's
// account that a step spending spent from cash and credit crosses downwards
// (available >= threshold before, < threshold after). The step is guarded by
// the account version a was read at, so "before" is exact and each crossing
// is announced once, by the step that made it; the event id derives from
// the step's idempotency key and the threshold.
func (s *Service) lowBalanceEvents(ctx context.Context, a ledger.Account, spent money.Units, txKey string, now time.Time) ([]outbox.Event, error) {
	if spent <= 0 {
		return nil, nil
	}
	ts, err := s.thresholds(ctx, string(a.ID))
	if err != nil {
		return nil, err
	}
	before := available(a)
	after := before - spent
	var out []outbox.Event
	for _, t := range ts {
		if before >= t && after < t {
			data, err := json.Marshal(map[string]string{
				"account": string(a.ID), "threshold": t.String(),
				"available": after.String(), "previous": before.String(),
			})
			if err != nil {
				return nil, fmt.Errorf("balance.low: %w", err)
			}
			out = append(out, outbox.Event{ID: ledger.EventID(txKey+":"+t.String(), outbox.BalanceLow), Type: outbox.BalanceLow, CreatedAt: now, Data: data})
		}
	}
	return out, nil
}
