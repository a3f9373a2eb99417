package evmbench

import (
	"encoding/binary"
	"math/big"
	"math/rand/v2"

	"github.com/ethereum/go-ethereum/common"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/evm"
)

// PoolSize is how many distinct recipients evmnet.BuildLarge cycles
// through; WatchEvery of them are watched, so about 1 log in WatchEvery is
// a deposit.
const (
	PoolSize   = 1000
	WatchEvery = 100
)

// Recipient returns BuildLarge's i-th recipient (0 ≤ i < PoolSize).
func Recipient(i int) common.Address { return common.BigToAddress(big.NewInt(int64(0x10000 + i))) }

// WatchedRecipients are the recipients whose index is a multiple of
// WatchEvery; a log j of BuildLarge goes to one of them iff j%WatchEvery == 0.
func WatchedRecipients() []common.Address {
	out := make([]common.Address, 0, PoolSize/WatchEvery)
	for i := 0; i < PoolSize; i += WatchEvery {
		out = append(out, Recipient(i))
	}
	return out
}

// AccountOf is the ledger account a watched recipient's deposits go to.
func AccountOf(i int) string { return "bench-" + itoa(i) }

func itoa(i int) string { return new(big.Int).SetInt64(int64(i)).String() }

// Index is an in-memory EVM address index laid out like addressbook.Index
// (key → account number, accounts in a slice): the watched recipients plus
// deterministic random filler addresses that no log pays.
type Index struct {
	keys     map[chains.AddrKey]uint32
	accounts []string
}

// NewIndex returns an index of total addresses (at least the watched
// ones): watched[i] maps to AccountOf(i); every filler address maps to one
// shared account that is never credited.
func NewIndex(total int, watched []common.Address) *Index {
	total = max(total, len(watched))
	x := &Index{keys: make(map[chains.AddrKey]uint32, total), accounts: make([]string, 0, len(watched)+1)}
	for i, a := range watched {
		x.accounts = append(x.accounts, AccountOf(i))
		x.keys[evm.AddrKey(a)] = uint32(i)
	}
	x.accounts = append(x.accounts, "bench-filler")
	filler := uint32(len(x.accounts) - 1)
	r := rand.New(rand.NewPCG(3, 7))
	for len(x.keys) < total {
		var k chains.AddrKey
		binary.LittleEndian.PutUint64(k[0:], r.Uint64())
		binary.LittleEndian.PutUint64(k[8:], r.Uint64())
		binary.LittleEndian.PutUint32(k[16:], r.Uint32())
		if _, taken := x.keys[k]; !taken {
			x.keys[k] = filler
		}
	}
	return x
}

// Len is the number of indexed addresses.
func (x *Index) Len() int { return len(x.keys) }

// Lookup implements watchers.Index for the EVM family.
func (x *Index) Lookup(f chains.Family, k chains.AddrKey) (string, bool) {
	if f != chains.FamilyEVM {
		return "", false
	}
	n, ok := x.keys[k]
	if !ok {
		return "", false
	}
	return x.accounts[n], true
}

// LookupHolder implements watchers.Index: EVM has no token accounts.
func (x *Index) LookupHolder(chains.AddrKey) (string, chains.AddrKey, bool) {
	return "", chains.AddrKey{}, false
}
