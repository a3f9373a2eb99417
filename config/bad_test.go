package config

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestBadFixtures loads each testdata/bad/<rule>.yml and requires exactly one
// problem, at the expected key path and line, with the expected message.
func TestBadFixtures(t *testing.T) {
	tests := []struct {
		rule string
		path string
		line int
		msg  string
	}{
		{"unknown_key", "chains[bsc].tokens[USDT].decimalz", 13, `unknown key "decimalz" (did you mean "decimals"?)`},
		{"unknown_key_section", "chains[bsc].max_rang", 10, `did you mean "max_range"?`},
		{"duplicate_key", "chains[bsc].poll_interval", 11, "key given twice (first at line 10)"},
		{"missing_chain_name", "chains[0].name", 5, "required"},
		{"duplicate_chain", "chains[1].name", 14, `duplicate chain "bsc"`},
		{"bad_kind", "chains[bsc].kind", 6, `unknown kind "cosmos"`},
		{"no_endpoints", "chains[bsc].endpoints", 5, "at least one RPC endpoint"},
		{"bad_endpoint_url", "chains[bsc].endpoints[0].url", 9, `scheme "htp" not allowed for kind evm`},
		{"bad_address_evm", "chains[bsc].tokens[USDT].address", 12, "evm address:"},
		{"bad_address_evm_checksum", "chains[bsc].tokens[USDT].address", 12, "bad EIP-55 checksum"},
		{"bad_address_tron", "chains[tron].tokens[USDT].address", 11, "tron address: bad checksum"},
		{"bad_address_solana", "chains[solana].tokens[USDC].address", 11, "solana address:"},
		{"duplicate_token", "chains[bsc].tokens[1].symbol", 14, `duplicate token "USDT"`},
		{"duplicate_token_address", "chains[bsc].tokens[USDX].address", 15, "duplicate token address"},
		{"no_tokens", "chains[bsc].tokens", 10, "at least one token"},
		{"decimals_out_of_range", "chains[bsc].tokens[USDT].decimals", 13, "40 out of range 0..36"},
		{"decimals_known_mismatch", "chains[bsc].tokens[USDT].decimals", 13, "must be 18 for bsc USDT"},
		{"negative_min_amount", "chains[bsc].tokens[USDT].min_amount", 14, "must not be negative"},
		{"malformed_min_amount", "chains[bsc].tokens[USDT].min_amount", 14, `want a decimal string such as "0.01", got "1e3"`},
		{"min_amount_too_fine", "chains[tron].tokens[USDT].min_amount", 13, "finer than the token's 6 decimals"},
		{"negative_usd_rate", "chains[bsc].tokens[USDT].usd_rate", 14, "must be positive"},
		{"malformed_usd_rate", "chains[bsc].tokens[USDT].usd_rate", 14, `got "one"`},
		{"bad_duration", "chains[bsc].poll_interval", 10, `bad duration "5": missing unit`},
		{"bad_timezone", "settlement.timezone", 15, `unknown time zone "Asia/Beijing"`},
		{"negative_offchain_approval", "settlement.offchain_approval_above", 15, "must not be negative, got -5.00000000"},
		{"bad_webhook_url", "webhooks.endpoints[billing].url", 17, "want an http or https URL"},
		{"private_webhook_url", "webhooks.endpoints[billing].url", 17, "not public; set allow_private"},
		{"bad_webhook_secret", "webhooks.endpoints[billing].secret", 18, "key is 5 bytes, want 24-64"},
		{"unknown_event", "webhooks.endpoints[billing].events[1]", 19, `unknown event type "deposit.confirmed"`},
		{"bad_scope", "api.tokens[ops].scopes[1]", 17, `unknown scope "admin"`},
		{"missing_secret_env", "api.tokens[ops].token_env", 18, "environment variable DEPOSITD_TEST_UNSET_TOKEN is not set"},
		{"inline_secret", "api.tokens[ops].token", 18, "inline secret not allowed outside mode: dev"},
		{"huawei_missing_domain", "huawei.domain_id", 14, "required: the partner account id"},
		{"huawei_bad_day", "huawei.import_day", 18, "31 out of range 1..28"},
		{"huawei_bad_hour", "huawei.import_hour", 18, "24 out of range 0..23"},
		{"huawei_missing_sk", "huawei.sk_env", 14, "required: set sk_env or sk_file"},
		{"huawei_http_endpoint", "huawei.endpoint", 15, "want an https URL (http only in mode: dev)"},
		{"huawei_no_customers", "huawei.customers", 14, "at least one customer_id"},
		{"huawei_duplicate_customer", "huawei.customers[1].customer_id", 21, `duplicate customer "c1"`},
		{"huawei_shared_account", "huawei.customers[c2].account", 22, `account "acme" already mapped from customer "c1"`},
		{"huawei_bad_account", "huawei.customers[c1].account", 20, `account id "acme corp"`},
		{"huawei_page_size", "huawei.page_size", 18, "5000 out of range 1..1000"},
		{"redis_ambiguous", "redis.cluster", 4, "exactly one Redis topology"},
		{"missing_redis", "redis", 0, "required"},
		{"sentinel_no_master", "redis.sentinel.master", 3, "required: the monitored master's name"},
		{"sentinel_wait_replicas", "redis.sentinel.wait_replicas", 6, "-1 out of range 0..5"},
		{"sentinel_wait_timeout", "redis.sentinel.wait_timeout", 6, "must be positive"},
		{"cluster_addr_no_port", "redis.cluster.addrs[1]", 4, `want host:port, got "10.0.0.2"`},
		{"finality_policy_kind", "chains[tron].finality.policy", 10, `"finalized" not valid for kind tron (want solidified or confirmations)`},
		{"yaml_syntax", "", 4, "yaml syntax"},
		{"xpub_private", "addresses.xpubs.evm", 16, "PRIVATE key: depositd is watch-only"},
		{"xpub_depth", "addresses.xpubs.tron", 16, "depth 0: want the BIP44 account level"},
		{"lease_ttl_short", "lease.ttl", 15, "200ms out of range 1s..10m0s"},
		{"lease_ttl_long", "lease.ttl", 15, "1h0m0s out of range 1s..10m0s"},
		{"lease_ttl_unit", "lease.ttl", 15, `bad duration "15": missing unit`},
		{"lease_unknown_key", "lease.renew", 16, "unknown key"},
		{"xpub_garbage", "addresses.xpubs.evm", 16, "not an extended public key"},
	}
	setTestEnv(t)
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.rule+".yml"] = true
		t.Run(tt.rule, func(t *testing.T) {
			file := filepath.Join("testdata", "bad", tt.rule+".yml")
			c, err := Load(file)
			if c != nil || err == nil {
				t.Fatalf("Load(%s) = %v, %v; want errors", file, c, err)
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %T %q is not Errors", err, err)
			}
			if len(errs) != 1 {
				t.Fatalf("want exactly one problem, got %d:\n%v", len(errs), errs)
			}
			e := errs[0]
			if e.Path != tt.path || e.Line != tt.line || !strings.Contains(e.Msg, tt.msg) || e.File != file {
				t.Errorf("got %+v\nwant file %s path %q line %d msg containing %q", e, file, tt.path, tt.line, tt.msg)
			}
			// The one-line form names file, line and path, as a CLI prints it.
			want := file
			if tt.line > 0 {
				want += ":" + strconv.Itoa(tt.line)
			}
			if tt.path != "" {
				want += ": " + tt.path
			}
			if !strings.HasPrefix(err.Error(), want+": ") {
				t.Errorf("Error() = %q, want prefix %q", err.Error(), want+": ")
			}
		})
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "bad"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !covered[e.Name()] {
			t.Errorf("testdata/bad/%s has no row in this table", e.Name())
		}
	}
}

