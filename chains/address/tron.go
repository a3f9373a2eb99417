package address

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"

	"github.com/depositd/depositd/chains"
	"github.com/mr-tron/base58"
)

// tronPrefix is the first byte of every 21-byte Tron mainnet address.
const tronPrefix = 0x41

// ParseTron accepts a base58check T-address (21 bytes, 0x41 prefix, 4-byte
// double-SHA256 checksum) or its hex form "41" followed by 40 hex digits.
// norm is the base58check form; key holds the 20 account bytes (without the
// 0x41 prefix) left-aligned, as Tron logs carry them.
func ParseTron(s string) (norm string, key chains.AddrKey, err error) {
	if len(s) == 42 && (s[:2] == "41") {
		var b [21]byte
		if _, err := hex.Decode(b[:], []byte(s)); err != nil {
			return "", key, invalid("tron", "not hex: %v", err)
		}
		return tronEncode(b[1:]), key20(b[1:]), nil
	}
	if len(s) == 0 || len(s) > maxInput {
		return "", key, invalid("tron", "want a base58check T-address or 41+40 hex digits, got %d characters", len(s))
	}
	raw, err := base58.Decode(s)
	if err != nil {
		return "", key, invalid("tron", "not base58: %v", err)
	}
	if len(raw) != 25 {
		return "", key, invalid("tron", "decodes to %d bytes, want 25 (21 address + 4 checksum)", len(raw))
	}
	if raw[0] != tronPrefix {
		return "", key, invalid("tron", "prefix 0x%02x, want 0x41", raw[0])
	}
	if !bytes.Equal(tronChecksum(raw[:21]), raw[21:]) {
		return "", key, invalid("tron", "bad checksum")
	}
	norm = tronEncode(raw[1:21])
	if norm != s {
		return "", key, invalid("tron", "non-canonical base58")
	}
	return norm, key20(raw[1:21]), nil
}

// TronFromEVMBytes renders the 20-byte account form found in Tron logs and
// ABI words as a T-address. Like go-ethereum's BytesToAddress it uses the
// last 20 bytes of a longer slice (so a 32-byte topic works as is, whatever
// its padding holds) and left-pads a shorter one with zeros.
func TronFromEVMBytes(b20 []byte) string {
	var a [20]byte
	if len(b20) > 20 {
		b20 = b20[len(b20)-20:]
	}
	copy(a[20-len(b20):], b20)
	return tronEncode(a[:])
}

// tronEncode renders 20 account bytes as base58check(0x41 ‖ b ‖ checksum).
func tronEncode(b []byte) string {
	var raw [25]byte
	raw[0] = tronPrefix
	copy(raw[1:21], b)
	copy(raw[21:], tronChecksum(raw[:21]))
	return base58.Encode(raw[:])
}

func tronChecksum(b []byte) []byte {
	h := sha256.Sum256(b)
	h = sha256.Sum256(h[:])
	return h[:4]
}
