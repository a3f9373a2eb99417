package address

import (
	"errors"
	"strings"
	"testing"

	"github.com/depositd/depositd/chains"
)

func TestParseTron(t *testing.T) {
	valid := []struct {
		name, in, norm, hex20 string
	}{
		{"usdt base58", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "a614f803b6fd780986a42c78ec9c7f77e6ded13c"},
		{"usdt hex", "41a614f803b6fd780986a42c78ec9c7f77e6ded13c", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "a614f803b6fd780986a42c78ec9c7f77e6ded13c"},
		{"usdt hex uppercase", "41A614F803B6FD780986A42C78EC9C7F77E6DED13C", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "a614f803b6fd780986a42c78ec9c7f77e6ded13c"},
		{"fixture sender hex", "412e1d447fa4169390cf5f5b3d12d380decfbfe20f", "", "2e1d447fa4169390cf5f5b3d12d380decfbfe20f"},
		{"fixture recipient", "TL1mBABLk68nZwt92dgGc43p5uk1j3YtY9", "TL1mBABLk68nZwt92dgGc43p5uk1j3YtY9", "6e2cf2878020b966786f01ab45ea1fcef6880092"},
		{"fixture log from", "TWpZXLfsvVuQuJZLkdWNY7XY2teePqPpz7", "TWpZXLfsvVuQuJZLkdWNY7XY2teePqPpz7", "e4b8075df69297bc24cc4bbaf48cd17206e1f62c"},
		{"fixture log to", "TBA6CypYJizwA9XdC7Ubgc5F1bxrQ7SqPt", "TBA6CypYJizwA9XdC7Ubgc5F1bxrQ7SqPt", "0d0707963952f2fba59dd06f2b425ace40b492fe"},
	}
	for _, tc := range valid {
		t.Run(tc.name, func(t *testing.T) {
			norm, key, err := ParseTron(tc.in)
			if err != nil {
				t.Fatalf("ParseTron(%q): %v", tc.in, err)
			}
			if tc.norm != "" && norm != tc.norm {
				t.Errorf("norm = %s, want %s", norm, tc.norm)
			}
			want := key20(mustHex(t, tc.hex20))
			if key != want {
				t.Errorf("key = %x, want %x", key, want)
			}
			if got := Format(chains.FamilyTron, key); got != norm {
				t.Errorf("Format = %s, want %s", got, norm)
			}
			again, key2, err := ParseTron(norm)
			if err != nil || again != norm || key2 != key {
				t.Errorf("reparse of %s = %s %x %v", norm, again, key2, err)
			}
		})
	}

	invalid := []struct {
		name, in, reason string
	}{
		{"empty", "", "got 0 characters"},
		{"bad checksum", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", "bad checksum"},
		{"published typo", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzg5uV7p", "bad checksum"},
		{"bitcoin prefix", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "prefix 0x00, want 0x41"},
		{"too short", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgj", "want 25"},
		{"last digit dropped", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6", "prefix 0x01, want 0x41"},
		{"zero digit", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj60", "not base58"},
		{"capital O", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLjOt", "not base58"},
		{"hex non hex digit", "41a614f803b6fd780986a42c78ec9c7f77e6ded13g", "not hex"},
		{"hex wrong prefix", "42a614f803b6fd780986a42c78ec9c7f77e6ded13c", "not base58"},
		{"evm address", "0xdAC17F958D2ee523a2206206994597C13D831ec7", "not base58"},
		{"solana key", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "want 25"},
		{"overlong", strings.Repeat("T", 65), "got 65 characters"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseTron(tc.in)
			if err == nil {
				t.Fatalf("ParseTron(%q) accepted", tc.in)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			if !strings.HasPrefix(err.Error(), "tron address: ") || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q, want tron address: …%s…", err, tc.reason)
			}
		})
	}
}

func TestTronFromEVMBytes(t *testing.T) {
	cases := []struct {
		name, hex, want string
	}{
		// The recipient ABI word of the transfer fixture carries 0x41 inside its padding.
		{"abi word with 41 in padding", "0000000000000000000000416e2cf2878020b966786f01ab45ea1fcef6880092", "TL1mBABLk68nZwt92dgGc43p5uk1j3YtY9"},
		{"log topic from", "000000000000000000000000e4b8075df69297bc24cc4bbaf48cd17206e1f62c", "TWpZXLfsvVuQuJZLkdWNY7XY2teePqPpz7"},
		{"log topic to", "0000000000000000000000000d0707963952f2fba59dd06f2b425ace40b492fe", "TBA6CypYJizwA9XdC7Ubgc5F1bxrQ7SqPt"},
		{"20 byte log address", "a614f803b6fd780986a42c78ec9c7f77e6ded13c", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"},
		{"21 byte with prefix", "41a614f803b6fd780986a42c78ec9c7f77e6ded13c", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := TronFromEVMBytes(mustHex(t, tc.hex)); got != tc.want {
				t.Errorf("TronFromEVMBytes(%s) = %s, want %s", tc.hex, got, tc.want)
			}
		})
	}
	t.Run("short input is left padded", func(t *testing.T) {
		full := mustHex(t, "00000000000000000000000000000000000000ff")
		if a, b := TronFromEVMBytes(full[19:]), TronFromEVMBytes(full); a != b {
			t.Errorf("1 byte gives %s, 20 bytes give %s", a, b)
		}
	})
	t.Run("nil is the zero account", func(t *testing.T) {
		norm, key, err := ParseTron(TronFromEVMBytes(nil))
		if err != nil || key != (chains.AddrKey{}) {
			t.Errorf("ParseTron(%s) = %x, %v; want zero key", norm, key, err)
		}
	})
}
