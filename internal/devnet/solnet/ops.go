package solnet

import (
	"fmt"

	"github.com/depositd/depositd/chains/address"
	"github.com/gagliardetto/solana-go"
)

// Every operation below executes at once and is included in the next Mine;
// it returns the transaction's base58 signature.

// MintTo mints amount base units of mint into wallet's ATA, creating it.
func (n *Node) MintTo(mint, wallet solana.PublicKey, amount uint64) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	t, err := n.chain.mintTo(mint, wallet, amount)
	return sig(t, err)
}

// Transfer moves amount from fromWallet's ATA to toWallet's ATA
// (TransferChecked), creating the destination ATA in the same transaction
// when missing.
func (n *Node) Transfer(mint, fromWallet, toWallet solana.PublicKey, amount uint64) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	dest, _, err := n.chain.ata(toWallet, mint)
	if err != nil {
		return "", err
	}
	t, err := n.chain.transfer(transfer{mint: mint, from: fromWallet, dest: dest, createFor: &toWallet, amount: amount})
	return sig(t, err)
}

// FailedTransfer includes a transfer like Transfer that fails
// (InstructionError Custom 1): the fee is charged, no token balance
// changes and no account is created.
func (n *Node) FailedTransfer(mint, fromWallet, toWallet solana.PublicKey, amount uint64) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	dest, _, err := n.chain.ata(toWallet, mint)
	if err != nil {
		return "", err
	}
	t, err := n.chain.transfer(transfer{mint: mint, from: fromWallet, dest: dest, createFor: &toWallet, amount: amount, fail: true})
	return sig(t, err)
}

// NestedTransfer sends amount to the ATA derived from toWallet's ATA (a
// "nested" ATA owned by a token account), creating it when missing. It
// returns the signature and the nested account.
func (n *Node) NestedTransfer(mint, fromWallet, toWallet solana.PublicKey, amount uint64) (string, solana.PublicKey, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	outer, m, err := n.chain.ata(toWallet, mint)
	if err != nil {
		return "", solana.PublicKey{}, err
	}
	nested, err := address.SolanaATA(outer, mint, m.program)
	if err != nil {
		return "", solana.PublicKey{}, err
	}
	t, err := n.chain.transfer(transfer{mint: mint, from: fromWallet, dest: nested, createFor: &outer, amount: amount})
	s, err := sig(t, err)
	return s, nested, err
}

// CreateAccount creates a token account of mint owned by owner at a fresh,
// non-associated address and returns it.
func (n *Node) CreateAccount(mint, owner solana.PublicKey) (string, solana.PublicKey, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	acct, t, err := n.chain.createAccount(mint, owner)
	s, err := sig(t, err)
	return s, acct, err
}

// SetOwner hands a legacy-Token account to newOwner (SetAuthority
// AccountOwner). Token-2022 ATAs are immutable and refuse.
func (n *Node) SetOwner(tokenAccount, newOwner solana.PublicKey) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	t, err := n.chain.setOwner(tokenAccount, newOwner)
	return sig(t, err)
}

// TransferAndSetOwner moves amount from fromWallet's ATA into tokenAccount
// and hands tokenAccount to newOwner in the same transaction: the balance
// rises while its owner changes.
func (n *Node) TransferAndSetOwner(mint, fromWallet, tokenAccount, newOwner solana.PublicKey, amount uint64) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if a := n.chain.accounts[tokenAccount]; a != nil && a.program.Equals(solana.Token2022ProgramID) {
		return "", fmt.Errorf("set owner: %s is a Token-2022 account with ImmutableOwner", tokenAccount)
	}
	t, err := n.chain.transfer(transfer{mint: mint, from: fromWallet, dest: tokenAccount, newOwner: &newOwner, amount: amount})
	return sig(t, err)
}

// ATA derives wallet's associated token account for mint under the mint's program.
func (n *Node) ATA(wallet, mint solana.PublicKey) (solana.PublicKey, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	a, _, err := n.chain.ata(wallet, mint)
	return a, err
}

// Balance reports a token account's amount and owner; ok is false when it
// does not exist.
func (n *Node) Balance(tokenAccount solana.PublicKey) (amount uint64, owner solana.PublicKey, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	a := n.chain.accounts[tokenAccount]
	if a == nil {
		return 0, solana.PublicKey{}, false
	}
	return a.amount, a.owner, true
}

func sig(t *tx, err error) (string, error) {
	if err != nil {
		return "", err
	}
	return t.sig.String(), nil
}
