package config

import (
	"errors"
	"strings"
	"testing"
)

// minimalDoc is a valid config to which tests append or substitute keys.
const minimalDoc = `redis:
  url_env: DEPOSITD_TEST_REDIS_URL
chains:
  - name: tron
    kind: tron
    endpoints: [{url: "grpc://127.0.0.1:50051"}]
    tokens: [{symbol: USDT, address: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t}]
`

// TestDocumentShapes covers YAML that is well-formed but not a config, and
// the strict scalar types.
func TestDocumentShapes(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		path string
		line int
		msg  string
	}{
		{"empty", "", "", 0, "empty document"},
		{"comment-only", "# nothing\n", "", 0, "empty document"},
		{"two-documents", minimalDoc + "---\nlisten: 127.0.0.1:1\n", "", 0, "more than one YAML document"},
		{"root-list", "- a\n- b\n", "", 1, "want a mapping of sections"},
		{"root-scalar", "hello\n", "", 1, "want a mapping of sections"},
		{"section-scalar", minimalDoc + "settlement: daily\n", "settlement", 8, `want a mapping, got "daily"`},
		{"list-where-mapping", minimalDoc + "log: [json]\n", "log", 8, "want a mapping, got a list"},
		{"mapping-where-list", minimalDoc + "api: {tokens: {name: x}}\n", "api.tokens", 8, "want a list, got a mapping"},
		{"mapping-where-scalar", minimalDoc + "listen: {host: x}\n", "listen", 8, "want a single value, got a mapping"},
		{"quoted-integer", minimalDoc + "settlement: {due_days: \"10\"}\n", "settlement.due_days", 8, `want an integer, got "10"`},
		{"float-integer", minimalDoc + "settlement: {due_days: 10.5}\n", "settlement.due_days", 8, `want an integer, got "10.5"`},
		{"yes-is-not-bool", minimalDoc + "webhooks:\n  endpoints:\n    - name: h\n      url: https://h.example.com\n      secret_env: DEPOSITD_TEST_WEBHOOK_SECRET\n      allow_private: yes\n",
			"webhooks.endpoints[h].allow_private", 13, `want true or false, got "yes"`},
		{"negative-uint", strings.Replace(minimalDoc, "    kind: tron\n", "    kind: tron\n    start_block: -1\n", 1), "chains[tron].start_block", 6, "want a non-negative integer"},
		{"negative-duration", minimalDoc + "settlement: {overdue_sweep: -5m}\n", "settlement.overdue_sweep", 8, "must not be negative"},
		{"word-duration", minimalDoc + "settlement: {overdue_sweep: often}\n", "settlement.overdue_sweep", 8, `bad duration "often"`},
		{"usd-precision", minimalDoc + "settlement: {low_balance_thresholds: [\"0.000000001\"]}\n", "settlement.low_balance_thresholds[0]", 8, "more than 8 decimal places"},
		{"non-scalar-key", minimalDoc + "? [a, b]\n: c\n", "", 8, "keys must be plain names"},
		{"unknown-top-level", minimalDoc + "chain:\n  - name: x\n", "chain", 8, `did you mean "chains"?`},
		{"unknown-far-key", minimalDoc + "zzzzzzzz: 1\n", "zzzzzzzz", 8, "(known: addresses, api, chains, huawei, lease, listen, log, mode, redis, settlement, webhooks)"},
		{"bad-mode", "mode: staging\n" + minimalDoc, "mode", 1, `unknown mode "staging"`},
		{"bad-log-level", minimalDoc + "log: {level: loud}\n", "log.level", 8, `unknown level "loud"`},
		{"bad-log-format", minimalDoc + "log: {format: xml}\n", "log.format", 8, `unknown format "xml"`},
		{"bad-listen", minimalDoc + "listen: \":http\"\n", "listen", 8, `port "http"`},
		{"merge-key", minimalDoc + "log:\n  <<: {level: info}\n", "log.<<", 9, `unknown key "<<"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setTestEnv(t)
			_, err := Parse([]byte(tt.doc), "x.yml")
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("want Errors, got %v", err)
			}
			if len(errs) != 1 {
				t.Fatalf("want one problem, got:\n%v", err)
			}
			e := errs[0]
			if e.Path != tt.path || e.Line != tt.line || !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("got %s\nwant path %q line %d msg %q", e, tt.path, tt.line, tt.msg)
			}
		})
	}
}

// TestAliases checks that anchors and aliases work for repeated blocks and
// that an alias bomb is refused instead of expanded.
func TestAliases(t *testing.T) {
	setTestEnv(t)
	doc := `redis: {url_env: DEPOSITD_TEST_REDIS_URL}
x-endpoints: &eps
  - url: https://bsc.example.org
chains:
  - name: bsc
    kind: evm
    endpoints: *eps
    tokens: [{symbol: USDT, address: "0x55d398326f99059fF775485246999027B3197955"}]
`
	// x- keys are not part of the schema: aliases must come from anchors on
	// real keys, so this is an unknown key.
	_, err := Parse([]byte(doc), "a.yml")
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Path != "x-endpoints" {
		t.Fatalf("want one unknown key x-endpoints, got %v", err)
	}
	doc = `redis: {url_env: DEPOSITD_TEST_REDIS_URL}
chains:
  - name: ethereum
    kind: evm
    endpoints: &eps
      - url: https://rpc.example.org
    tokens: [{symbol: USDT, address: "0xdAC17F958D2ee523a2206206994597C13D831ec7"}]
  - name: bsc
    kind: evm
    endpoints: *eps
    tokens: [{symbol: USDT, address: "0x55d398326f99059fF775485246999027B3197955"}]
`
	c, err := Parse([]byte(doc), "a.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Chains[1].Endpoints[0].URL.Reveal(); got != "https://rpc.example.org" {
		t.Errorf("aliased endpoint = %q", got)
	}

	// 1,000 aliased chains of 1,000 aliased tokens each: a 30 kB file
	// that would expand to millions of nodes.
	var bomb strings.Builder
	bomb.WriteString("chains:\n  - &c\n    name: a\n    kind: evm\n    tokens:\n      - &t {symbol: A, address: \"0x55d398326f99059fF775485246999027B3197955\"}\n")
	bomb.WriteString(strings.Repeat("      - *t\n", 999))
	bomb.WriteString(strings.Repeat("  - *c\n", 999))
	_, err = Parse([]byte(bomb.String()), "bomb.yml")
	if err == nil || !strings.Contains(err.Error(), "document too large") {
		t.Fatalf("alias bomb: got %v", err)
	}
}

// TestValidateBuiltConfig runs Validate on a Config made in code: problems
// still name their paths, with no line.
func TestValidateBuiltConfig(t *testing.T) {
	c := defaults()
	c.Chains = []Chain{chainDefaults("bsc", KindEVM)}
	c.Chains[0].Tokens = []Token{{Symbol: "USDT", Address: "0x55d398326f99059fF775485246999027B3197955", Decimals: 18}}
	err := c.Validate()
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want Errors, got %v", err)
	}
	want := map[string]bool{
		"redis":                             true, // no topology
		"settlement.timezone":               true, // Location not loaded
		"chains[bsc].endpoints":             true,
		"chains[bsc].tokens[USDT].usd_rate": true, // zero value
	}
	for _, e := range errs {
		if !want[e.Path] || e.Line != 0 || e.File != "" {
			t.Errorf("unexpected problem %+v", e)
		}
		delete(want, e.Path)
	}
	for p := range want {
		t.Errorf("missing problem at %s", p)
	}
	if !strings.HasPrefix(errs[0].Error(), errs[0].Path+": ") {
		t.Errorf("Error() without file or line = %q", errs[0].Error())
	}
}

func TestFieldErrorFormat(t *testing.T) {
	tests := []struct {
		name string
		e    FieldError
		want string
	}{
		{"full", FieldError{File: "d.yml", Path: "chains[bsc].kind", Line: 12, Msg: "bad"}, "d.yml:12: chains[bsc].kind: bad"},
		{"no-line", FieldError{File: "d.yml", Path: "redis", Msg: "required"}, "d.yml: redis: required"},
		{"no-file", FieldError{Path: "listen", Line: 3, Msg: "bad"}, "line 3: listen: bad"},
		{"no-path", FieldError{File: "d.yml", Line: 4, Msg: "yaml syntax"}, "d.yml:4: yaml syntax"},
		{"bare", FieldError{Msg: "empty"}, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLabels(t *testing.T) {
	got := labels([]string{"bsc", "", "bsc", "7", "a.b", "tron"})
	want := []string{"bsc", "1", "2", "3", "4", "tron"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("labels = %v, want %v", got, want)
	}
}
