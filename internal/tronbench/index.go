package tronbench

import (
	"github.com/ethereum/go-ethereum/common"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/internal/evmbench"
)

// Index serves evmbench.Index's addresses to the Tron family: a Tron
// AddrKey is the same 20 account bytes left-aligned as an EVM one, so the
// EVM index's keys and accounts fit unchanged.
type Index struct{ evm *evmbench.Index }

// NewIndex returns an index of total addresses holding the watched
// recipients evmbench.WatchedRecipients() (or none when watched is false)
// plus random filler addresses that no transfer pays.
func NewIndex(total int, watched bool) *Index {
	var ws []common.Address
	if watched {
		ws = evmbench.WatchedRecipients()
	}
	return &Index{evm: evmbench.NewIndex(total, ws)}
}

// Len is the number of indexed addresses.
func (x *Index) Len() int { return x.evm.Len() }

// Lookup implements watchers.Index for the Tron family.
func (x *Index) Lookup(f chains.Family, k chains.AddrKey) (string, bool) {
	if f != chains.FamilyTron {
		return "", false
	}
	return x.evm.Lookup(chains.FamilyEVM, k)
}

// LookupHolder implements watchers.Index: Tron has no token accounts.
func (x *Index) LookupHolder(chains.AddrKey) (string, chains.AddrKey, bool) {
	return "", chains.AddrKey{}, false
}
