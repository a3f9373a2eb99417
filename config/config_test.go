package config

import (
	"bufio"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/outbox"
)

const examplePath = "../deploy/depositd.example.yml"

// setExampleEnv sets every *_env variable the example names.
func setExampleEnv(t testing.TB) {
	t.Helper()
	for k, v := range map[string]string{
		"DEPOSITD_REDIS_URL":           "redis://:pw@127.0.0.1:6379/0",
		"DEPOSITD_TOKEN_OPS":           "ops-0123456789abcdef",
		"DEPOSITD_TOKEN_BILLING":       "billing-0123456789abcdef",
		"DEPOSITD_ETH_RPC_URL":         "https://mainnet.example.org/v3/key",
		"DEPOSITD_BSC_RPC_URL":         "wss://bsc.example.org/ws/key",
		"DEPOSITD_TRONGRID_KEY":        "trongrid-key",
		"DEPOSITD_SOLANA_RPC_URL":      "https://solana.example.org/?api-key=key",
		"DEPOSITD_WEBHOOK_SECRET":      testWebhookSecret,
		"DEPOSITD_WEBHOOK_SECRET_NEXT": "whsec_" + strings.Repeat("QUJD", 16), // 48 bytes
		"DEPOSITD_OPS_WEBHOOK_SECRET":  testWebhookSecret,
		"DEPOSITD_HUAWEI_AK":           "HPUAEXAMPLEAK0123456",
		"DEPOSITD_HUAWEI_SK":           "example-secret-access-key-0123456789",
	} {
		t.Setenv(k, v)
	}
}

