package config

import (
	"errors"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/address"
)

// checkAddress validates a token address for a chain kind with the same
// parsers the address book uses and returns its canonical form (EIP-55,
// base58check T-address, base58 mint). An all-zero EVM or Tron
// address is never a token.
func checkAddress(k Kind, s string) (string, error) {
	f := FamilyOf(k)
	if f == "" {
		return "", errors.New("unknown chain kind")
	}
	norm, key, err := address.Parse(f, s)
	if err != nil {
		return "", err
	}
	if f != chains.FamilySolana && key == (chains.AddrKey{}) {
		return "", errors.New("zero address")
	}
	return norm, nil
}
