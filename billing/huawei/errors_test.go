package huawei

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/depositd/depositd/settlement"
)

// TestImportErrors: an API refusal for one customer fails that customer
// with the API's code and imports the others; a non-USD bill and an
// unparseable month import nothing.
func TestImportErrors(t *testing.T) {
	e := newEnv(t)
	e.bills()
	e.api.Fail(custAcme, http.StatusForbidden)
	res, err := e.im.Import(e.ctx, "2026-09")
	if err == nil || !errors.Is(err, ErrAPI) || !strings.Contains(err.Error(), "HTTP 403 CBC.0151") || !strings.Contains(err.Error(), "account acme") {
		t.Fatalf("error %v, want the API's 403 for acme", err)
	}
	if res.Accounts["acme"] != resultFailed || res.Accounts["globex"] != resultIssued {
		t.Fatalf("result %+v", res)
	}
	if got := testutil.ToFloat64(e.metrics.requests.WithLabelValues("fee_records", "error")); got != 1 {
		t.Errorf("fee_records errors %v, want 1 (a 403 is not retried)", got)
	}
	e.api.Fail(custAcme, 0)
	e.api.SetCurrency("CNY")
	if _, err := e.im.Import(e.ctx, "2026-10"); err == nil || !strings.Contains(err.Error(), `currency "CNY"`) {
		t.Fatalf("CNY bill: %v", err)
	}
	if _, err := e.im.Import(e.ctx, "2026-13"); err == nil {
		t.Fatal("month 2026-13 accepted")
	}
	e.api.SetCurrency("USD")
	e.api.Fail(custGlobex, http.StatusBadGateway)
	if _, err := e.im.Import(e.ctx, "2026-10"); err == nil || !strings.Contains(err.Error(), "6 attempts") {
		t.Fatalf("502s: %v, want the error after 6 attempts", err)
	}
	if _, err := e.svc.Statement(e.ctx, StatementID("globex", "2026-10")); !errors.Is(err, settlement.ErrNotFound) {
		t.Fatalf("globex October issued despite the errors: %v", err)
	}
}

// TestRunImportsWhenDue starts the scheduler on a day the import is due:
// it imports last month at once, retrying a throttled API, and stops with
// its context.
func TestRunImportsWhenDue(t *testing.T) {
	e := newEnv(t)
	e.bills()
	e.api.Fail(custGlobex, http.StatusServiceUnavailable)
	now := time.Date(2026, 10, 20, 9, 0, 0, 0, settlement.DefaultLocation)
	im := NewImporter(e.client, e.svc, Options{Customers: e.im.opts.Customers, ImportDay: 6, ImportHour: 2,
		RetryBase: 10 * time.Millisecond, RetryMax: 20 * time.Millisecond, Now: func() time.Time { return now }})
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- im.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for _, id := range []string{StatementID("acme", "2026-09"), StatementID("globex", "2026-09")} {
		for {
			if _, err := e.svc.Statement(e.ctx, id); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s not imported", id)
			}
			if id == StatementID("globex", "2026-09") {
				e.api.Fail(custGlobex, 0) // the outage ends; the retry imports it
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
