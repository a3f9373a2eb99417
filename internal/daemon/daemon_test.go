package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/depositd/depositd/config"
	"github.com/depositd/depositd/internal/devnet/evmnet"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/settlement"
)

const testToken = "daemon-test-token-0123456789"

type chainUnderTest struct {
	net  *evmnet.Chain
	usdt common.Address
}

func newChain(t *testing.T, decimals uint8) *chainUnderTest {
	t.Helper()
	c, err := evmnet.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	usdt, err := c.DeployToken("USDT", decimals)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Mint(usdt, c.Accounts()[0].Address, new(big.Int).Exp(big.NewInt(10), big.NewInt(30), nil)); err != nil {
		t.Fatal(err)
	}
	if err := c.CommitBlocks(33); err != nil {
		t.Fatal(err)
	}
	return &chainUnderTest{net: c, usdt: usdt}
}

// testConfig is a dev config over redisURL and chain c; extra YAML
// sections are appended.
func testConfig(t *testing.T, redisURL string, c *chainUnderTest, decimals int, extra ...string) *config.Config {
	t.Helper()
	yml := fmt.Sprintf(`mode: dev
listen: 127.0.0.1:18999
redis:
  url: %s
api:
  tokens:
    - name: t
      scopes: [read, write]
      token: %s
chains:
  - name: ethereum
    kind: evm
    chain_id: 1337
    endpoints:
      - url: %s
    poll_interval: 100ms
    finality:
      policy: finalized
      confirmations: 1
    tokens:
      - symbol: USDT
        address: "%s"
        decimals: %d
        min_amount: "1"
`, redisURL, testToken, c.net.URL(), c.usdt.Hex(), decimals) + strings.Join(extra, "\n")
	cfg, err := config.Parse([]byte(yml), "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestRefusesTokenDecimalsMismatch(t *testing.T) {
	srv := redistest.New(t)
	c := newChain(t, 6)
	err := Run(context.Background(), testConfig(t, srv.URL(), c, 18), Options{Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "chains[ethereum].tokens[USDT].decimals: chain says 6, config 18") {
		t.Fatalf("Run = %v, want a refusal naming the token and both decimals", err)
	}
}

// TestDepositSettlesStatement runs the whole daemon against a simulated
// chain: a deposit is credited at the finalized tag, pays the pending
// statement, and the reconciliation export shows its tx hash next to the
// statement payment.
func TestDepositSettlesStatement(t *testing.T) {
	srv := redistest.New(t)
	c := newChain(t, 6)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan *Daemon, 1)
	done := make(chan error, 1)
	cfg := testConfig(t, srv.URL(), c, 6)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		done <- Run(ctx, cfg, Options{Logger: slog.New(slog.DiscardHandler), Listener: ln, Started: func(d *Daemon) { started <- d }})
	}()
	var d *Daemon
	select {
	case d = <-started:
	case err := <-done:
		t.Fatalf("daemon stopped: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("daemon did not start")
	}
	base := "http://" + d.Addr
	call := func(method, path, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
		var out map[string]any
		if err := json.Unmarshal(data, &out); err != nil {
			return map[string]any{"raw": string(data)}
		}
		return out
	}
	call("POST", "/v1/accounts", `{"id":"acme"}`)
	to := common.HexToAddress("0x1a3429c219a324d82406e5bf867efa77ff58c94f")
	call("POST", "/v1/addresses", `{"account":"acme","family":"evm","address":"`+to.Hex()+`"}`)
	month := time.Now().In(settlement.DefaultLocation).AddDate(0, -1, 0).Format("2006-01")
	st := call("POST", "/v1/statements", `{"id":"st1","account":"acme","month":"`+month+`","lines":[{"service":"ECS","resource_id":"ecs-1","project":"web","official_amount":"120.5"}]}`)
	if st["status"] != "pending" {
		t.Fatalf("statement before the deposit: %v", st)
	}
	tx, err := c.net.Transfer(c.usdt, c.net.Accounts()[0], to, big.NewInt(200_000_000))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if err := c.net.CommitBlocks(1); err != nil {
			t.Fatal(err)
		}
		got := call("GET", "/v1/statements/st1", "")
		if got["status"] == "paid" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("statement not paid: %v; deposits %v", got, call("GET", "/v1/deposits", ""))
		}
		time.Sleep(20 * time.Millisecond)
	}
	deps := call("GET", "/v1/deposits?status=credited&chain=ethereum", "")
	items := deps["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["tx"] != tx.Hex() || items[0].(map[string]any)["amount"] != "200" {
		t.Fatalf("credited deposits: %v", deps)
	}
	if acct := call("GET", "/v1/accounts/acme", ""); acct["cash"] != "79.50000000" {
		t.Fatalf("cash after paying 120.5 from 200: %v", acct)
	}
	req, _ := http.NewRequest("GET", base+"/v1/reconciliation?format=csv&account=acme&month="+time.Now().In(settlement.DefaultLocation).Format("2006-01"), nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(csv), tx.Hex()) || !strings.Contains(string(csv), "st1") {
		t.Fatalf("reconciliation lacks the deposit tx %s or the st1 payment:\n%s", tx.Hex(), csv)
	}
	mresp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{
		`depositd_rpc_calls_total{chain="ethereum"`, `depositd_rpc_latency_seconds_bucket{chain="ethereum"`,
		`depositd_settlement_runs_total{result="ok"}`, `depositd_settlement_payments_total 1`,
		`depositd_deposits_credited_total{chain="ethereum",token="USDT"} 1`, `depositd_chain_head{chain="ethereum"}`,
		`# TYPE depositd_ledger_invariant_breaches gauge`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
