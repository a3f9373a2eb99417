package solnet

import (
	"errors"
	"fmt"
	"sort"

	"github.com/depositd/depositd/chains/address"
	"github.com/gagliardetto/solana-go"
)

const (
	txFee       = 5000
	rentExempt  = 2039280 // lamports of a 165-byte token account
	startingSOL = 10_000_000_000
)

// instruction is one parsed instruction as jsonParsed renders it.
type instruction map[string]any

func parsedIx(program string, programID solana.PublicKey, typ string, info map[string]any) instruction {
	return instruction{"parsed": map[string]any{"info": info, "type": typ}, "program": program, "programId": programID.String(), "stackHeight": nil}
}

func programName(program solana.PublicKey) string {
	if program.Equals(solana.Token2022ProgramID) {
		return "spl-token-2022"
	}
	return "spl-token"
}

// exec builds and executes one transaction. keys[0] pays the fee; watch
// lists the token accounts whose balances the tx reports. apply (skipped
// when failErr is set) must validate before it mutates anything.
func (c *chain) exec(keys []accountKey, watch []solana.PublicKey, ixs []instruction, logs []string, failErr any, apply func() error) (*tx, error) {
	t := &tx{sig: c.newSig(), keys: keys, fee: txFee, ixs: ixs, logs: logs, err: failErr}
	pos := map[solana.PublicKey]int{}
	for i, k := range keys {
		pos[k.key] = i
	}
	snap := func() []tokenBal {
		var out []tokenBal
		for _, w := range watch {
			a := c.accounts[w]
			if a == nil {
				continue
			}
			out = append(out, tokenBal{index: pos[w], mint: a.mint, owner: a.owner, program: a.program, amount: a.amount, decimals: c.mints[a.mint].decimals})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].index < out[j].index })
		return out
	}
	existed := map[solana.PublicKey]bool{}
	for _, w := range watch {
		existed[w] = c.accounts[w] != nil
	}
	for _, k := range keys {
		if _, ok := c.lamports[k.key]; !ok && k.signer {
			c.lamports[k.key] = startingSOL
		}
		t.preLamports = append(t.preLamports, c.lamports[k.key])
	}
	t.pre = snap()
	if failErr == nil {
		if err := apply(); err != nil {
			return nil, err
		}
	}
	payer := keys[0].key
	c.lamports[payer] -= min(txFee, c.lamports[payer])
	for _, w := range watch {
		if !existed[w] && c.accounts[w] != nil {
			t.created = append(t.created, w)
			c.lamports[payer] -= min(rentExempt, c.lamports[payer])
			c.lamports[w] = rentExempt
		}
	}
	t.post = snap()
	for _, k := range keys {
		t.postLamports = append(t.postLamports, c.lamports[k.key])
	}
	c.pending = append(c.pending, t)
	return t, nil
}

// keyList collects distinct account keys in order of first use.
type keyList []accountKey

func (l *keyList) add(k solana.PublicKey, signer, writable bool) {
	for i := range *l {
		if (*l)[i].key == k {
			(*l)[i].signer = (*l)[i].signer || signer
			(*l)[i].writable = (*l)[i].writable || writable
			return
		}
	}
	*l = append(*l, accountKey{key: k, signer: signer, writable: writable})
}

// transfer describes one token movement from a wallet's ATA.
type transfer struct {
	mint, from solana.PublicKey
	dest       solana.PublicKey  // destination token account
	createFor  *solana.PublicKey // create dest as this owner's ATA when missing
	newOwner   *solana.PublicKey // hand dest to this owner in the same tx
	amount     uint64
	fail       bool
}

func (c *chain) ata(owner, mint solana.PublicKey) (solana.PublicKey, *mintState, error) {
	m := c.mints[mint]
	if m == nil {
		return solana.PublicKey{}, nil, fmt.Errorf("mint %s: unknown", mint)
	}
	a, err := address.SolanaATA(owner, mint, m.program)
	return a, m, err
}

