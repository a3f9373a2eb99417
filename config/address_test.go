package config

import (
	"strings"
	"testing"
)

func TestCheckAddress(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		in   string
		want string // canonical form; empty when an error is expected
		err  string
	}{
		{"evm-checksummed", KindEVM, "0x55d398326f99059fF775485246999027B3197955", "0x55d398326f99059fF775485246999027B3197955", ""},
		{"evm-lower", KindEVM, "0xdac17f958d2ee523a2206206994597c13d831ec7", "0xdAC17F958D2ee523a2206206994597C13D831ec7", ""},
		{"evm-upper", KindEVM, "0xDAC17F958D2EE523A2206206994597C13D831EC7", "0xdAC17F958D2ee523a2206206994597C13D831ec7", ""},
		{"evm-bad-checksum", KindEVM, "0xdAC17F958D2ee523a2206206994597C13D831eC7", "", "bad EIP-55 checksum"},
		{"evm-no-prefix", KindEVM, "dac17f958d2ee523a2206206994597c13d831ec7", "", "evm address:"},
		{"evm-short", KindEVM, "0xdac17f958d2ee523a2206206994597c13d831e", "", "evm address:"},
		{"evm-non-hex", KindEVM, "0xgac17f958d2ee523a2206206994597c13d831ec7", "", "evm address: not hex"},
		{"evm-zero", KindEVM, "0x0000000000000000000000000000000000000000", "", "zero address"},
		{"tron-usdt", KindTron, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", ""},
		{"tron-fixture-recipient", KindTron, "TL1mBABLk68nZwt92dgGc43p5uk1j3YtY9", "TL1mBABLk68nZwt92dgGc43p5uk1j3YtY9", ""},
		{"tron-published-typo", KindTron, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzg5uV7p", "", "tron address: bad checksum"},
		{"tron-hex-form", KindTron, "41a614f803b6fd780986a42c78ec9c7f77e6ded13c", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", ""},
		{"tron-bitcoin-address", KindTron, "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "", "want 0x41"},
		{"tron-empty", KindTron, "", "", "tron address:"},
		{"solana-usdc", KindSolana, "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", ""},
		{"solana-system-program", KindSolana, "11111111111111111111111111111111", "11111111111111111111111111111111", ""},
		{"solana-short", KindSolana, "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGk", "", "solana address:"},
		{"solana-bad-char", KindSolana, "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt10", "", "solana address:"},
		{"solana-evm-address", KindSolana, "0xdac17f958d2ee523a2206206994597c13d831ec7", "", "solana address:"},
		{"solana-too-long", KindSolana, strings.Repeat("1", 65), "", "want base58 of 32 bytes"},
		{"unknown-kind", "cosmos", "cosmos1abc", "", "unknown chain kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkAddress(tt.kind, tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("checkAddress(%q) = %q, %v; want error %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("checkAddress(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestKnownTokensArePinnedCanonically guards the registry itself: every
// pinned address must pass its own validator unchanged.
func TestKnownTokensArePinnedCanonically(t *testing.T) {
	for _, k := range knownTokens {
		t.Run(string(k.kind)+"-"+k.symbol+"-"+k.address[:6], func(t *testing.T) {
			got, err := checkAddress(k.kind, k.address)
			if err != nil || got != k.address {
				t.Errorf("pinned %s %s: %q, %v", k.kind, k.address, got, err)
			}
		})
	}
}
