package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// apiDoc is a minimal valid config whose one API token is given by the
// lines in tokenKeys (indented under the token entry).
func apiDoc(mode, tokenKeys string) string {
	return mode + `redis: {url_env: DEPOSITD_TEST_REDIS_URL}
chains:
  - name: tron
    kind: tron
    endpoints: [{url: "grpc://127.0.0.1:50051"}]
    tokens: [{symbol: USDT, address: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t}]
api:
  tokens:
    - name: ops
      scopes: [read]
` + tokenKeys
}

func TestSecretSources(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(testAPIToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty"), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		mode    string
		keys    string
		env     map[string]string
		want    string // token value on success
		errPath string // else the one problem's path
		errMsg  string
		warn    string
	}{
		{name: "env", keys: "      token_env: TOK\n", env: map[string]string{"TOK": testAPIToken}, want: testAPIToken},
		{name: "env-trimmed", keys: "      token_env: TOK\n", env: map[string]string{"TOK": " " + testAPIToken + "\n"}, want: testAPIToken},
		{name: "file-relative-to-config", keys: "      token_file: token\n", want: testAPIToken},
		{name: "file-absolute", keys: "      token_file: " + filepath.Join(dir, "token") + "\n", want: testAPIToken},
		{name: "inline-dev", mode: "mode: dev\n", keys: "      token: short\n", want: "short", warn: "api.tokens[ops].token: inline secret (accepted in dev mode only)"},
		{name: "inline-production", keys: "      token: " + testAPIToken + "\n", errPath: "api.tokens[ops].token", errMsg: "inline secret not allowed outside mode: dev"},
		{name: "env-unset", keys: "      token_env: DEPOSITD_TEST_NOT_SET\n", errPath: "api.tokens[ops].token_env", errMsg: "DEPOSITD_TEST_NOT_SET is not set"},
		{name: "env-empty", keys: "      token_env: TOK\n", env: map[string]string{"TOK": "  "}, errPath: "api.tokens[ops].token_env", errMsg: "TOK is empty"},
		{name: "env-bad-name", keys: "      token_env: 'MY TOKEN'\n", errPath: "api.tokens[ops].token_env", errMsg: "not an environment variable name"},
		{name: "file-missing", keys: "      token_file: nope\n", errPath: "api.tokens[ops].token_file", errMsg: "no such file"},
		{name: "file-empty", keys: "      token_file: empty\n", errPath: "api.tokens[ops].token_file", errMsg: "is empty"},
		{name: "two-sources", keys: "      token_env: TOK\n      token_file: token\n", env: map[string]string{"TOK": testAPIToken}, errPath: "api.tokens[ops].token_file", errMsg: "give only one of token_env, token_file"},
		{name: "none", keys: "", errPath: "api.tokens[ops].token_env", errMsg: "required: set token_env or token_file"},
		{name: "too-short", keys: "      token_env: TOK\n", env: map[string]string{"TOK": "abc"}, errPath: "api.tokens[ops].token", errMsg: "too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setTestEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			path := filepath.Join(dir, tt.name+".yml")
			if err := os.WriteFile(path, []byte(apiDoc(tt.mode, tt.keys)), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(path)
			if tt.errPath != "" {
				var errs Errors
				if !errors.As(err, &errs) || len(errs) != 1 {
					t.Fatalf("want one problem at %s, got %v", tt.errPath, err)
				}
				if errs[0].Path != tt.errPath || !strings.Contains(errs[0].Msg, tt.errMsg) || errs[0].Line == 0 {
					t.Errorf("got %v, want %s: …%s…", errs[0], tt.errPath, tt.errMsg)
				}
				if strings.Contains(err.Error(), testAPIToken) {
					t.Errorf("error reveals the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.API.Tokens[0].Token.Reveal(); got != tt.want {
				t.Errorf("token = %q, want %q", got, tt.want)
			}
			if tt.warn == "" && len(c.Warnings) != 0 || tt.warn != "" && (len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], tt.warn)) {
				t.Errorf("warnings %q, want %q", c.Warnings, tt.warn)
			}
		})
	}
}

func TestRedisInlinePassword(t *testing.T) {
	tests := []struct {
		name  string
		mode  string
		url   string
		error string
	}{
		{"no-password", "", "redis://127.0.0.1:6379/0", ""},
		{"password-production", "", "redis://:secret@127.0.0.1:6379/0", "inline password not allowed"},
		{"password-dev", "mode: dev\n", "redis://:secret@127.0.0.1:6379/0", ""},
		{"bad-scheme", "", "http://127.0.0.1:6379", `scheme "http": want redis, rediss or unix`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(apiDoc(tt.mode, "      token_env: DEPOSITD_TEST_API_TOKEN\n"),
				"redis: {url_env: DEPOSITD_TEST_REDIS_URL}", "redis: {url: \""+tt.url+"\"}", 1)
			setTestEnv(t)
			_, err := Parse([]byte(doc), "r.yml")
			if tt.error == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Path != "redis.url" || !strings.Contains(errs[0].Msg, tt.error) {
				t.Fatalf("want one redis.url problem %q, got %v", tt.error, err)
			}
			if strings.Contains(err.Error(), "secret@") {
				t.Errorf("error reveals the password: %v", err)
			}
		})
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2-very-secret")
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("x", "token", s)
	js, err := json.Marshal(struct{ T Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", s),
		"%s":   fmt.Sprintf("%s", s),
		"%#v":  fmt.Sprintf("%#v", s),
		"%+v":  fmt.Sprintf("%+v", struct{ T Secret }{s}),
		"slog": logBuf.String(),
		"json": string(js),
	}
	for name, out := range outputs {
		t.Run(name, func(t *testing.T) {
			if strings.Contains(out, "hunter2") || !strings.Contains(out, redacted) {
				t.Errorf("%s printed %q", name, out)
			}
		})
	}
	if s.Reveal() != "hunter2-very-secret" || Secret("").String() != "" {
		t.Error("Reveal or empty String wrong")
	}
}