func (c *chain) transfer(p transfer) (*tx, error) {
	src, m, err := c.ata(p.from, p.mint)
	if err != nil {
		return nil, err
	}
	if p.amount == 0 {
		return nil, errors.New("transfer: zero amount")
	}
	srcAcct, dst := c.accounts[src], c.accounts[p.dest]
	if !p.fail {
		switch {
		case srcAcct == nil || srcAcct.amount < p.amount:
			return nil, fmt.Errorf("transfer: %s holds too little %s", p.from, p.mint)
		case dst == nil && p.createFor == nil:
			return nil, fmt.Errorf("transfer: token account %s does not exist", p.dest)
		case dst != nil && dst.mint != p.mint:
			return nil, fmt.Errorf("transfer: token account %s holds mint %s", p.dest, dst.mint)
		}
	}
	var keys keyList
	keys.add(p.from, true, true)
	keys.add(src, false, true)
	keys.add(p.dest, false, true)
	var ixs []instruction
	logs := []string{}
	if p.createFor != nil && dst == nil {
		keys.add(*p.createFor, false, false)
		ixs = append(ixs, parsedIx("spl-associated-token-account", solana.SPLAssociatedTokenAccountProgramID, "create", map[string]any{
			"account": p.dest.String(), "mint": p.mint.String(), "source": p.from.String(),
			"systemProgram": solana.SystemProgramID.String(), "tokenProgram": m.program.String(), "wallet": p.createFor.String()}))
		logs = append(logs, invoke(solana.SPLAssociatedTokenAccountProgramID, "Create")...)
	}
	keys.add(p.mint, false, false)
	keys.add(solana.SystemProgramID, false, false)
	keys.add(m.program, false, false)
	if p.createFor != nil && dst == nil {
		keys.add(solana.SPLAssociatedTokenAccountProgramID, false, false)
	}
	ixs = append(ixs, parsedIx(programName(m.program), m.program, "transferChecked", map[string]any{
		"authority": p.from.String(), "destination": p.dest.String(), "mint": p.mint.String(), "source": src.String(),
		"tokenAmount": uiAmount(p.amount, m.decimals)}))
	logs = append(logs, invoke(m.program, "TransferChecked")...)
	if p.newOwner != nil {
		ixs = append(ixs, parsedIx(programName(m.program), m.program, "setAuthority", map[string]any{
			"account": p.dest.String(), "authority": p.from.String(), "authorityType": "accountOwner", "newAuthority": p.newOwner.String()}))
		logs = append(logs, invoke(m.program, "SetAuthority")...)
	}
	var failErr any
	if p.fail {
		failErr = map[string]any{"InstructionError": []any{len(ixs) - 1, map[string]any{"Custom": 1}}}
		logs[len(logs)-1] = fmt.Sprintf("Program %s failed: custom program error: 0x1", m.program)
	}
	return c.exec(keys, []solana.PublicKey{src, p.dest}, ixs, logs, failErr, func() error {
		if dst == nil {
			dst = &tokenAccount{mint: p.mint, owner: *p.createFor, program: m.program}
			c.accounts[p.dest] = dst
		}
		srcAcct.amount -= p.amount
		dst.amount += p.amount
		if p.newOwner != nil {
			dst.owner = *p.newOwner
		}
		return nil
	})
}

func invoke(program solana.PublicKey, ix string) []string {
	return []string{
		fmt.Sprintf("Program %s invoke [1]", program),
		"Program log: Instruction: " + ix,
		fmt.Sprintf("Program %s success", program),
	}
}

