package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/watchers"
)

func init() {
	// The ops page and its files are checked for status and content type;
	// their bodies are opaque text.
	for _, ct := range []string{"text/html", "text/javascript", "text/css"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
}

func loadOpenAPI(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapiDoc)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

// documentedRoutes returns "METHOD /path" of every operation in doc.
func documentedRoutes(doc *openapi3.T) []string {
	var out []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, method+" "+path)
		}
	}
	slices.Sort(out)
	return out
}

// registeredRoutes returns the ServeMux patterns of api/server.go and this
// package's ops routes, in the document's spelling: "GET /{$}" is "GET /",
// the static tree "GET /web/" is "GET /web/{file}", and the /v1/ 404
// fallback is left out.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	pattern := regexp.MustCompile(`\.Handle(?:Func)?\("([A-Z]+ [^"]+)"`)
	var out []string
	for _, file := range []string{"server.go", "ops.go"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range pattern.FindAllSubmatch(src, -1) {
			r := string(m[1])
			switch r {
			case "GET /{$}":
				r = "GET /"
			case "GET /web/":
				r = "GET /web/{file}"
			}
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	slices.Sort(out)
	if len(out) < 30 {
		t.Fatalf("found only %d routes in server.go and ops.go: %v", len(out), out)
	}
	return out
}

// TestOpenAPIRoutes: the document and the server have the same routes,
// and every documented operation reaches a handler of a fully configured
// server (not the /v1/ fallback).
func TestOpenAPIRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	documented := documentedRoutes(doc)
	registered := registeredRoutes(t)
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is served but not in openapi.json", r)
		}
	}
	for _, r := range documented {
		if !slices.Contains(registered, r) {
			t.Errorf("route %s is in openapi.json but not registered in server.go or ops.go", r)
		}
	}

	c := newConformance(t)
	for _, r := range documented {
		t.Run(r, func(t *testing.T) {
			method, path, _ := strings.Cut(r, " ")
			path = regexp.MustCompile(`\{[a-z]+\}`).ReplaceAllString(path, "x")
			_, pattern := c.srv.mux.Handler(httptest.NewRequest(method, path, nil))
			if pattern == "" || pattern == "/v1/" {
				t.Fatalf("%s %s reaches pattern %q, not a handler of its own", method, path, pattern)
			}
		})
	}
}

// conformance is a fully configured server over a real redis-server and the
// document's router.
type conformance struct {
	srv    *Server
	hs     *httptest.Server
	router routers.Router
	rdb    redis.UniversalClient
}

// redisChains is api.Chains over the watcher state in Redis, as the daemon
// has it, without endpoint health.
type redisChains struct {
	rdb   redis.UniversalClient
	names []string
}

func (c redisChains) Statuses(ctx context.Context) ([]ChainStatus, error) {
	var out []ChainStatus
	for _, n := range c.names {
		st, err := watchers.LoadStatus(ctx, c.rdb, n)
		if err != nil {
			return nil, err
		}
		out = append(out, ChainStatus{ChainStatus: st})
	}
	return out, nil
}

func (c redisChains) known(name string) error {
	if !slices.Contains(c.names, name) {
		return ErrUnknownChain
	}
	return nil
}

func (c redisChains) Pause(ctx context.Context, name, reason string) error {
	if err := c.known(name); err != nil {
		return err
	}
	return watchers.Pause(ctx, c.rdb, name, reason)
}

func (c redisChains) Resume(ctx context.Context, name string) error {
	if err := c.known(name); err != nil {
		return err
	}
	return watchers.Resume(ctx, c.rdb, name)
}

func newConformance(t *testing.T) *conformance {
	t.Helper()
	doc := loadOpenAPI(t)
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	opts, _, rdb := fullOptions(t)
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "depositd_test_total", Help: "test"}))
	opts.Gatherer = reg
	opts.Chains = redisChains{rdb: rdb, names: []string{"ethereum"}}
	s := New(opts)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return &conformance{srv: s, hs: hs, router: router, rdb: rdb}
}

// check sends one request, validates it and the answer against the document
// and returns the status.
func (c *conformance) check(t *testing.T, method, target, token, contentType, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, c.hs.URL+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", contentType)
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: not in the document: %v", method, target, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		t.Fatalf("%s %s: request does not match the document: %v", method, target, err)
	}
	req.Body, req.ContentLength = http.NoBody, 0
	if body != "" {
		req.Body, req.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(data)), Options: in.Options,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Fatalf("%s %s: answer %d does not match the document: %v\n%s", method, target, resp.StatusCode, err, data)
	}
	return resp.StatusCode
}

