// Package address parses, validates and normalises the deposit address
// encodings depositd accepts (EVM hex with EIP-55, Tron base58check, Solana
// base58) into their canonical text and their binary chains.AddrKey, and
// derives Solana associated token accounts.
//
// Every function is pure: no network, no state. Parsers never panic on any
// input; a successful parse round-trips (parsing the normalised form again
// yields the same text and key).
package address

import (
	"errors"
	"fmt"

	"github.com/depositd/depositd/chains"
)

// ErrInvalid is matched (errors.Is) by every parse error of this package, so
// callers such as the API can map any of them to a 4xx answer.
var ErrInvalid = errors.New("invalid address")

// Error is a parse error naming the address kind and what is wrong, e.g.
// "tron address: bad checksum".
type Error struct {
	Kind   string // "evm", "tron", "solana", "solana ata"
	Reason string
}

func (e *Error) Error() string { return e.Kind + " address: " + e.Reason }

// Is reports ErrInvalid as a match.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

func invalid(kind, format string, args ...any) error {
	return &Error{Kind: kind, Reason: fmt.Sprintf(format, args...)}
}

// maxInput bounds every textual address: the longest valid form (a Solana key)
// is 44 characters, so anything much longer is rejected before decoding.
const maxInput = 64

// Parse dispatches on the family: evm → ParseEVM, tron → ParseTron,
// solana → ParseSolana. An unknown family is an ErrInvalid error.
func Parse(f chains.Family, s string) (string, chains.AddrKey, error) {
	switch f {
	case chains.FamilyEVM:
		return ParseEVM(s)
	case chains.FamilyTron:
		return ParseTron(s)
	case chains.FamilySolana:
		return ParseSolana(s)
	}
	return "", chains.AddrKey{}, invalid(string(f), "unknown address family %q", string(f))
}

// Format renders a key in the family's canonical text form: EIP-55 for evm,
// base58check T… for tron, base58 for solana. It is the inverse of Parse for
// keys Parse produced; for an unknown family it returns "".
func Format(f chains.Family, k chains.AddrKey) string {
	switch f {
	case chains.FamilyEVM:
		return eip55(k[:20])
	case chains.FamilyTron:
		return tronEncode(k[:20])
	case chains.FamilySolana:
		return solanaEncode(k)
	}
	return ""
}

func key20(b []byte) chains.AddrKey {
	var k chains.AddrKey
	copy(k[:20], b)
	return k
}
