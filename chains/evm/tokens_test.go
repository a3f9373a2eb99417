package evm

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func TestCheckTokens(t *testing.T) {
	n := bscNode(t)
	n.AddToken(common.HexToAddress("0x00000000000000000000000000000000000000aa"), "USDT", 6)
	for _, tc := range []struct {
		name    string
		tokens  []Token
		wantErr string
	}{
		{"match", []Token{bscUSDT, bscUSDC}, ""},
		{"decimals mismatch", []Token{{Symbol: "USDT", Contract: bscUSDT.Contract, Decimals: 6}},
			"chains[bsc].tokens[USDT].decimals: chain says 18, config 6"},
		{"symbol mismatch", []Token{{Symbol: "USD1", Contract: bscUSDT.Contract, Decimals: 18}},
			`chains[bsc].tokens[USD1].symbol: chain says "USDT", config "USD1"`},
		{"no contract", []Token{{Symbol: "USDT", Contract: common.HexToAddress("0x01"), Decimals: 18}},
			"chains[bsc].tokens[USDT].decimals: contract 0x0000000000000000000000000000000000000001: empty answer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, "bsc", tc.tokens, n.URL())
			err := c.CheckTokens(context.Background())
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *ConfigError
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.As(err, &ce) {
				t.Fatalf("err %v, want ConfigError containing %q", err, tc.wantErr)
			}
			if r := c.Requests(); r != uint64(2*len(tc.tokens)) {
				t.Errorf("requests %d: a config mismatch must not be retried", r)
			}
		})
	}
}

func TestDecodeABIString(t *testing.T) {
	word := func(b ...byte) []byte { w := make([]byte, 32); copy(w[32-len(b):], b); return w }
	cat := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		in      []byte
		want    string
		wantErr bool
	}{
		{"abi string", cat(word(0x20), word(4), []byte("USDT"), make([]byte, 28)), "USDT", false},
		{"bytes32", append([]byte("MKR"), make([]byte, 29)...), "MKR", false},
		{"empty", nil, "", true},
		{"offset past end", cat(word(0xff), word(4)), "", true},
		{"length past end", cat(word(0x20), word(0xff), make([]byte, 32)), "", true},
		{"short", make([]byte, 40), "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeABIString(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("got %q, %v; want %q, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Chain: "bsc", Tokens: []Token{bscUSDT}, Endpoints: []string{"http://127.0.0.1:8545"}}
	for _, tc := range []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"valid", func(*Config) {}, ""},
		{"no endpoints", func(c *Config) { c.Endpoints = nil }, "chains[bsc].endpoints: none configured"},
		{"bad url", func(c *Config) { c.Endpoints = []string{"127.0.0.1:8545"} }, "chains[bsc].endpoints[0]"},
		{"no tokens", func(c *Config) { c.Tokens = nil }, "chains[bsc].tokens: none configured"},
		{"duplicate contract", func(c *Config) { c.Tokens = []Token{bscUSDT, {Symbol: "X", Contract: bscUSDT.Contract}} }, "configured twice"},
		{"zero contract", func(c *Config) { c.Tokens = []Token{{Symbol: "USDT", Decimals: 6}} }, "chains[bsc].tokens[USDT].contract: zero address"},
		{"decimals", func(c *Config) { c.Tokens = []Token{{Symbol: "USDT", Contract: bscUSDT.Contract, Decimals: 40}} }, "decimals: 40 not in 0..36"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.mutate(&c)
			err := c.Validate()
			if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
		})
	}
}
