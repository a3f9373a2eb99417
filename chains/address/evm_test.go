package address

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/depositd/depositd/chains"
)

func TestParseEVM(t *testing.T) {
	valid := []struct {
		name, in, norm, hex20 string
	}{
		{"usdt checksummed", "0xdAC17F958D2ee523a2206206994597C13D831ec7", "0xdAC17F958D2ee523a2206206994597C13D831ec7", "dac17f958d2ee523a2206206994597c13d831ec7"},
		{"usdt lowercase", "0xdac17f958d2ee523a2206206994597c13d831ec7", "0xdAC17F958D2ee523a2206206994597C13D831ec7", "dac17f958d2ee523a2206206994597c13d831ec7"},
		{"usdt uppercase digits", "0xDAC17F958D2EE523A2206206994597C13D831EC7", "0xdAC17F958D2ee523a2206206994597C13D831ec7", "dac17f958d2ee523a2206206994597c13d831ec7"},
		{"usdc", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"},
		{"bsc usdt", "0x55d398326f99059fF775485246999027B3197955", "0x55d398326f99059fF775485246999027B3197955", "55d398326f99059ff775485246999027b3197955"},
		{"bip44 vector", "0x9858EfFD232B4033E47d90003D41EC34EcaEda94", "0x9858EfFD232B4033E47d90003D41EC34EcaEda94", "9858effd232b4033e47d90003d41ec34ecaeda94"},
		{"eip55 spec 1", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"},
		{"eip55 spec 2", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", "fb6916095ca1df60bb79ce92ce3ea74c37c5d359"},
		{"eip55 spec 3", "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "dbf03b407c01e7cd3cbea99509d93f8dddc8c6fb"},
		{"eip55 spec 4", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", "d1220a0cf47c7b9be7a2e6ba89f429762e7b9adb"},
		{"fixture recipient lowercase", "0x9e96e6f92d132a82ea8024682a633cc7d0f5c4c3", "", "9e96e6f92d132a82ea8024682a633cc7d0f5c4c3"},
		{"zero address", "0x0000000000000000000000000000000000000000", "0x0000000000000000000000000000000000000000", "0000000000000000000000000000000000000000"},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			norm, key, err := ParseEVM(tc.in)
			if err != nil {
				t.Fatalf("ParseEVM(%q): %v", tc.in, err)
			}
			if tc.norm != "" && norm != tc.norm {
				t.Errorf("norm = %s, want %s", norm, tc.norm)
			}
			if !strings.EqualFold(norm, tc.in) {
				t.Errorf("norm %s is not %s up to case", norm, tc.in)
			}
			want := key20(mustHex(t, tc.hex20))
			if key != want {
				t.Errorf("key = %x, want %x", key, want)
			}
			if got := Format(chains.FamilyEVM, key); got != norm {
				t.Errorf("Format = %s, want %s", got, norm)
			}
			again, key2, err := ParseEVM(norm)
			if err != nil || again != norm || key2 != key {
				t.Errorf("reparse of %s = %s %x %v", norm, again, key2, err)
			}
		})
	}

	invalid := []struct {
		name, in, reason string
	}{
		{"empty", "", "got 0 characters"},
		{"no prefix", "dAC17F958D2ee523a2206206994597C13D831ec7", "got 40 characters"},
		{"no prefix padded", "00dAC17F958D2ee523a2206206994597C13D831ec7", "missing 0x prefix"},
		{"capital X prefix", "0XdAC17F958D2ee523a2206206994597C13D831ec7", "missing 0x prefix"},
		{"one digit short", "0xdAC17F958D2ee523a2206206994597C13D831ec", "got 41 characters"},
		{"one digit long", "0xdAC17F958D2ee523a2206206994597C13D831ec70", "got 43 characters"},
		{"non hex", "0xgAC17F958D2ee523a2206206994597C13D831ec7", "not hex"},
		{"bad checksum one letter", "0xdac17F958D2ee523a2206206994597C13D831ec7", "bad EIP-55 checksum"},
		{"bad checksum swapped", "0xDac17f958d2EE523a2206206994597c13d831EC7", "bad EIP-55 checksum"},
		{"tron address", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "got 34 characters"},
		{"leading space", " 0xdAC17F958D2ee523a2206206994597C13D831ec7", "got 43 characters"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseEVM(tc.in)
			if err == nil {
				t.Fatalf("ParseEVM(%q) accepted", tc.in)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			if !strings.HasPrefix(err.Error(), "evm address: ") || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q, want evm address: …%s…", err, tc.reason)
			}
		})
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return b
}
