package watchers

import (
	"context"

	"github.com/depositd/depositd/chains"
)

// Index finds the account a deposit address belongs to. The addressbook
// package implements it; lookups must be cheap and safe for concurrent use.
type Index interface {
	Lookup(f chains.Family, k chains.AddrKey) (account string, ok bool)
	// LookupHolder maps a Solana token account to its account and owner wallet.
	LookupHolder(k chains.AddrKey) (account string, wallet chains.AddrKey, ok bool)
}

// Crediter writes final deposits to the ledger. The daemon adapts the
// ledger (and triggers settlement); the watcher never imports it.
type Crediter interface {
	// Credit records the final deposit once; idempotent on t.ID(); an error means retry.
	Credit(ctx context.Context, t chains.Transfer, account string) error
}

// BatchCrediter is a Crediter that also credits many final deposits in one
// call (the final tier then credits each range with one call).
type BatchCrediter interface {
	Crediter
	// CreditBatch credits ts[i] to accounts[i] for every i, each once
	// (idempotent on its id), and returns one error per deposit: nil when it
	// is credited (now or before), else retry.
	CreditBatch(ctx context.Context, ts []chains.Transfer, accounts []string) []error
}

// match returns the transfers that are deposits, in input order. Transfers
// to unwatched addresses are simply not deposits; transfers to watched ones
// that must not count (unknown token, zero, self-transfer, below the token's
// minimum, Solana holder not owned by the recipient wallet) are counted by
// reason when count is set (the final tier counts; the tip tier would count
// the same transfers twice).
func (w *Watcher) match(ts []chains.Transfer, count bool) []Match {
	var out []Match
	for _, t := range ts {
		account, ok := w.recipient(t, count)
		if !ok {
			continue
		}
		reason := ""
		tok, known := w.tokens[t.Token]
		switch {
		case !known:
			reason = ReasonToken
		case t.Amount == nil || t.Amount.Sign() <= 0:
			reason = ReasonZero
		case w.isWatched(t.FromKey):
			reason = ReasonSelf
		case tok.MinRaw != nil && t.Amount.Cmp(tok.MinRaw) < 0:
			reason = ReasonBelowMin
		}
		if reason != "" {
			if count {
				w.metrics.ignored.WithLabelValues(w.name, t.Token, reason).Inc()
			}
			continue
		}
		out = append(out, Match{Transfer: t, Account: account})
	}
	return out
}

// recipient finds the account of t's recipient. On Solana the token account
// (Holder) is matched and its owner must be the recipient wallet.
func (w *Watcher) recipient(t chains.Transfer, count bool) (string, bool) {
	if w.cfg.Family != chains.FamilySolana {
		return w.index.Lookup(w.cfg.Family, t.ToKey)
	}
	account, wallet, ok := w.index.LookupHolder(t.HolderKey)
	if !ok {
		return "", false
	}
	if wallet != t.ToKey {
		if count {
			w.metrics.ignored.WithLabelValues(w.name, t.Token, ReasonNotOwner).Inc()
		}
		return "", false
	}
	return account, true
}

func (w *Watcher) isWatched(k chains.AddrKey) bool {
	if k == (chains.AddrKey{}) {
		return false // mints and unknown senders
	}
	_, ok := w.index.Lookup(w.cfg.Family, k)
	return ok
}
