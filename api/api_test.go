package api

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

type fixture struct {
	srv *httptest.Server
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	opts, _, _ := fullOptions(t)
	hs := httptest.NewServer(New(opts).Handler())
	t.Cleanup(hs.Close)
	return &fixture{srv: hs}
}

// call sends a request and decodes the JSON answer into a map.
func (f *fixture) call(t testing.TB, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %q", method, path, data)
	}
	return resp.StatusCode, out
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func errMessage(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

func TestAuth(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name, method, path, token, body string
		want                            int
		code                            string
	}{
		{"no token", "GET", "/v1/accounts", "", "", 401, "unauthorized"},
		{"unknown token", "GET", "/v1/accounts", "nope", "", 401, "unauthorized"},
		{"read token on a write route", "POST", "/v1/accounts", readTok, `{"id":"a1"}`, 403, "forbidden"},
		{"read token on a read route", "GET", "/v1/accounts", readTok, "", 200, ""},
		{"write token on a write route", "POST", "/v1/accounts", writeTok, `{"id":"a1","name":"Acme"}`, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, body := f.call(t, tt.method, tt.path, tt.token, tt.body)
			if got != tt.want || errCode(body) != tt.code {
				t.Fatalf("status %d code %q, want %d %q (%v)", got, errCode(body), tt.want, tt.code, body)
			}
		})
	}
}

func TestHealth(t *testing.T) {
	f := newFixture(t)
	if got, _ := f.call(t, "GET", "/healthz", "", ""); got != 200 {
		t.Fatalf("/healthz = %d", got)
	}
	if got, _ := f.call(t, "GET", "/readyz", "", ""); got != 200 {
		t.Fatalf("/readyz = %d", got)
	}
}

func TestBadInputIs4xx(t *testing.T) {
	f := newFixture(t)
	f.call(t, "POST", "/v1/accounts", writeTok, `{"id":"acme"}`)
	tests := []struct {
		name, method, path, body string
		want                     int
		msg                      string
	}{
		{"malformed JSON", "POST", "/v1/accounts", `{"id":`, 400, "JSON"},
		{"empty body", "POST", "/v1/accounts", ``, 400, "empty"},
		{"unknown field", "POST", "/v1/accounts", `{"id":"x","bogus":1}`, 400, "bogus"},
		{"wrong type", "POST", "/v1/accounts", `{"id":5}`, 400, "id"},
		{"trailing data", "POST", "/v1/accounts", `{"id":"x"} {}`, 400, "after"},
		{"bad account id", "POST", "/v1/accounts", `{"id":"a b"}`, 400, "id"},
		{"bad credit limit", "POST", "/v1/accounts", `{"id":"x","credit_limit":"1.000000001"}`, 400, "credit_limit"},
		{"duplicate account", "POST", "/v1/accounts", `{"id":"acme"}`, 409, "exists"},
		{"unknown account", "GET", "/v1/accounts/nobody", "", 404, "not found"},
		{"bad family", "POST", "/v1/addresses", `{"account":"acme","family":"btc","address":"x"}`, 400, "family"},
		{"bad evm address", "POST", "/v1/addresses", `{"account":"acme","family":"evm","address":"0x123"}`, 400, "evm"},
		{"address for unknown account", "POST", "/v1/addresses", `{"account":"ghost","family":"evm","address":"0x9e96e6f92d132a82ea8024682a633cc7d0f5c4c3"}`, 404, "ghost"},
		{"bad limit", "GET", "/v1/deposits?limit=-1", "", 400, "limit"},
		{"bad status filter", "GET", "/v1/deposits?status=lost", "", 400, "status"},
		{"bad cursor", "GET", "/v1/deposits?cursor=not-a-cursor", "", 400, "cursor"},
		{"unknown route", "GET", "/v1/nothing", "", 404, "no route"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, body := f.call(t, tt.method, tt.path, writeTok, tt.body)
			if got != tt.want || !strings.Contains(strings.ToLower(errMessage(body)), strings.ToLower(tt.msg)) {
				t.Fatalf("status %d message %q, want %d containing %q", got, errMessage(body), tt.want, tt.msg)
			}
		})
	}
}

