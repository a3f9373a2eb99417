package solana

import (
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
)

func TestConfigValidate(t *testing.T) {
	base := func() Config { return Config{Endpoints: []string{"http://127.0.0.1:8899"}, Mints: []Mint{usdc}} }
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string // substring of the error; "" = valid
	}{
		{name: "valid", mutate: func(*Config) {}},
		{name: "no endpoint", want: "endpoints: at least one", mutate: func(c *Config) { c.Endpoints = nil }},
		{name: "empty endpoint", want: "endpoints[1]: empty", mutate: func(c *Config) { c.Endpoints = append(c.Endpoints, "") }},
		{name: "no mint", want: "tokens: at least one", mutate: func(c *Config) { c.Mints = nil }},
		{name: "empty symbol", want: "empty symbol", mutate: func(c *Config) { c.Mints[0].Symbol = "" }},
		{name: "zero mint", want: "tokens[USDC].mint: empty", mutate: func(c *Config) { c.Mints[0].Mint = solana.PublicKey{} }},
		{name: "mint twice", want: "configured twice", mutate: func(c *Config) { c.Mints = append(c.Mints, usdc) }},
		{name: "not a token program", want: "tokens[USDC].program", mutate: func(c *Config) { c.Mints[0].Program = solana.SystemProgramID }},
		{name: "decimals out of range", want: "tokens[USDC].decimals", mutate: func(c *Config) { c.Mints[0].Decimals = -1 }},
		{name: "negative timeout", want: "must not be negative", mutate: func(c *Config) { c.RequestTimeout = -time.Second }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			c.Mints = append([]Mint(nil), c.Mints...)
			tc.mutate(&c)
			err := c.Validate()
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate() = %v; want %q", err, tc.want)
			}
			if _, nerr := New(c); (nerr == nil) != (err == nil) {
				t.Fatalf("New error %v disagrees with Validate %v", nerr, err)
			}
		})
	}
}
