package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// evmDoc is a valid one-chain config; tests append sections or replace
// parts of it.
const evmDoc = `redis:
  url_env: DEPOSITD_TEST_REDIS_URL
chains:
  - name: bsc
    kind: evm
    chain_id: 56
    endpoints:
      - url: https://bsc.example.org
    tokens:
      - symbol: USDT
        address: "0x55d398326f99059fF775485246999027B3197955"
`

const solanaChain = `  - name: solana
    kind: solana
    endpoints: [{url: "https://sol.example.org"}]
    tokens:
      - {symbol: USDC, address: EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v, program: token}
`

const webhookDoc = evmDoc + `webhooks:
  endpoints:
    - name: h
      url: https://hooks.example.com/in
      secret_env: DEPOSITD_TEST_WEBHOOK_SECRET
`

// TestRules covers the validation rules that have no file in testdata/bad,
// each as one document with exactly one problem.
func TestRules(t *testing.T) {
	sub := func(doc, old, new string) string {
		if !strings.Contains(doc, old) {
			panic("test doc lacks " + old)
		}
		return strings.Replace(doc, old, new, 1)
	}
	tests := []struct {
		name string
		doc  string
		path string
		line int
		msg  string
	}{
		{"chain-name-charset", sub(evmDoc, "name: bsc", "name: BSC:main"), "chains[BSC:main].name", 4, "want lower-case letters"},
		{"chain-id-missing", sub(sub(sub(evmDoc, "name: bsc", "name: polygon"), "    chain_id: 56\n", ""), "3197955\"\n", "3197955\"\n        decimals: 18\n"), "chains[polygon].chain_id", 4, "required for kind evm"},
		{"chain-id-on-tron", minimalDoc + "", "", 0, ""}, // placeholder replaced below
		{"max-range-on-solana", evmDoc + sub(solanaChain, "    endpoints", "    max_range: 10\n    endpoints"), "chains[solana].max_range", 14, "only for kind evm"},
		{"solidity-on-evm", sub(evmDoc, "    tokens:", "    solidity_endpoints: [{url: \"https://x.example.org\"}]\n    tokens:"), "chains[bsc].solidity_endpoints", 9, "only for kind tron"},
		{"api-key-on-evm", sub(evmDoc, "      - url: https://bsc.example.org", "      - url: https://bsc.example.org\n        api_key_env: DEPOSITD_TEST_API_TOKEN"), "chains[bsc].endpoints[0].api_key", 9, "only for kind tron"},
		{"endpoint-without-host", sub(evmDoc, "https://bsc.example.org", "https:///path"), "chains[bsc].endpoints[0].url", 8, "missing host"},
		{"endpoint-weight", sub(evmDoc, "      - url: https://bsc.example.org", "      - url: https://bsc.example.org\n        weight: 0"), "chains[bsc].endpoints[0].weight", 9, "0 out of range 1..1000"},
		{"tron-endpoint-scheme", sub(minimalDoc, "grpc://127.0.0.1:50051", "https://api.trongrid.io"), "chains[tron].endpoints[0].url", 6, `scheme "https" not allowed for kind tron`},
		{"policy-confirmations-zero", sub(evmDoc, "    tokens:", "    finality: {policy: confirmations, confirmations: 0}\n    tokens:"), "chains[bsc].finality.confirmations", 9, "at least 1 under policy confirmations"},
		{"max-lag-zero", sub(evmDoc, "    tokens:", "    finality: {max_lag: 0}\n    tokens:"), "chains[bsc].finality.max_lag", 9, "at least 1"},
		{"solana-policy", evmDoc + sub(solanaChain, "    tokens:", "    finality: {policy: finalized}\n    tokens:"), "chains[solana].finality.policy", 15, "want commitment"},
		{"poll-too-fast", sub(evmDoc, "    tokens:", "    poll_interval: 10ms\n    tokens:"), "chains[bsc].poll_interval", 9, "out of range 100ms..10m"},
		{"batch-size-zero", sub(evmDoc, "    tokens:", "    batch_size: 0\n    tokens:"), "chains[bsc].batch_size", 9, "0 out of range 1..10000"},
		{"symbol-of-other-pinned-token", sub(evmDoc, "symbol: USDT", "symbol: USDC"), "chains[bsc].tokens[USDC].symbol", 10, "is the pinned USDT contract, not USDC"},
		{"symbol-charset", sub(sub(evmDoc, "symbol: USDT", "symbol: \"US DT\""), "0x55d398326f99059fF775485246999027B3197955\"", "0x1111111111111111111111111111111111111111\"\n        decimals: 6"), "chains[bsc].tokens[US DT].symbol", 10, "want 1-16 letters"},
		{"decimals-unknown-token", sub(evmDoc, "0x55d398326f99059fF775485246999027B3197955", "0x1111111111111111111111111111111111111111"), "chains[bsc].tokens[USDT].decimals", 10, "required: no pinned decimals"},
		{"program-on-evm", sub(evmDoc, "        address:", "        program: token\n        address:"), "chains[bsc].tokens[USDT].program", 11, "only for kind solana"},
		{"program-pinned-mismatch", evmDoc + sub(solanaChain, "program: token", "program: token2022"), "chains[solana].tokens[USDC].program", 16, "belongs to program token, config says token2022"},
		{"program-unknown", evmDoc + sub(sub(solanaChain, "program: token", "program: spl"), "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "11111111111111111111111111111111, decimals: 9"), "chains[solana].tokens[USDC].program", 16, `unknown program "spl"`},
		{"max-range-zero", sub(evmDoc, "    tokens:", "    max_range: 0\n    tokens:"), "chains[bsc].max_range", 9, "at least 1"},
		{"token-no-symbol", sub(evmDoc, "      - symbol: USDT\n        address", "      - address"), "chains[bsc].tokens[0].symbol", 10, "required"},
		{"token-no-address", sub(evmDoc, "        address: \"0x55d398326f99059fF775485246999027B3197955\"\n", "        decimals: 6\n"), "chains[bsc].tokens[USDT].address", 10, "required: the token contract"},
		{"webhook-no-name", sub(webhookDoc, "    - name: h\n      url", "    - url"), "webhooks.endpoints[0].name", 14, "required"},
		{"redis-url-no-host", sub(evmDoc, "  url_env: DEPOSITD_TEST_REDIS_URL", "  url: \"redis:///0\""), "redis.url", 2, "missing host"},
		{"decimals-overflow", sub(evmDoc, "3197955\"\n", "3197955\"\n        decimals: 99999999999\n"), "chains[bsc].tokens[USDT].decimals", 12, "99999999999 is too large"},
		{"no-chains", "redis: {url_env: DEPOSITD_TEST_REDIS_URL}\n", "chains", 0, "at least one chain"},
		{"sentinel-no-master", sub(evmDoc, "  url_env: DEPOSITD_TEST_REDIS_URL", "  sentinel: {addrs: [\"127.0.0.1:26379\"]}"), "redis.sentinel.master", 2, "required"},
		{"sentinel-bad-addr", sub(evmDoc, "  url_env: DEPOSITD_TEST_REDIS_URL", "  sentinel: {master: m, addrs: [\"127.0.0.1\"]}"), "redis.sentinel.addrs[0]", 2, "want host:port"},
		{"cluster-no-addrs", sub(evmDoc, "  url_env: DEPOSITD_TEST_REDIS_URL", "  cluster: {addrs: []}"), "redis.cluster.addrs", 2, "at least one host:port"},
		{"sentinel-and-cluster", sub(evmDoc, "  url_env: DEPOSITD_TEST_REDIS_URL", "  sentinel: {master: m, addrs: [\"a:1\"]}\n  cluster: {addrs: [\"b:1\"]}"), "redis.cluster", 3, "exactly one Redis topology"},
		{"api-duplicate-name", evmDoc + "api:\n  tokens:\n    - {name: a, scopes: [read], token_env: DEPOSITD_TEST_API_TOKEN}\n    - {name: a, scopes: [write], token_env: DEPOSITD_TEST_REDIS_URL}\n", "api.tokens[1].name", 15, `duplicate token name "a"`},
		{"api-same-token-twice", evmDoc + "api:\n  tokens:\n    - {name: a, scopes: [read], token_env: DEPOSITD_TEST_API_TOKEN}\n    - {name: b, scopes: [write], token_env: DEPOSITD_TEST_API_TOKEN}\n", "api.tokens[b].token", 15, `same value as token "a"`},
		{"api-no-scopes", evmDoc + "api:\n  tokens:\n    - {name: a, token_env: DEPOSITD_TEST_API_TOKEN}\n", "api.tokens[a].scopes", 14, "required: read, write or both"},
		{"api-scope-twice", evmDoc + "api:\n  tokens:\n    - {name: a, scopes: [read, read], token_env: DEPOSITD_TEST_API_TOKEN}\n", "api.tokens[a].scopes[1]", 14, `scope "read" given twice`},
		{"webhook-event-twice", webhookDoc + "      events: [balance.low, balance.low]\n", "webhooks.endpoints[h].events[1]", 17, "given twice"},
		{"webhook-localhost", sub(webhookDoc, "https://hooks.example.com/in", "http://localhost:9000/in"), "webhooks.endpoints[h].url", 15, "loopback; set allow_private"},
		{"webhook-ipv6-loopback", sub(webhookDoc, "https://hooks.example.com/in", "http://[::1]:9000/in"), "webhooks.endpoints[h].url", 15, "::1 is not public"},
		{"webhook-link-local", sub(webhookDoc, "https://hooks.example.com/in", "http://169.254.169.254/latest"), "webhooks.endpoints[h].url", 15, "169.254.169.254 is not public"},
		{"webhook-credentials", sub(webhookDoc, "https://hooks.example.com/in", "https://u:p@hooks.example.com/in"), "webhooks.endpoints[h].url", 15, "credentials in the URL"},
		{"webhook-no-secret", sub(webhookDoc, "      secret_env: DEPOSITD_TEST_WEBHOOK_SECRET\n", ""), "webhooks.endpoints[h].secret_env", 14, "required: set secret_env or secret_file"},
		{"webhook-two-secret-sources", webhookDoc + "      secrets_env: [DEPOSITD_TEST_WEBHOOK_SECRET]\n", "webhooks.endpoints[h].secrets_env", 17, "give only one of secret_env, secrets_env"},
		{"webhook-empty-secret-list", sub(webhookDoc, "secret_env: DEPOSITD_TEST_WEBHOOK_SECRET", "secrets_env: []"), "webhooks.endpoints[h].secrets_env", 16, "empty list of secrets"},
		{"webhook-secret-no-prefix", sub(webhookDoc, "secret_env: DEPOSITD_TEST_WEBHOOK_SECRET", "secret_env: DEPOSITD_TEST_API_TOKEN"), "webhooks.endpoints[h].secret", 16, `want "whsec_"`},
		{"webhook-secret-not-base64", sub(webhookDoc, "secret_env: DEPOSITD_TEST_WEBHOOK_SECRET", "secret_env: DEPOSITD_TEST_NOT_B64"), "webhooks.endpoints[h].secret", 16, "not base64"},
		{"webhook-timeout", webhookDoc + "      timeout: 0s\n", "webhooks.endpoints[h].timeout", 17, "out of range"},
		{"webhook-empty-schedule", webhookDoc + "      schedule: []\n", "webhooks.endpoints[h].schedule", 17, "want 1..50 attempts, got 0"},
		{"webhook-duplicate-name", webhookDoc + "    - {name: h, url: \"https://b.example.com\", secret_env: DEPOSITD_TEST_WEBHOOK_SECRET}\n", "webhooks.endpoints[1].name", 17, `duplicate endpoint name "h"`},
		{"timezone-local", evmDoc + "settlement: {timezone: Local}\n", "settlement.timezone", 12, "want an IANA time zone"},
		{"threshold-zero", evmDoc + "settlement: {low_balance_thresholds: [\"0\"]}\n", "settlement.low_balance_thresholds[0]", 12, "must be positive"},
		{"due-days", evmDoc + "settlement: {due_days: 400}\n", "settlement.due_days", 12, "400 out of range 1..365"},
		{"overdue-sweep-zero", evmDoc + "settlement: {overdue_sweep: 0s}\n", "settlement.overdue_sweep", 12, "must be positive"},
	}
	tests[2] = struct {
		name string
		doc  string
		path string
		line int
		msg  string
	}{"chain-id-on-tron", sub(minimalDoc, "    kind: tron\n", "    kind: tron\n    chain_id: 728126428\n"), "chains[tron].chain_id", 6, "only for kind evm"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setTestEnv(t)
			t.Setenv("DEPOSITD_TEST_NOT_B64", "whsec_!!!notbase64!!!")
			_, err := Parse([]byte(tt.doc), "r.yml")
			var errs Errors
			if !errors.As(err, &errs) || len(errs) != 1 {
				t.Fatalf("want exactly one problem, got:\n%v", err)
			}
			if e := errs[0]; e.Path != tt.path || e.Line != tt.line || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("got %s\nwant path %q line %d msg %q", e, tt.path, tt.line, tt.msg)
			}
			if strings.Contains(err.Error(), testWebhookSecret) || strings.Contains(err.Error(), testAPIToken) {
				t.Errorf("error reveals a secret: %v", err)
			}
		})
	}
}