// TestOpenAPIResponses drives the main routes of a real server through a
// realistic sequence and validates every request and answer, errors
// included, against the document.
func TestOpenAPIResponses(t *testing.T) {
	c := newConformance(t)
	month := time.Now().AddDate(0, -1, 0).Format("2006-01")
	const js = "application/json"
	tests := []struct {
		name, method, target, token, contentType, body string
		want                                           int
	}{
		{"healthz", "GET", "/healthz", "", "", "", 200},
		{"readyz", "GET", "/readyz", "", "", "", 200},
		{"metrics", "GET", "/metrics", "", "", "", 200},
		{"ops page", "GET", "/", "", "", "", 200},
		{"ops script", "GET", "/web/app.js", "", "", "", 200},
		{"openapi", "GET", "/v1/openapi.json", "", "", "", 200},
		{"no token", "GET", "/v1/accounts", "", "", "", 401},
		{"read token writes", "POST", "/v1/accounts", readTok, js, `{"id":"acme"}`, 403},
		{"create account", "POST", "/v1/accounts", writeTok, js, `{"id":"acme","name":"Acme","credit_limit":"100"}`, 201},
		{"create member", "POST", "/v1/accounts", writeTok, js, `{"id":"acme-dev","name":"Dev","master":"acme"}`, 201},
		{"duplicate account", "POST", "/v1/accounts", writeTok, js, `{"id":"acme"}`, 409},
		{"list accounts", "GET", "/v1/accounts", readTok, "", "", 200},
		{"get account", "GET", "/v1/accounts/acme", readTok, "", "", 200},
		{"missing account", "GET", "/v1/accounts/nobody", readTok, "", "", 404},
		{"credit limit", "PUT", "/v1/accounts/acme/credit-limit", writeTok, js, `{"credit_limit":"150"}`, 200},
		{"alert thresholds", "PUT", "/v1/accounts/acme/alert-thresholds", writeTok, js, `{"thresholds":["100","10"]}`, 200},
		{"register address", "POST", "/v1/addresses", writeTok, js, `{"account":"acme","family":"evm","address":"0x9e96e6f92d132a82ea8024682a633cc7d0f5c4c3"}`, 201},
		{"bad address", "POST", "/v1/addresses", writeTok, js, `{"account":"acme","family":"evm","address":"0x12"}`, 400},
		{"bulk addresses", "POST", "/v1/addresses/bulk", writeTok, js, `{"items":[{"account":"acme","family":"tron","address":"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"},{"account":"acme","family":"solana","address":"0OIl"}]}`, 200},
		{"derive without xpub", "POST", "/v1/addresses/derive", writeTok, js, `{"account":"acme","family":"evm"}`, 400},
		{"look up address", "GET", "/v1/addresses/evm/0x9e96e6f92d132a82ea8024682a633cc7d0f5c4c3", readTok, "", "", 200},
		{"deposits", "GET", "/v1/deposits?status=credited&limit=10", readTok, "", "", 200},
		{"bad deposit cursor", "GET", "/v1/deposits?cursor=zz", readTok, "", "", 400},
		{"missing deposit", "GET", "/v1/deposits/ethereum:0x1:0", readTok, "", "", 404},
		{"chains", "GET", "/v1/chains", readTok, "", "", 200},
		{"pause", "POST", "/v1/chains/ethereum/pause", writeTok, js, `{"reason":"maintenance"}`, 200},
		{"resume", "POST", "/v1/chains/ethereum/resume", writeTok, "", "", 200},
		{"pause unknown chain", "POST", "/v1/chains/nochain/pause", writeTok, "", "", 404},
		{"coupon", "POST", "/v1/coupons", writeTok, js, `{"id":"c1","account":"acme","amount":"20","expires":"2099-01-01T00:00:00Z"}`, 201},
		{"coupons", "GET", "/v1/accounts/acme/coupons", readTok, "", "", 200},
		{"discount", "POST", "/v1/discounts", writeTok, js, `{"id":"d1","account":"acme","kind":"commercial","rate":"0.1","services":["ECS"]}`, 201},
		{"discounts", "GET", "/v1/accounts/acme/discounts", readTok, "", "", 200},
		{"statement", "POST", "/v1/statements", writeTok, js, `{"id":"st1","account":"acme","month":"` + month + `","lines":[{"service":"ECS","resource_id":"ecs-1","project":"web","official_amount":"250"},{"service":"OBS","resource_id":"obs-1","official_amount":"3.5"}]}`, 201},
		{"statement from CSV", "POST", "/v1/statements?id=st2&account=acme-dev&month=" + month, writeTok, "text/csv", "service,resource_id,official_amount\nECS,ecs-9,12.25\n", 201},
		{"bad statement month", "POST", "/v1/statements", writeTok, js, `{"id":"st9","account":"acme","month":"2026-13","lines":[{"service":"ECS","resource_id":"r","official_amount":"1"}]}`, 400},
		{"statements", "GET", "/v1/statements?status=partially_paid", readTok, "", "", 200},
		{"statement", "GET", "/v1/statements/st1", readTok, "", "", 200},
		{"settle", "POST", "/v1/accounts/acme/settle", writeTok, "", "", 200},
		{"entries", "GET", "/v1/accounts/acme/entries?limit=5", readTok, "", "", 200},
		{"reconciliation", "GET", "/v1/reconciliation?month=" + time.Now().Format("2006-01") + "&account=acme", readTok, "", "", 200},
		{"reconciliation CSV", "GET", "/v1/reconciliation?format=csv&month=" + time.Now().Format("2006-01"), readTok, "", "", 200},
		{"small off-chain credit", "POST", "/v1/credits", writeTok, js, `{"id":"btc-1","account":"acme","amount":"` + creditThreshold + `","asset":"BTC","asset_amount":"0.001","method":"exchange_transfer","proof_ref":"binance-tx-1"}`, 201},
		{"same credit again", "POST", "/v1/credits", writeTok, js, `{"id":"btc-1","account":"acme","amount":"` + creditThreshold + `","asset":"BTC","asset_amount":"0.001","method":"exchange_transfer","proof_ref":"binance-tx-1"}`, 200},
		{"credit id reused", "POST", "/v1/credits", writeTok, js, `{"id":"btc-1","account":"acme","amount":"1","proof_ref":"binance-tx-1"}`, 409},
		{"credit without proof", "POST", "/v1/credits", writeTok, js, `{"id":"btc-x","account":"acme","amount":"1","proof_ref":""}`, 400},
		{"credit read token", "POST", "/v1/credits", readTok, js, `{"id":"btc-x","account":"acme","amount":"1","proof_ref":"p"}`, 403},
		{"large off-chain credit", "POST", "/v1/credits", writeTok, js, `{"id":"btc-2","account":"acme","amount":"5000","proof_ref":"binance-tx-2"}`, 201},
		{"approve own credit", "POST", "/v1/credits/btc-2/approve", writeTok, "", "", 403},
		{"approve credit", "POST", "/v1/credits/btc-2/approve", secondTok, "", "", 200},
		{"reject applied credit", "POST", "/v1/credits/btc-2/reject", secondTok, js, `{"reason":"late"}`, 409},
		{"credit to reject", "POST", "/v1/credits", writeTok, js, `{"id":"btc-3","account":"acme","amount":"200","proof_ref":"binance-tx-3"}`, 201},
		{"reject credit", "POST", "/v1/credits/btc-3/reject", writeTok, js, `{"reason":"not received"}`, 200},
		{"approve rejected credit", "POST", "/v1/credits/btc-3/approve", secondTok, "", "", 409},
		{"credits", "GET", "/v1/credits?account=acme", readTok, "", "", 200},
		{"pending credits", "GET", "/v1/credits?status=pending_approval", readTok, "", "", 200},
		{"credit", "GET", "/v1/credits/btc-2", readTok, "", "", 200},
		{"missing credit", "GET", "/v1/credits/nope", readTok, "", "", 404},
		{"deliveries", "GET", "/v1/webhooks/deliveries?status=failed", readTok, "", "", 200},
		{"missing delivery", "GET", "/v1/webhooks/deliveries/nope", readTok, "", "", 404},
		{"redeliver missing", "POST", "/v1/webhooks/deliveries/nope/redeliver", writeTok, "", "", 404},
		{"redeliver unknown endpoint", "POST", "/v1/webhooks/endpoints/nope/redeliver", writeTok, "", "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.check(t, tt.method, tt.target, tt.token, tt.contentType, tt.body); got != tt.want {
				t.Fatalf("status %d, want %d", got, tt.want)
			}
		})
	}
}
