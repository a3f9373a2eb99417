package solana

import (
	"github.com/depositd/depositd/chains"
	"github.com/gagliardetto/solana-go"
)

// DropReason says why a token balance change of a configured mint was not
// reported as a transfer.
type DropReason string

const (
	// DropFailed: the transaction failed (meta.err set); nothing moved.
	DropFailed DropReason = "failed"
	// DropProgram: the balance names another (or no) token program than the
	// mint's configured one.
	DropProgram DropReason = "program"
	// DropOwnerUnknown: the balance carries no owner (old blocks).
	DropOwnerUnknown DropReason = "owner_unknown"
	// DropOwnerChanged: the account's owner changed in the transaction
	// (legacy SPL Token allows SetAuthority(AccountOwner)).
	DropOwnerChanged DropReason = "owner_changed"
	// DropNested: the account is owned by one of our token accounts (a
	// nested ATA); only RecoverNested signed by the wallet can move it.
	DropNested DropReason = "nested"
)

// credit is one positive balance delta that passed the rule.
type credit struct {
	mint   *Mint
	index  uint16
	holder solana.PublicKey // the token account
	owner  solana.PublicKey // its (unchanged) owner wallet
	from   solana.PublicKey // owner of the single decreasing account of the mint, if exactly one
	amount uint64
}

// dropped is one balance change of a configured mint that was not credited.
type dropped struct {
	mint   *Mint
	reason DropReason
	index  uint16
	holder solana.PublicKey
	owner  solana.PublicKey
	amount uint64
}

// matcher applies the delta rule for the configured mints.
type matcher struct {
	mints  map[solana.PublicKey]*Mint
	nested func(owner chains.AddrKey) bool // nil: no nested check
}

func newMatcher(mints []Mint, nested func(chains.AddrKey) bool) *matcher {
	m := &matcher{mints: make(map[solana.PublicKey]*Mint, len(mints)), nested: nested}
	for i := range mints {
		m.mints[mints[i].Mint] = &mints[i]
	}
	return m
}

// deltas applies the credit rule to one transaction: for every post balance
// of a configured mint, joined to its pre balance by accountIndex (missing
// pre = 0, the account was created in the transaction), a positive delta is
// credited when the transaction succeeded, both entries name the mint's
// token program, and the owner is known and unchanged. Amounts are summed
// per token account, never per owner. Balances whose owner is one of our
// token accounts (matcher.nested) are dropped as DropNested.
func (m *matcher) deltas(t *txn) (credits []credit, drops []dropped) {
	var pre map[uint16]*balance
	for i := range t.post {
		post := &t.post[i]
		mint, ok := m.mints[post.mint]
		if !ok {
			continue
		}
		if pre == nil {
			pre = make(map[uint16]*balance, len(t.pre))
			for j := range t.pre {
				pre[t.pre[j].index] = &t.pre[j]
			}
		}
		before := pre[post.index]
		if before != nil && before.mint != post.mint {
			before = nil // closed and re-created for another mint
		}
		var old uint64
		if before != nil {
			old = before.amount
		}
		if post.amount <= old {
			continue
		}
		d := dropped{mint: mint, index: post.index, holder: t.keys[post.index], owner: post.owner, amount: post.amount - old}
		switch {
		case t.failed:
			d.reason = DropFailed
		case !post.hasProgram || post.program != mint.Program || (before != nil && (!before.hasProgram || before.program != mint.Program)):
			d.reason = DropProgram
		case !post.hasOwner || (before != nil && !before.hasOwner):
			d.reason = DropOwnerUnknown
		case before != nil && before.owner != post.owner:
			d.reason = DropOwnerChanged
		case m.nested != nil && m.nested(chains.AddrKey(post.owner)):
			d.reason = DropNested
		}
		if d.reason != "" {
			drops = append(drops, d)
			continue
		}
		credits = append(credits, credit{mint: mint, index: post.index, holder: d.holder, owner: post.owner, amount: d.amount})
	}
	if len(credits) > 0 {
		m.senders(t, pre, credits)
	}
	return credits, drops
}

// senders fills credit.from with the owner of the one account of the same
// mint whose balance fell, when there is exactly one; otherwise the sender
// stays unknown (swaps, batches).
func (m *matcher) senders(t *txn, pre map[uint16]*balance, credits []credit) {
	post := make(map[uint16]*balance, len(t.post))
	for i := range t.post {
		post[t.post[i].index] = &t.post[i]
	}
	for i := range credits {
		c := &credits[i]
		var from solana.PublicKey
		n := 0
		for idx, b := range pre {
			if b.mint != c.mint.Mint || !b.hasOwner {
				continue
			}
			after := post[idx]
			if (after == nil && b.amount > 0) || (after != nil && after.amount < b.amount) {
				from = b.owner
				n++
			}
		}
		if n == 1 {
			c.from = from
		}
	}
}
