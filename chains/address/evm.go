package address

import (
	"encoding/hex"

	"github.com/depositd/depositd/chains"
	"github.com/ethereum/go-ethereum/common"
)

// ParseEVM accepts "0x" followed by 40 hex digits. All-lowercase and
// all-uppercase digits are accepted as is; mixed case must be a valid EIP-55
// checksum. norm is the EIP-55 form; key holds the 20 bytes left-aligned.
func ParseEVM(s string) (norm string, key chains.AddrKey, err error) {
	if len(s) != 42 {
		return "", key, invalid("evm", "want 0x followed by 40 hex digits, got %d characters", len(s))
	}
	if s[0] != '0' || s[1] != 'x' {
		return "", key, invalid("evm", "missing 0x prefix")
	}
	var b [20]byte
	if _, err := hex.Decode(b[:], []byte(s[2:])); err != nil {
		return "", key, invalid("evm", "not hex: %v", err)
	}
	norm = eip55(b[:])
	if mixedCase(s[2:]) && s != norm {
		return "", key, invalid("evm", "bad EIP-55 checksum (mixed case must match %s)", norm)
	}
	return norm, key20(b[:]), nil
}

func mixedCase(h string) bool {
	var lower, upper bool
	for i := 0; i < len(h); i++ {
		switch c := h[i]; {
		case c >= 'a' && c <= 'f':
			lower = true
		case c >= 'A' && c <= 'F':
			upper = true
		}
	}
	return lower && upper
}

// eip55 renders 20 bytes as 0x-hex with the EIP-55 mixed-case checksum.
func eip55(b []byte) string { return common.BytesToAddress(b).Hex() }
