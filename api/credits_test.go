package api

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestOffchainCreditOverHTTP: the operator is the token's name; the same
// token cannot approve its own credit, another write token can; the
// applied credit pays the open statement and the reconciliation export
// lists it with its proof reference and both operators.
func TestOffchainCreditOverHTTP(t *testing.T) {
	f, _ := newFullFixture(t)
	f.call(t, "POST", "/v1/accounts", writeTok, `{"id":"acme"}`)
	month := time.Now().AddDate(0, -1, 0).Format("2006-01")
	if got, st := f.call(t, "POST", "/v1/statements", writeTok, `{"id":"st1","account":"acme","month":"`+month+`","lines":[{"service":"ECS","resource_id":"ecs-1","official_amount":"300"}]}`); got != 201 || st["status"] != "pending" {
		t.Fatalf("statement: %d %v", got, st)
	}
	body := `{"id":"btc-77","account":"acme","amount":"500","asset":"BTC","asset_amount":"0.005","method":"exchange_transfer","proof_ref":"okx-internal-991"}`
	got, c := f.call(t, "POST", "/v1/credits", writeTok, body)
	if got != 201 || c["status"] != "pending_approval" || c["entered_by"] != "billing" || c["needs_approval"] != true {
		t.Fatalf("record: %d %v", got, c)
	}
	if got, e := f.call(t, "POST", "/v1/credits/btc-77/approve", writeTok, ""); got != 403 {
		t.Fatalf("self-approval: %d %v, want 403", got, e)
	}
	if got, _ := f.call(t, "POST", "/v1/credits/btc-77/approve", readTok, ""); got != 403 {
		t.Fatalf("approval with a read token: %d, want 403", got)
	}
	got, c = f.call(t, "POST", "/v1/credits/btc-77/approve", secondTok, "")
	if got != 200 || c["status"] != "applied" || c["approved_by"] != "treasury" || c["entry_id"] == "" {
		t.Fatalf("approve: %d %v", got, c)
	}
	if _, st := f.call(t, "GET", "/v1/statements/st1", readTok, ""); st["status"] != "paid" {
		t.Fatalf("statement after the credit: %v", st)
	}
	if _, a := f.call(t, "GET", "/v1/accounts/acme", readTok, ""); a["cash"] != "200.00000000" {
		t.Fatalf("cash: %v", a)
	}
	if got, _ := f.call(t, "POST", "/v1/credits", writeTok, body); got != 200 {
		t.Fatalf("duplicate record: %d, want 200", got)
	}
	if _, a := f.call(t, "GET", "/v1/accounts/acme", readTok, ""); a["cash"] != "200.00000000" {
		t.Fatalf("cash after the duplicate: %v", a)
	}

	req, _ := http.NewRequest("GET", f.srv.URL+"/v1/reconciliation?format=csv&account=acme&month="+time.Now().Format("2006-01"), nil)
	req.Header.Set("Authorization", "Bearer "+readTok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csv, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(csv), ",500.00000000,,"+c["entry_id"].(string)+",offchain,okx-internal-991,billing,treasury,") {
		t.Fatalf("reconciliation CSV lacks the off-chain row with its proof ref and operators:\n%s", csv)
	}
}