// TestAccepted covers valid variants: each must parse with no problem.
func TestAccepted(t *testing.T) {
	dir := t.TempDir()
	for i, s := range []string{testWebhookSecret, "whsec_" + strings.Repeat("QUJD", 16)} {
		if err := os.WriteFile(filepath.Join(dir, "wh"+string(rune('0'+i))), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		doc   string
		check func(t *testing.T, c *Config)
	}{
		{"private-webhook-allowed", webhookDoc + "      allow_private: true\n", func(t *testing.T, c *Config) {
			if !c.Webhooks.Endpoints[0].AllowPrivate {
				t.Error("allow_private not set")
			}
		}},
		{"rotation-from-files", strings.Replace(webhookDoc, "secret_env: DEPOSITD_TEST_WEBHOOK_SECRET", "secrets_file: ["+filepath.Join(dir, "wh0")+", "+filepath.Join(dir, "wh1")+"]", 1), func(t *testing.T, c *Config) {
			if s := c.Webhooks.Endpoints[0].Secrets; len(s) != 2 || s[1].Reveal() != "whsec_"+strings.Repeat("QUJD", 16) {
				t.Errorf("secrets %v", s)
			}
		}},
		{"sentinel", strings.Replace(evmDoc, "  url_env: DEPOSITD_TEST_REDIS_URL", "  sentinel: {master: m, addrs: [\"10.0.0.1:26379\", \"10.0.0.2:26379\"], password_env: DEPOSITD_TEST_API_TOKEN}", 1), func(t *testing.T, c *Config) {
			s := c.Redis.Sentinel
			if s == nil || s.Master != "m" || len(s.Addrs) != 2 || s.Password.Reveal() != testAPIToken || c.Redis.URL != "" {
				t.Errorf("redis %+v", c.Redis)
			}
			if s.WaitReplicas != DefaultWaitReplicas || s.WaitTimeout != DefaultWaitTimeout || s.SentinelPassword != "" {
				t.Errorf("sentinel defaults: wait_replicas %d, wait_timeout %v, sentinel password set %v", s.WaitReplicas, s.WaitTimeout, s.SentinelPassword != "")
			}
		}},
		{"sentinel-wait-and-own-password", strings.Replace(evmDoc, "  url_env: DEPOSITD_TEST_REDIS_URL", "  sentinel: {master: m, addrs: [\"10.0.0.1:26379\"], sentinel_password_env: DEPOSITD_TEST_API_TOKEN, wait_replicas: 2, wait_timeout: 250ms}", 1), func(t *testing.T, c *Config) {
			s := c.Redis.Sentinel
			if s == nil || s.SentinelPassword.Reveal() != testAPIToken || s.Password != "" || s.WaitReplicas != 2 || s.WaitTimeout != 250*time.Millisecond {
				t.Errorf("sentinel %+v", s)
			}
		}},
		{"cluster", strings.Replace(evmDoc, "  url_env: DEPOSITD_TEST_REDIS_URL", "  cluster: {addrs: [\"10.0.0.1:6379\"]}", 1), func(t *testing.T, c *Config) {
			if c.Redis.Cluster == nil || len(c.Redis.Cluster.Addrs) != 1 || c.Redis.Cluster.Password != "" {
				t.Errorf("redis %+v", c.Redis)
			}
		}},
		{"token2022-mint", evmDoc + strings.Replace(strings.Replace(solanaChain, "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", "11111111111111111111111111111111", 1), "program: token", "program: token2022, decimals: 9, min_amount: \"0.000000001\", usd_rate: \"0.9995\"", 1), func(t *testing.T, c *Config) {
			tok := c.Chains[1].Tokens[0]
			if tok.Program != ProgramToken2022 || tok.Decimals != 9 || tok.MinUnits().Int64() != 1 || tok.USDRate.String() != "0.9995" {
				t.Errorf("token %+v", tok)
			}
		}},
		{"look-alike-warns", strings.Replace(evmDoc, "0x55d398326f99059fF775485246999027B3197955\"", "0x1111111111111111111111111111111111111111\"\n        decimals: 6", 1), func(t *testing.T, c *Config) {
			if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "r.yml:11: chains[bsc].tokens[USDT].address: 0x1111111111111111111111111111111111111111 is not the pinned USDT contract") {
				t.Errorf("warnings %q", c.Warnings)
			}
		}},
		{"testnet-chain-id-has-no-pins", strings.Replace(strings.Replace(evmDoc, "chain_id: 56", "chain_id: 97", 1), "0x55d398326f99059fF775485246999027B3197955\"", "0x1111111111111111111111111111111111111111\"\n        decimals: 6", 1), func(t *testing.T, c *Config) {
			if len(c.Warnings) != 0 || c.Chains[0].Tokens[0].Decimals != 6 {
				t.Errorf("warnings %q, token %+v", c.Warnings, c.Chains[0].Tokens[0])
			}
		}},
		{"null-sections-keep-defaults", evmDoc + "log:\nsettlement: ~\nwebhooks:\n", func(t *testing.T, c *Config) {
			if c.Log.Format != "json" || c.Settlement.DueDays != 10 || len(c.Webhooks.Endpoints) != 0 {
				t.Errorf("log %+v settlement %+v", c.Log, c.Settlement)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setTestEnv(t)
			c, err := Parse([]byte(tt.doc), "r.yml")
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yml")
	if err := os.WriteFile(big, []byte("# "+strings.Repeat("x", maxFileSize)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		msg  string
	}{
		{"missing-file", filepath.Join(dir, "nope.yml"), "no such file"},
		{"too-large", big, "file larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(tt.path)
			if c != nil || err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("Load = %v, %v; want error %q", c, err, tt.msg)
			}
		})
	}
}