// mintTo mints amount to owner's ATA, creating it when missing.
func (c *chain) mintTo(mint, owner solana.PublicKey, amount uint64) (*tx, error) {
	dest, m, err := c.ata(owner, mint)
	if err != nil {
		return nil, err
	}
	if amount == 0 || m.supply+amount < m.supply {
		return nil, fmt.Errorf("mint %d: zero or supply overflow", amount)
	}
	var keys keyList
	keys.add(m.authority, true, true)
	keys.add(dest, false, true)
	keys.add(owner, false, false)
	keys.add(mint, false, true)
	keys.add(solana.SystemProgramID, false, false)
	keys.add(m.program, false, false)
	keys.add(solana.SPLAssociatedTokenAccountProgramID, false, false)
	ixs := []instruction{
		parsedIx("spl-associated-token-account", solana.SPLAssociatedTokenAccountProgramID, "createIdempotent", map[string]any{
			"account": dest.String(), "mint": mint.String(), "source": m.authority.String(),
			"systemProgram": solana.SystemProgramID.String(), "tokenProgram": m.program.String(), "wallet": owner.String()}),
		parsedIx(programName(m.program), m.program, "mintTo", map[string]any{
			"account": dest.String(), "amount": fmt.Sprint(amount), "mint": mint.String(), "mintAuthority": m.authority.String()}),
	}
	logs := append(invoke(solana.SPLAssociatedTokenAccountProgramID, "CreateIdempotent"), invoke(m.program, "MintTo")...)
	return c.exec(keys, []solana.PublicKey{dest}, ixs, logs, nil, func() error {
		a := c.accounts[dest]
		if a == nil {
			a = &tokenAccount{mint: mint, owner: owner, program: m.program}
			c.accounts[dest] = a
		}
		a.amount += amount
		m.supply += amount
		return nil
	})
}

// createAccount creates a token account at a fresh (non-ATA) address.
func (c *chain) createAccount(mint, owner solana.PublicKey) (solana.PublicKey, *tx, error) {
	m := c.mints[mint]
	if m == nil {
		return solana.PublicKey{}, nil, fmt.Errorf("mint %s: unknown", mint)
	}
	acct := c.newKey("account")
	var keys keyList
	keys.add(owner, true, true)
	keys.add(acct, true, true)
	keys.add(mint, false, false)
	keys.add(solana.SystemProgramID, false, false)
	keys.add(m.program, false, false)
	ixs := []instruction{
		parsedIx("system", solana.SystemProgramID, "createAccount", map[string]any{
			"lamports": rentExempt, "newAccount": acct.String(), "owner": m.program.String(), "source": owner.String(), "space": 165}),
		parsedIx(programName(m.program), m.program, "initializeAccount3", map[string]any{
			"account": acct.String(), "mint": mint.String(), "owner": owner.String()}),
	}
	logs := append(invoke(solana.SystemProgramID, "CreateAccount"), invoke(m.program, "InitializeAccount3")...)
	t, err := c.exec(keys, []solana.PublicKey{acct}, ixs, logs, nil, func() error {
		c.accounts[acct] = &tokenAccount{mint: mint, owner: owner, program: m.program}
		return nil
	})
	return acct, t, err
}

// setOwner hands a legacy-Token account to newOwner (SetAuthority
// AccountOwner, signed by the current owner). Token-2022 accounts created
// through the ATA program carry ImmutableOwner and refuse it.
func (c *chain) setOwner(account, newOwner solana.PublicKey) (*tx, error) {
	a := c.accounts[account]
	if a == nil {
		return nil, fmt.Errorf("set owner: token account %s does not exist", account)
	}
	if a.program.Equals(solana.Token2022ProgramID) {
		return nil, fmt.Errorf("set owner: %s is a Token-2022 account with ImmutableOwner", account)
	}
	var keys keyList
	keys.add(a.owner, true, true)
	keys.add(account, false, true)
	keys.add(a.program, false, false)
	ixs := []instruction{parsedIx(programName(a.program), a.program, "setAuthority", map[string]any{
		"account": account.String(), "authority": a.owner.String(), "authorityType": "accountOwner", "newAuthority": newOwner.String()})}
	return c.exec(keys, []solana.PublicKey{account}, ixs, invoke(a.program, "SetAuthority"), nil, func() error {
		a.owner = newOwner
		return nil
	})
}
