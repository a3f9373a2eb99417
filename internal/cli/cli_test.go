package cli

import (
	"bytes"
	"context"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/settlement/ledger"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestConfigValidate(t *testing.T) {
	for k, v := range map[string]string{
		"DEPOSITD_REDIS_URL": "redis://127.0.0.1:6379/0", "DEPOSITD_TOKEN_OPS": "ops-token-0123456789", "DEPOSITD_TOKEN_BILLING": "billing-token-0123456789",
		"DEPOSITD_ETH_RPC_URL": "https://eth.example.org", "DEPOSITD_BSC_RPC_URL": "https://bsc.example.org",
		"DEPOSITD_TRONGRID_KEY": "k", "DEPOSITD_SOLANA_RPC_URL": "https://sol.example.org",
		"DEPOSITD_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "DEPOSITD_WEBHOOK_SECRET_NEXT": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"DEPOSITD_OPS_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"DEPOSITD_HUAWEI_AK":          "AKEXAMPLE0123456789",
		"DEPOSITD_HUAWEI_SK":          "sk-example-0123456789",
	} {
		t.Setenv(k, v)
	}
	tests := []struct {
		name, file string
		want       int
		stdout     string
		stderr     string
	}{
		{"annotated example", "../../deploy/depositd.example.yml", 0, "ok", ""},
		{"unknown key names key and line", "../../config/testdata/bad/unknown_key.yml", 1, "", "unknown key"},
		{"known-token decimals", "../../config/testdata/bad/decimals_known_mismatch.yml", 1, "", "chains[bsc].tokens[USDT].decimals"},
		{"missing file", "no-such-file.yml", 1, "", "no-such-file.yml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := run(t, "config", "validate", "-c", tt.file)
			if code != tt.want || !strings.Contains(out, tt.stdout) || !strings.Contains(errs, tt.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out, errs, tt.want, tt.stdout, tt.stderr)
			}
		})
	}
	if code, _, _ := run(t, "config", "validate"); code != 2 {
		t.Fatalf("config validate without -c: exit %d, want 2", code)
	}
}

func TestVerifyCatchesCorruption(t *testing.T) {
	srv := redistest.New(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	l := ledger.New(rdb, time.Now)
	if err := l.CreateAccount(ctx, ledger.Account{ID: "acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Credit(ctx, ledger.Deposit{ID: "ethereum:0xabc:1", Account: "acme", Chain: "ethereum", Token: "USDT",
		Contract: "0xdAC17F958D2ee523a2206206994597C13D831ec7", TxID: "0xabc", Index: 1, Block: 7, BlockHash: "0xb",
		To: "0x9e96e6f92d132a82ea8024682a633cc7d0f5c4c3", Raw: big.NewInt(500_000_000), Decimals: 6, Rate: decimal.NewFromInt(1)}); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := run(t, "verify", "--redis", srv.URL()); code != 0 || !strings.Contains(out, "every invariant holds") {
		t.Fatalf("clean ledger: exit %d %q %q", code, out, errs)
	}
	acct, err := l.Account(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(ctx, "*:acct:acme").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("account key: %v %v", keys, err)
	}
	if err := rdb.HSet(ctx, keys[0], "cash", int64(acct.Cash)+1).Err(); err != nil {
		t.Fatal(err)
	}
	code, out, _ := run(t, "verify", "--redis", srv.URL())
	if code != 1 || !strings.Contains(out, "BREACH") {
		t.Fatalf("corrupted balance: exit %d, %q", code, out)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"bogus"}, {"run"}, {"verify"}, {"verify", "--redis", "x", "-c", "y"}} {
		if code, _, _ := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("chains: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := run(t, "run", "-c", bad); code != 1 || !strings.Contains(errs, "bad.yml") {
		t.Errorf("run with a broken config: exit %d %q", code, errs)
	}
}
