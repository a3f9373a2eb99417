package tron

import (
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	good := Config{FullNodes: []string{"127.0.0.1:50051"}, Tokens: []Token{usdt}}
	tests := []struct {
		name   string
		change func(*Config)
		want   string // error substring; "" means valid
	}{
		{"valid", func(*Config) {}, ""},
		{"no full node", func(c *Config) { c.FullNodes = nil }, "full_nodes"},
		{"empty endpoint", func(c *Config) { c.SolidityNodes = []string{""} }, "empty address"},
		{"no tokens", func(c *Config) { c.Tokens = nil }, "tokens"},
		{"empty symbol", func(c *Config) { c.Tokens = []Token{{Contract: usdt.Contract, Decimals: 6}} }, "empty symbol"},
		{"decimals out of range", func(c *Config) { c.Tokens = []Token{{Symbol: "X", Contract: usdt.Contract, Decimals: 40}} }, "tokens[X].decimals"},
		{"negative timeout", func(c *Config) { c.CallTimeout = -1 }, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.change(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
	t.Run("duplicate contract", func(t *testing.T) {
		if _, err := newMatcher("tron", []Token{usdt, {Symbol: "USDT2", Contract: usdt.Contract, Decimals: 6}}); err == nil {
			t.Fatal("duplicate contract accepted")
		}
	})
}