// TestAllProblemsAtOnce checks that Parse reports every problem of a file,
// in line order, rather than stopping at the first.
func TestAllProblemsAtOnce(t *testing.T) {
	setTestEnv(t)
	doc := `listen: nowhere
log:
  level: loud
redis:
  url_env: DEPOSITD_TEST_REDIS_URL
chains:
  - name: bsc
    kind: evm
    chain_id: 56
    endpoints:
      - url: https://bsc.example.org
    poll_interval: soon
    tokens:
      - symbol: USDT
        address: "0x55d398326f99059fF775485246999027B3197955"
        decimals: 6
        usd_rate: "0"
settlement:
  due_days: 0
`
	_, err := Parse([]byte(doc), "depositd.yml")
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want Errors, got %v", err)
	}
	want := []struct {
		path string
		line int
	}{
		{"listen", 1},
		{"log.level", 3},
		{"chains[bsc].poll_interval", 12},
		{"chains[bsc].tokens[USDT].decimals", 16},
		{"chains[bsc].tokens[USDT].usd_rate", 17},
		{"settlement.due_days", 19},
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(errs), len(want), err)
	}
	for i, w := range want {
		if errs[i].Path != w.path || errs[i].Line != w.line {
			t.Errorf("problem %d = %s; want %s at line %d", i, errs[i], w.path, w.line)
		}
	}
	if got := strings.Count(err.Error(), "\n"); got != len(want)-1 {
		t.Errorf("Error() has %d lines, want one per problem:\n%s", got+1, err)
	}
}
