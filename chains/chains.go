// Package chains holds what every chain adapter produces and what the
// chain-independent watcher consumes: block headers, head markers and token
// transfers, plus the Source interface each adapter implements.
//
// Adapters (chains/evm, chains/tron, chains/solana) import this package and
// nothing above it: they know nothing of watchers, settlement or the API.
package chains

import (
	"context"
	"errors"
	"math/big"
)

// Family is the address family of a chain: one deposit address per account
// per family (ethereum and bsc share the evm family).
type Family string

const (
	FamilyEVM    Family = "evm"
	FamilyTron   Family = "tron"
	FamilySolana Family = "solana"
)

// AddrKey is the binary form of an address used for in-memory matching:
// EVM and Tron addresses are the 20 account bytes left-aligned (Tron without
// its 0x41 prefix); Solana keys use all 32 bytes.
type AddrKey [32]byte

// Header is one block (or Solana slot) as the node reports it. Hash and Parent
// are the node's own strings, never recomputed.
type Header struct {
	Number uint64
	Hash   string
	Parent string
	Time   int64 // unix seconds
}

// Heads are the chain's head markers at one instant. Final is the highest
// block the chain's finality policy considers irreversible (EVM finalized tag,
// Tron solidified block, Solana finalized slot).
type Heads struct {
	Latest uint64
	Safe   uint64
	Final  uint64
}

// Transfer is one token transfer of a configured token, as found in a block.
type Transfer struct {
	Chain     string
	Token     string // configured symbol, e.g. "USDT"
	Contract  string // token contract / mint, canonical text form
	TxID      string // 0x-hex tx hash, Tron txid hex, Solana signature
	Index     uint32 // log index (EVM), log position in tx (Tron), account index (Solana)
	Block     uint64
	BlockHash string
	From      string // canonical text form; empty when the chain does not say
	FromKey   AddrKey
	To        string // canonical text form of the deposit address (Solana: the owner wallet)
	ToKey     AddrKey
	// Holder is set on Solana only: the token account whose balance rose. The
	// watcher matches it against the derived associated token accounts.
	Holder    string
	HolderKey AddrKey
	Amount    *big.Int // raw base units, > 0
	Decimals  int32
}

// ID is the deposit id "chain:txid:index".
func (t Transfer) ID() string {
	return t.Chain + ":" + t.TxID + ":" + itoa(uint64(t.Index))
}

func itoa(n uint64) string { return new(big.Int).SetUint64(n).String() }

// ErrNotFound is returned for a block the node does not have (yet) or a slot
// that was skipped.
var ErrNotFound = errors.New("not found")

// ErrSkipped is returned by Solana adapters for a slot that produced no block.
var ErrSkipped = errors.New("slot skipped")

// HeadPicker is implemented by sources that can read fewer head markers
// than Heads, for fewer requests: Latest always, Final only when final is
// set. Markers not read are 0. The same consistency checks as Heads apply.
type HeadPicker interface {
	PickHeads(ctx context.Context, final bool) (Heads, error)
}

// Linker is implemented by sources that can read a stretch of canonical
// headers more cheaply than Headers when only the hash chain is needed:
// Linked answers like Headers (ascending, parent-linked, ErrNotFound above
// the head) but Time may be 0 on any header but the last.
type Linker interface {
	Linked(ctx context.Context, from, to uint64) ([]Header, error)
}

// Source is one chain as the watcher sees it. Every method is safe for
// concurrent use, honours ctx, and returns a wrapped error on any RPC problem;
// a Source never reports a partial result as complete.
type Source interface {
	// Name is the configured chain name ("ethereum", "bsc", "tron", "solana").
	Name() string
	// Heads reports the current head markers.
	Heads(ctx context.Context) (Heads, error)
	// Headers returns the canonical headers of [from, to] in ascending order
	// as the node sees them now. On Solana only produced slots are returned.
	// A block above the node's head is ErrNotFound, never an empty answer.
	Headers(ctx context.Context, from, to uint64) ([]Header, error)
	// Transfers returns every transfer of the configured tokens in blocks
	// [from, to], each tagged with the hash of its block. It returns an error
	// rather than a partial range.
	Transfers(ctx context.Context, from, to uint64) ([]Transfer, error)
}
