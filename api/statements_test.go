package api

import (
	"context"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/settlement/ledger"
)

// newFullFixture serves every route over one real redis-server and returns
// the ledger so tests can credit deposits as the watchers would.
func newFullFixture(t *testing.T) (*fixture, *ledger.Ledger) {
	t.Helper()
	opts, l, _ := fullOptions(t)
	hs := httptest.NewServer(New(opts).Handler())
	t.Cleanup(hs.Close)
	return &fixture{srv: hs}, l
}

func credit(t *testing.T, l *ledger.Ledger, account, tx string, usdt int64) {
	t.Helper()
	_, err := l.Credit(context.Background(), ledger.Deposit{
		ID: "ethereum:" + tx + ":3", Account: ledger.AccountID(account), Chain: "ethereum", Token: "USDT",
		Contract: "0xdAC17F958D2ee523a2206206994597C13D831ec7", TxID: tx, Index: 3, Block: 100, BlockHash: "0xbb",
		To: "0x9E96e6F92D132a82eA8024682a633cc7D0f5C4C3", Raw: big.NewInt(usdt * 1_000_000), Decimals: 6, Rate: decimal.NewFromInt(1),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStatementsSettleAndReconcile(t *testing.T) {
	f, l := newFullFixture(t)
	f.call(t, "POST", "/v1/accounts", writeTok, `{"id":"acme","credit_limit":"100"}`)
	tx := "0x80cbf946a1b0c4f5d0e6c2e6b1e6b5e0a0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5"
	credit(t, l, "acme", tx, 300)

	got, coupon := f.call(t, "POST", "/v1/coupons", writeTok, `{"id":"c1","account":"acme","amount":"50","expires":"2099-01-01T00:00:00Z"}`)
	if got != 201 || coupon["balance"] != "50.00000000" {
		t.Fatalf("coupon: %d %v", got, coupon)
	}
	got, disc := f.call(t, "POST", "/v1/discounts", writeTok, `{"id":"d1","account":"acme","kind":"commercial","rate":"0.2","services":["ECS"]}`)
	if got != 201 {
		t.Fatalf("discount: %d %v", got, disc)
	}
	month := time.Now().AddDate(0, -1, 0).Format("2006-01")
	body := `{"id":"st1","account":"acme","month":"` + month + `","lines":[
		{"service":"ECS","resource_id":"ecs-1","project":"web","official_amount":"250"},
		{"service":"Marketplace","resource_id":"img-1","official_amount":"40","third_party":true}]}`
	got, st := f.call(t, "POST", "/v1/statements", writeTok, body)
	// ECS 250 at 20% off = 200: 50 from the coupon, 150 from cash.
	if got != 201 || st["status"] != "paid" || st["coupons"] != "50.00000000" || st["cash"] != "150.00000000" {
		t.Fatalf("issue: %d %v", got, st)
	}
	if got, _ := f.call(t, "POST", "/v1/statements", writeTok, strings.Replace(body, `"250"`, `"251"`, 1)); got != 409 {
		t.Fatalf("same id, other content: %d, want 409", got)
	}
	_, list := f.call(t, "GET", "/v1/statements?status=paid", writeTok, "")
	if items := list["items"].([]any); len(items) != 1 {
		t.Fatalf("paid statements: %v", list)
	}
	_, acct := f.call(t, "GET", "/v1/accounts/acme", writeTok, "")
	if acct["cash"] != "150.00000000" {
		t.Fatalf("cash after payment: %v", acct)
	}

	req, _ := http.NewRequest("GET", f.srv.URL+"/v1/reconciliation?format=csv&account=acme&month="+time.Now().Format("2006-01"), nil)
	req.Header.Set("Authorization", "Bearer "+writeTok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(csv), tx) || !strings.Contains(string(csv), "st1") {
		t.Fatalf("reconciliation CSV (%d) lacks the deposit tx or the payment:\n%s", resp.StatusCode, csv)
	}
	_, rec := f.call(t, "GET", "/v1/reconciliation?account=acme&month="+time.Now().Format("2006-01"), writeTok, "")
	if rec == nil {
		t.Fatal("reconciliation JSON empty")
	}
}

func TestStatementBadInput(t *testing.T) {
	f, _ := newFullFixture(t)
	f.call(t, "POST", "/v1/accounts", writeTok, `{"id":"acme"}`)
	tests := []struct {
		name, method, path, body string
		want                     int
	}{
		{"malformed JSON", "POST", "/v1/statements", `{"id":`, 400},
		{"negative amount", "POST", "/v1/statements", `{"id":"s","account":"acme","month":"2026-10","lines":[{"service":"ECS","resource_id":"r","official_amount":"-1"}]}`, 400},
		{"unknown account", "POST", "/v1/statements", `{"id":"s","account":"ghost","month":"2026-10","lines":[{"service":"ECS","resource_id":"r","official_amount":"1"}]}`, 404},
		{"bad status", "GET", "/v1/statements?status=late", "", 400},
		{"unknown statement", "GET", "/v1/statements/nope", "", 404},
		{"coupon without amount", "POST", "/v1/coupons", `{"id":"c","account":"acme"}`, 400},
		{"discount rate over 1", "POST", "/v1/discounts", `{"id":"d","account":"acme","kind":"partner","rate":"1.5"}`, 400},
		{"bad credit limit", "PUT", "/v1/accounts/acme/credit-limit", `{"credit_limit":"-5"}`, 400},
		{"reconcile without month", "GET", "/v1/reconciliation", "", 400},
		{"reconcile bad month", "GET", "/v1/reconciliation?month=2026-13", "", 400},
		{"deliveries bad status", "GET", "/v1/webhooks/deliveries?status=lost", "", 400},
		{"unknown delivery", "POST", "/v1/webhooks/deliveries/nope/redeliver", "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, body := f.call(t, tt.method, tt.path, writeTok, tt.body)
			if got != tt.want || errMessage(body) == "" {
				t.Fatalf("status %d %v, want %d with a message", got, body, tt.want)
			}
		})
	}
}

func TestStatementCSVImport(t *testing.T) {
	f, _ := newFullFixture(t)
	f.call(t, "POST", "/v1/accounts", writeTok, `{"id":"acme"}`)
	csv := "service,resource_id,project,official_amount,third_party\nECS,ecs-1,web,12.5,no\nOBS,obs-1,data,7.25,no\n"
	req, _ := http.NewRequest("POST", f.srv.URL+"/v1/statements?id=csv1&account=acme&month=2026-10", strings.NewReader(csv))
	req.Header.Set("Authorization", "Bearer "+writeTok)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || !strings.Contains(string(data), `"amount":"19.75000000"`) || !strings.Contains(string(data), `"status":"pending"`) {
		t.Fatalf("csv import: %d %s", resp.StatusCode, data)
	}
}
