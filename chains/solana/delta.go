package solana

import (
	"fmt"

	"github.com/depositd/depositd/chains"
	"github.com/gagliardetto/solana-go"
	"github.com/mr-tron/base58"
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

// acctKey is a decoded account key with its text, which for a valid 32-byte
// key is the one canonical base58 form.
type acctKey struct {
	text string
	raw  chains.AddrKey
}

// parseKey decodes a base58 key of exactly 32 bytes.
func parseKey(s string) (acctKey, error) {
	b, err := base58.Decode(s)
	if err != nil || len(b) != 32 {
		return acctKey{}, fmt.Errorf("account key %.64q: not base58 of 32 bytes", s)
	}
	k := acctKey{text: s}
	copy(k.raw[:], b)
	return k, nil
}

// credit is one positive balance delta that passed the rule.
type credit struct {
	mint   *mintRef
	index  uint16
	holder acctKey // the token account
	owner  acctKey // its (unchanged) owner wallet
	from   acctKey // owner of the single decreasing account of the mint, if exactly one
	amount uint64
}

// dropped is one positive balance change of a configured mint that was
// not credited.
type dropped struct {
	mint   *mintRef
	reason DropReason
	index  uint16
	holder string
	owner  string
	amount uint64
}

// mintRef is a configured mint with its texts for matching wire strings.
type mintRef struct {
	*Mint
	mint, program string
}

// matcher applies the delta rule for the configured mints.
type matcher struct {
	mints  map[string]*mintRef
	nested func(owner chains.AddrKey) bool // nil: no nested check
}

func newMatcher(mints []Mint, nested func(chains.AddrKey) bool) *matcher {
	m := &matcher{mints: make(map[string]*mintRef, len(mints)), nested: nested}
	for i := range mints {
		m.mints[mints[i].Mint.String()] = &mintRef{Mint: &mints[i], mint: mints[i].Mint.String(), program: mints[i].Program.String()}
	}
	return m
}

// deltas applies the credit rule to one transaction: for every post balance
// of a configured mint, joined to its pre balance by accountIndex (missing
// pre = 0, the account was created in the transaction), a positive delta is
// credited when the transaction succeeded, both entries name the mint's
// token program, and the owner is known and unchanged. Amounts are per
// token account, never summed per owner. Balances whose owner is one of our
// token accounts (matcher.nested) are dropped as DropNested. A key that a
// credit names and that is not base58 of 32 bytes is an error.
func (m *matcher) deltas(t *txn) (credits []credit, drops []dropped, err error) {
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
		case post.program != mint.program || (before != nil && before.program != mint.program):
			d.reason = DropProgram
		case post.owner == "" || (before != nil && before.owner == ""):
			d.reason = DropOwnerUnknown
		case before != nil && before.owner != post.owner:
			d.reason = DropOwnerChanged
		}
		c := credit{mint: mint, index: post.index, amount: d.amount}
		if d.reason == "" {
			if c.owner, err = parseKey(post.owner); err != nil {
				return nil, nil, fmt.Errorf("tx %.88s: owner: %w", t.sig, err)
			}
			if m.nested != nil && m.nested(c.owner.raw) {
				d.reason = DropNested
			}
		}
		if d.reason != "" {
			drops = append(drops, d)
			continue
		}
		if c.holder, err = parseKey(t.keys[post.index]); err != nil {
			return nil, nil, fmt.Errorf("tx %.88s: token account: %w", t.sig, err)
		}
		credits = append(credits, c)
	}
	if len(credits) > 0 {
		if err := validSignature(t.sig); err != nil {
			return nil, nil, err
		}
		if err := senders(t, pre, credits); err != nil {
			return nil, nil, err
		}
	}
	return credits, drops, nil
}

func validSignature(s string) error {
	if _, err := solana.SignatureFromBase58(s); err != nil {
		return fmt.Errorf("tx signature %.88q: %w", s, err)
	}
	return nil
}

// senders fills credit.from with the owner of the one account of the same
// mint whose balance fell, when there is exactly one; otherwise the sender
// stays unknown (swaps, batches).
func senders(t *txn, pre map[uint16]*balance, credits []credit) error {
	post := make(map[uint16]*balance, len(t.post))
	for i := range t.post {
		post[t.post[i].index] = &t.post[i]
	}
	for i := range credits {
		c := &credits[i]
		from, n := "", 0
		for idx, b := range pre {
			if b.mint != c.mint.mint || b.owner == "" {
				continue
			}
			after := post[idx]
			if (after == nil && b.amount > 0) || (after != nil && after.amount < b.amount) {
				from = b.owner
				n++
			}
		}
		if n == 1 {
			k, err := parseKey(from)
			if err != nil {
				return fmt.Errorf("tx %.88s: sender: %w", t.sig, err)
			}
			c.from = k
		}
	}
	return nil
}