// TestExampleValidates is the CI check of deploy/depositd.example.yml: it
// loads with its env variables set and carries the pinned mainnet tokens.
func TestExampleValidates(t *testing.T) {
	setExampleEnv(t)
	c, err := Load(examplePath)
	if err != nil {
		t.Fatalf("example does not validate:\n%v", err)
	}
	if len(c.Warnings) != 0 {
		t.Errorf("example has warnings: %v", c.Warnings)
	}
	if h := c.Huawei; h == nil || h.AK.Reveal() != "HPUAEXAMPLEAK0123456" || h.ImportDay != 6 || len(h.Customers) != 2 || h.Customers[1].Account != "globex" {
		t.Errorf("huawei section: %+v", h)
	}
	wantTokens := map[string]map[string]string{
		"ethereum": {"USDT": "0xdAC17F958D2ee523a2206206994597C13D831ec7", "USDC": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "USD1": "0x8d0D000Ee44948FC98c9B98A4FA4921476f08B0d"},
		"bsc":      {"USDT": "0x55d398326f99059fF775485246999027B3197955", "USDC": "0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d", "USD1": "0x8d0D000Ee44948FC98c9B98A4FA4921476f08B0d"},
		"tron":     {"USDT": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"},
		"solana":   {"USDC": "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "USDT": "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"},
	}
	if len(c.Chains) != len(wantTokens) {
		t.Fatalf("got %d chains, want %d", len(c.Chains), len(wantTokens))
	}
	for name, toks := range wantTokens {
		ch, ok := c.Chain(name)
		if !ok {
			t.Fatalf("chain %s missing", name)
		}
		if len(ch.Tokens) != len(toks) {
			t.Errorf("%s: %d tokens, want %d", name, len(ch.Tokens), len(toks))
		}
		for _, tok := range ch.Tokens {
			if toks[tok.Symbol] != tok.Address {
				t.Errorf("%s %s address %s, want %s", name, tok.Symbol, tok.Address, toks[tok.Symbol])
			}
			if !tok.MinAmount.Equal(decimal.NewFromInt(1)) || !tok.USDRate.Equal(decimal.NewFromInt(1)) {
				t.Errorf("%s %s: min %s rate %s", name, tok.Symbol, tok.MinAmount, tok.USDRate)
			}
		}
	}
	bsc, _ := c.Chain("bsc")
	if bsc.Tokens[0].Decimals != 18 || bsc.Finality.Confirmations != 5 || bsc.Finality.MaxLag != 240 {
		t.Errorf("bsc: USDT decimals %d, finality %+v", bsc.Tokens[0].Decimals, bsc.Finality)
	}
	if got := bsc.Endpoints[0].URL.Reveal(); got != "wss://bsc.example.org/ws/key" {
		t.Errorf("bsc endpoint from env = %q", got)
	}
	tron, _ := c.Chain("tron")
	if len(tron.SolidityEndpoints) != 1 || tron.Endpoints[0].APIKey.Reveal() != "trongrid-key" {
		t.Errorf("tron endpoints: %+v solidity %+v", tron.Endpoints, tron.SolidityEndpoints)
	}
	if c.Redis.URL.Reveal() != "redis://:pw@127.0.0.1:6379/0" || c.Redis.Sentinel != nil || c.Redis.Cluster != nil {
		t.Errorf("redis: %+v", c.Redis)
	}
	if c.Settlement.Location.String() != "Asia/Shanghai" || c.Settlement.DueDays != 10 {
		t.Errorf("settlement: %+v", c.Settlement)
	}
	wantLow := []money.Units{100 * 1e8, 10 * 1e8}
	if len(c.Settlement.LowBalanceThresholds) != 2 || c.Settlement.LowBalanceThresholds[0] != wantLow[0] || c.Settlement.LowBalanceThresholds[1] != wantLow[1] {
		t.Errorf("low balance thresholds %v, want %v", c.Settlement.LowBalanceThresholds, wantLow)
	}
	billing := c.Webhooks.Endpoints[0]
	if len(billing.Secrets) != 2 || billing.Secrets[0].Reveal() != testWebhookSecret || len(billing.Schedule) != 10 {
		t.Errorf("billing webhook: %d secrets, schedule %v", len(billing.Secrets), billing.Schedule)
	}
	if got := c.Webhooks.Endpoints[1].Events; len(got) != 3 || got[0] != outbox.DepositReversed {
		t.Errorf("ops-alerts events %v", got)
	}
}

// TestExampleAnnotated requires a comment on every key of the example: on
// the key's own line or on the line just above it.
func TestExampleAnnotated(t *testing.T) {
	f, err := os.Open(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	key := regexp.MustCompile(`^\s*(- )?[a-z_0-9]+:`)
	prevComment := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		isComment := strings.HasPrefix(trimmed, "#")
		if key.MatchString(line) && !strings.Contains(line, " #") && !prevComment {
			t.Errorf("%s:%d: key without a comment: %s", examplePath, n, trimmed)
		}
		prevComment = isComment
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestExampleNeedsItsEnv checks that the example fails, naming each key,
// when its variables are not set: secrets really come from the environment.
func TestExampleNeedsItsEnv(t *testing.T) {
	setExampleEnv(t)
	os.Unsetenv("DEPOSITD_BSC_RPC_URL")
	os.Unsetenv("DEPOSITD_WEBHOOK_SECRET_NEXT")
	_, err := Load(examplePath)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("want 2 problems, got %v", err)
	}
	if errs[0].Path != "chains[bsc].endpoints[0].url_env" || errs[1].Path != "webhooks.endpoints[billing].secrets_env[1]" {
		t.Errorf("paths %q, %q", errs[0].Path, errs[1].Path)
	}
}

// TestDefaults loads a minimal file and checks what the defaults filled in.
func TestDefaults(t *testing.T) {
	setTestEnv(t)
	c, err := Load(filepath.Join("testdata", "good", "minimal.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != ModeProduction || c.Listen != "127.0.0.1:8080" || c.Log.Level != slog.LevelInfo || c.Log.Format != "json" {
		t.Errorf("top-level defaults: mode %q listen %q log %+v", c.Mode, c.Listen, c.Log)
	}
	if c.Settlement.Timezone != "Asia/Shanghai" || c.Settlement.DueDays != 10 || c.Settlement.OverdueSweep != 5*time.Minute {
		t.Errorf("settlement defaults: %+v", c.Settlement)
	}
	_, off := time.Date(2026, 1, 1, 0, 0, 0, 0, c.Settlement.Location).Zone()
	if off != 8*3600 {
		t.Errorf("settlement zone offset %d s, want UTC+8", off)
	}
	tests := []struct {
		chain    string
		kind     Kind
		chainID  uint64
		fin      Finality
		poll     time.Duration
		maxRange uint64
		decimals int32
		program  Program
	}{
		{"bsc", KindEVM, 56, Finality{PolicyFinalized, 5, 240}, 2 * time.Second, 2000, 18, ""},
		{"tron", KindTron, 0, Finality{PolicySolidified, 19, 40}, 3 * time.Second, 0, 6, ""},
		{"solana", KindSolana, 0, Finality{PolicyCommitment, 32, 150}, time.Second, 0, 6, ProgramToken},
	}
	for _, tt := range tests {
		t.Run(tt.chain, func(t *testing.T) {
			ch, ok := c.Chain(tt.chain)
			if !ok {
				t.Fatalf("chain %s missing", tt.chain)
			}
			if ch.Kind != tt.kind || ch.ChainID != tt.chainID || ch.Finality != tt.fin || ch.PollInterval != tt.poll ||
				ch.MaxRange != tt.maxRange || ch.BatchSize != 20 {
				t.Errorf("got %+v", ch)
			}
			tok := ch.Tokens[0]
			if tok.Decimals != tt.decimals || tok.Program != tt.program || !tok.USDRate.Equal(decimal.NewFromInt(1)) || !tok.MinAmount.IsZero() {
				t.Errorf("token %+v", tok)
			}
			if ch.Endpoints[0].Weight != 1 {
				t.Errorf("endpoint weight %d, want 1", ch.Endpoints[0].Weight)
			}
		})
	}
	if _, ok := c.Chain("ethereum"); ok {
		t.Error("Chain(ethereum) found a chain the file does not have")
	}
}

// TestExplicitZeroKeepsZero checks that a key set to 0 is not replaced by
// its default: ethereum with no minimum depth under policy finalized.
func TestExplicitZeroKeepsZero(t *testing.T) {
	setTestEnv(t)
	doc := `redis: {url_env: DEPOSITD_TEST_REDIS_URL}
chains:
  - name: ethereum
    kind: evm
    endpoints: [{url: "https://eth.example.org"}]
    finality: {confirmations: 0}
    tokens: [{symbol: USDT, address: "0xdac17f958d2ee523a2206206994597c13d831ec7"}]
webhooks:
  endpoints:
    - name: hook
      url: https://hooks.example.com/x
      secret_env: DEPOSITD_TEST_WEBHOOK_SECRET
      schedule: [0s, 1m]
`
	c, err := Parse([]byte(doc), "inline.yml")
	if err != nil {
		t.Fatal(err)
	}
	eth := c.Chains[0]
	if eth.ChainID != 1 || eth.Finality.Confirmations != 0 || eth.Finality.MaxLag != 96 {
		t.Errorf("ethereum: chain id %d finality %+v", eth.ChainID, eth.Finality)
	}
	// A lower-case address is accepted and stored in EIP-55 form.
	if eth.Tokens[0].Address != "0xdAC17F958D2ee523a2206206994597C13D831ec7" || eth.Tokens[0].Decimals != 6 {
		t.Errorf("token %+v", eth.Tokens[0])
	}
	if w := c.Webhooks.Endpoints[0]; w.Timeout != 15*time.Second || len(w.Schedule) != 2 || w.Schedule[1] != time.Minute {
		t.Errorf("webhook %+v", w)
	}
}

func TestFamilyOf(t *testing.T) {
	tests := []struct {
		kind Kind
		want chains.Family
	}{
		{KindEVM, chains.FamilyEVM},
		{KindTron, chains.FamilyTron},
		{KindSolana, chains.FamilySolana},
		{"cosmos", ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			if got := FamilyOf(tt.kind); got != tt.want {
				t.Errorf("FamilyOf(%q) = %q, want %q", tt.kind, got, tt.want)
			}
			if got := (&Chain{Kind: tt.kind}).Family(); got != tt.want {
				t.Errorf("Chain.Family() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMinUnits(t *testing.T) {
	tests := []struct {
		name     string
		min      string
		decimals int32
		want     string
	}{
		{"usdt-6", "1", 6, "1000000"},
		{"bsc-usdt-18", "0.5", 18, "500000000000000000"},
		{"finest", "0.000001", 6, "1"},
		{"zero", "0", 18, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := Token{MinAmount: decimal.RequireFromString(tt.min), Decimals: tt.decimals}
			if got := tok.MinUnits().String(); got != tt.want {
				t.Errorf("MinUnits() = %s, want %s", got, tt.want)
			}
		})
	}
}
