package ctl

import (
	"bytes"
	"context"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/depositd/depositd/addressbook"
	"github.com/depositd/depositd/api"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/settlement"
	"github.com/depositd/depositd/settlement/ledger"
	"github.com/depositd/depositd/watchers"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const (
	token  = "ctl-test-token-0123456789"
	token2 = "ctl-second-token-0123456789"
)

func server(t *testing.T) string {
	t.Helper()
	rdb := redistest.New(t).Client(t)
	book, err := addressbook.New(rdb, addressbook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := ledger.New(rdb, time.Now)
	svc := settlement.New(l, rdb, settlement.Config{OffchainApprovalAbove: money.Units(100_00000000)}, time.Now)
	s := api.New(api.Options{
		Tokens: []api.Token{
			{Name: "t", Secret: token, Scopes: []api.Scope{api.ScopeRead, api.ScopeWrite}},
			{Name: "second", Secret: token2, Scopes: []api.Scope{api.ScopeRead, api.ScopeWrite}},
		},
		Ledger: l, Addresses: book, Deposits: watchers.NewDeposits(rdb),
		Settlement: svc, Credits: svc,
	})
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

// volatile masks what changes between runs (times, versions).
var volatile = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)

func TestGolden(t *testing.T) {
	url := server(t)
	env := func(k string) string {
		return map[string]string{"DEPOSITCTL_URL": url, "DEPOSITCTL_TOKEN": token}[k]
	}
	stmt := filepath.Join(t.TempDir(), "lines.csv")
	if err := os.WriteFile(stmt, []byte("service,resource_id,project,official_amount\nECS,ecs-1,web,12.5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		args []string
		code int
	}{
		{"accounts_create", []string{"accounts", "create", "acme", "--name", "Acme Ltd", "--credit_limit", "100"}, 0},
		{"accounts_get_json", []string{"accounts", "get", "acme", "--json"}, 0},
		{"addresses_register", []string{"addresses", "register", "acme", "evm", "0x9e96e6f92d132a82ea8024682a633cc7d0f5c4c3"}, 0},
		{"addresses_register_duplicate", []string{"addresses", "register", "acme", "evm", "0x9e96e6f92d132a82ea8024682a633cc7d0f5c4c3"}, 1},
		{"addresses_lookup", []string{"addresses", "lookup", "evm", "0x9E96E6F92D132A82EA8024682A633CC7D0F5C4C3"}, 0},
		{"statements_import_csv", []string{"statements", "import", "--file", stmt, "--id", "st-1", "--account", "acme", "--month", "2026-10"}, 0},
		{"statements_list", []string{"statements", "list", "--account", "acme"}, 0},
		{"credits_record", []string{"credits", "record", "btc-1", "acme", "50", "--proof_ref", "binance-7781", "--asset", "BTC", "--asset_amount", "0.0005"}, 0},
		{"credits_record_pending", []string{"credits", "record", "btc-2", "acme", "2500", "--proof_ref", "binance-7790"}, 0},
		{"credits_approve_own", []string{"credits", "approve", "btc-2"}, 1},
		{"credits_approve", []string{"credits", "approve", "btc-2", "--token", token2}, 0},
		{"credits_list", []string{"credits", "list", "--account", "acme"}, 0},
		{"accounts_list", []string{"accounts", "list"}, 0},
		{"deposits_list_empty", []string{"deposits", "list", "--chain", "ethereum"}, 0},
		{"bad_limit", []string{"deposits", "list", "--limit", "0"}, 1},
		{"missing_argument", []string{"accounts", "get"}, 2},
		{"unknown_command", []string{"frobnicate"}, 2},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(context.Background(), st.args, env, strings.NewReader(""), &out, &errb)
			if code != st.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, st.code, errb.String())
			}
			got := volatile.ReplaceAllString(out.String()+"--- stderr\n"+errb.String(), "<time>")
			golden := filepath.Join("testdata", st.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Fatalf("output differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	var out, errb bytes.Buffer
	env := func(string) string { return "" }
	code := Main(context.Background(), []string{"accounts", "list", "--url", "http://127.0.0.1:1"}, env, nil, &out, &errb)
	if code != exitUnreachable || !strings.Contains(errb.String(), "cannot reach depositd") {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}