func TestAccountsAndAddresses(t *testing.T) {
	f := newFixture(t)
	if got, body := f.call(t, "POST", "/v1/accounts", writeTok, `{"id":"acme","name":"Acme","credit_limit":"250.5"}`); got != 201 {
		t.Fatalf("create: %d %v", got, body)
	}
	_, acct := f.call(t, "GET", "/v1/accounts/acme", readTok, "")
	if acct["cash"] != "0.00000000" || acct["credit_limit"] != "250.50000000" || acct["credit_used"] != "0.00000000" {
		t.Fatalf("account balances: %v", acct)
	}
	lower := "0x9e96e6f92d132a82ea8024682a633cc7d0f5c4c3"
	got, reg := f.call(t, "POST", "/v1/addresses", writeTok, `{"account":"acme","family":"evm","address":"`+lower+`"}`)
	if got != 201 || reg["address"] != common.HexToAddress(lower).Hex() {
		t.Fatalf("register: %d %v (want EIP-55 normal form)", got, reg)
	}
	got, dup := f.call(t, "POST", "/v1/addresses", writeTok, `{"account":"acme","family":"evm","address":"`+lower+`"}`)
	if got != 409 || !strings.Contains(errMessage(dup), "acme") {
		t.Fatalf("duplicate: %d %v", got, dup)
	}
	got, owner := f.call(t, "GET", "/v1/addresses/evm/"+lower, readTok, "")
	if got != 200 || owner["account"] != "acme" {
		t.Fatalf("lookup: %d %v", got, owner)
	}
	f.call(t, "POST", "/v1/accounts", writeTok, `{"id":"beta"}`)
	bulk := `{"items":[
		{"account":"beta","family":"tron","address":"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"},
		{"account":"beta","family":"solana","address":"not-base58-0OIl"},
		{"account":"nobody","family":"evm","address":"0x1a3429c219a324d82406e5bf867efa77ff58c94f"}]}`
	got, res := f.call(t, "POST", "/v1/addresses/bulk", writeTok, bulk)
	if got != 200 || res["registered"] != float64(1) || res["rejected"] != float64(2) {
		t.Fatalf("bulk: %d %v", got, res)
	}
	items := res["items"].([]any)
	if e := items[0].(map[string]any)["error"]; e != nil {
		t.Fatalf("bulk item 0 rejected: %v", e)
	}
	for _, i := range []int{1, 2} {
		if e, _ := items[i].(map[string]any)["error"].(string); e == "" {
			t.Fatalf("bulk item %d accepted: %v", i, items[i])
		}
	}
	got, _ = f.call(t, "POST", "/v1/addresses/derive", writeTok, `{"account":"acme","family":"evm"}`)
	if got != 400 {
		t.Fatalf("derive without xpub: %d, want 400", got)
	}
	got, list := f.call(t, "GET", "/v1/deposits?chain=ethereum", readTok, "")
	if got != 200 || list["next"] != nil || len(list["items"].([]any)) != 0 {
		t.Fatalf("deposits: %d %v", got, list)
	}
	got, entries := f.call(t, "GET", "/v1/accounts/acme/entries", readTok, "")
	if got != 200 {
		t.Fatalf("entries: %d %v", got, entries)
	}
}

// FuzzCreateAccount feeds arbitrary bodies to a write route: the answer is
// always a JSON object and never a 5xx.
func FuzzCreateAccount(f *testing.F) {
	for _, s := range []string{`{"id":"a"}`, `{"id":`, `[]`, `{"id":"a","credit_limit":"-1"}`, "\x00", `{"master":"zz","id":"q"}`} {
		f.Add(s)
	}
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, body string) {
		got, _ := fx.call(t, "POST", "/v1/accounts", writeTok, body)
		if got >= 500 {
			t.Fatalf("body %q: status %d", body, got)
		}
	})
}
