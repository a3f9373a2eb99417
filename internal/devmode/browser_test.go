package devmode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

const chromium = "/usr/bin/chromium"

// freeAddr returns a loopback address with a port free at the time of the
// call (devmode listens on a fixed address).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// startDev runs `depositd dev` on addr until the test ends and waits for
// /healthz.
func startDev(t *testing.T, addr, token string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Listen: addr, Token: token, Stdout: io.Discard, Logger: slog.New(slog.DiscardHandler)})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("devmode.Run: %v", err)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case err := <-done:
			t.Fatalf("devmode.Run ended before serving: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("depositd dev not healthy on %s after 60s: %v", addr, err)
		}
	}
}

func artifactsDir(t *testing.T) string {
	if d := os.Getenv("DEPOSITD_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// seenRows is JS returning the confirmations of every deposit row marked
// seen, by deposit id.
const seenRows = `Object.fromEntries([...document.querySelectorAll('#deposits tbody tr.seen[data-id]')]
	.map(r => [r.dataset.id, parseInt(r.querySelector('.conf .n').textContent, 10)]))`

// TestOpsPageInBrowser drives the ops page of a running `depositd dev` in
// headless Chromium: it asks for the token, shows deposit rows from the
// event stream, and a seen deposit's confirmations rise without a reload.
func TestOpsPageInBrowser(t *testing.T) {
	if _, err := os.Stat(chromium); errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s is not installed (apt-get install -y chromium); the ops page browser test needs it", chromium)
	}
	if testing.Short() {
		t.Skip("starts the whole dev environment and a browser")
	}
	addr, token := freeAddr(t), "browser-test-token-0123456789"
	startDev(t, addr, token)
	base := "http://" + addr

	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET / = %d: the ops routes are not registered (api/server.go routes() must call s.opsRoutes())", resp.StatusCode)
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1400, 1000),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()

	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Click(chromedp.ID("connect")),
		chromedp.WaitVisible(chromedp.ID("board")),
		chromedp.WaitNotVisible(chromedp.ID("login")),
	)
	if err != nil {
		t.Fatalf("log in on the ops page: %v", err)
	}
	stored, err := chromedp.Run(ctx, chromedp.Evaluate[string](`localStorage.getItem("depositd.token")`))
	if err != nil || stored != token {
		t.Fatalf("token in localStorage = %q (%v), want the one entered", stored, err)
	}

	// A deposit still confirming appears...
	poll := []chromedp.PollOption{chromedp.WithPollingTimeout(90 * time.Second), chromedp.WithPollingInterval(200 * time.Millisecond)}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll('#deposits tbody tr.seen[data-id]').length > 0`, poll...)); err != nil {
		t.Fatalf("no seen deposit row on the page: %v", err)
	}
	before, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]int](seenRows))
	if err != nil || len(before) == 0 {
		t.Fatalf("read seen deposit rows: %v %v", before, err)
	}
	t.Logf("seen deposits on the page: %v", before)

	// ...and one of them gains confirmations (or is credited) live.
	watch := fmt.Sprintf(`(() => { const b = %s; for (const r of document.querySelectorAll('#deposits tbody tr[data-id]')) {
		const n = parseInt(r.querySelector('.conf .n').textContent, 10);
		if (r.dataset.id in b && (n > b[r.dataset.id] || r.classList.contains('credited'))) return r.dataset.id + " " + r.querySelector('.conf .n').textContent;
	} return false; })()`, jsonOf(t, before))
	rose, err := chromedp.Run(ctx, chromedp.Poll[string](watch, poll...))
	if err != nil {
		t.Fatalf("no seen deposit gained confirmations on the page: %v", err)
	}
	t.Logf("confirmations rose: %s", rose)

	chains, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#chains tbody tr[data-chain]').length`))
	if err != nil || chains < 3 {
		t.Fatalf("%d chain rows on the page (%v), want the dev chains", chains, err)
	}
	img, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	name := "ops-page.png"
	if bytes.HasPrefix(img, []byte{0xff, 0xd8}) { // Chromium answered with a JPEG
		name = "ops-page.jpg"
	}
	shot := filepath.Join(artifactsDir(t), name)
	if err := os.WriteFile(shot, img, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(img))
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDevAPIMatchesOpenAPI validates answers of a running `depositd dev`,
// with live deposits, chains and statements, against the OpenAPI document it
// serves.
func TestDevAPIMatchesOpenAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole dev environment")
	}
	addr, token := freeAddr(t), "openapi-test-token-0123456789"
	startDev(t, addr, token)
	base := "http://" + addr

	resp, err := http.Get(base + "/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /v1/openapi.json: %d %v", resp.StatusCode, err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	get := func(t *testing.T, path string) []byte {
		t.Helper()
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		route, params, err := router.FindRoute(req)
		if err != nil {
			t.Fatalf("GET %s: not in the document: %v", path, err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}
		err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
			Status:                 resp.StatusCode, Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)), Options: opts,
		})
		if resp.StatusCode != 200 || err != nil {
			t.Fatalf("GET %s: %d, does not match the document: %v\n%s", path, resp.StatusCode, err, body)
		}
		return body
	}

	// Wait until the dev generator has produced deposits.
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(page.Items) == 0 {
		if err := json.Unmarshal(get(t, "/v1/deposits"), &page); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("no deposit within 60s")
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		}
	}
	for _, path := range []string{
		"/v1/deposits?limit=2", "/v1/deposits/" + url.PathEscape(page.Items[0].ID), "/v1/chains",
		"/v1/statements", "/v1/accounts", "/v1/webhooks/deliveries?limit=5",
	} {
		t.Run(path, func(t *testing.T) { get(t, path) })
	}
}
