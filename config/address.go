package config

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/mr-tron/base58"
)

// These validators mirror the parsers of chains/address. They are private and
// small so that config does not wait on that package; the two should merge.

// evmAddress checks a 0x-prefixed 20-byte hex address and returns its EIP-55
// form. A mixed-case address must carry a valid EIP-55 checksum; an all-lower
// or all-upper one carries none and is accepted.
func evmAddress(s string) (string, error) {
	if !strings.HasPrefix(s, "0x") || !common.IsHexAddress(s) {
		return "", errors.New("not an EVM address (want 0x and 40 hex digits)")
	}
	a := common.HexToAddress(s)
	if a == (common.Address{}) {
		return "", errors.New("zero address")
	}
	hex := s[2:]
	if hex != strings.ToLower(hex) && hex != strings.ToUpper(hex) && a.Hex() != s {
		return "", errors.New("bad EIP-55 checksum (want " + a.Hex() + ")")
	}
	return a.Hex(), nil
}

// tronAddress checks a base58check Tron address: 21 bytes with the 0x41
// prefix and a 4-byte double-SHA-256 checksum.
func tronAddress(s string) (string, error) {
	b, err := base58.Decode(s)
	if err != nil || len(b) != 25 {
		return "", errors.New("not a Tron base58check address")
	}
	payload, sum := b[:21], b[21:]
	if payload[0] != 0x41 {
		return "", errors.New("not a Tron mainnet address (want prefix 0x41, a T... address)")
	}
	h1 := sha256.Sum256(payload)
	h2 := sha256.Sum256(h1[:])
	if !bytes.Equal(h2[:4], sum) {
		return "", errors.New("bad Tron base58check checksum")
	}
	return s, nil
}

// solanaAddress checks a base58 Solana public key of exactly 32 bytes in its
// canonical encoding.
func solanaAddress(s string) (string, error) {
	b, err := base58.Decode(s)
	if err != nil || len(b) != 32 || base58.Encode(b) != s {
		return "", errors.New("not a Solana address (want base58 of 32 bytes)")
	}
	return s, nil
}

// checkAddress validates a token address for a chain kind and returns its
// canonical form.
func checkAddress(k Kind, s string) (string, error) {
	if len(s) > 64 {
		// Base58 decoding is quadratic: refuse long input before decoding.
		return "", errors.New("too long for an address")
	}
	switch k {
	case KindEVM:
		return evmAddress(s)
	case KindTron:
		return tronAddress(s)
	case KindSolana:
		return solanaAddress(s)
	}
	return "", errors.New("unknown chain kind")
}
