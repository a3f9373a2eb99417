package webhooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/depositd/depositd/outbox"
)

func TestNewDispatcherValidates(t *testing.T) {
	good := Endpoint{Name: "billing", URL: "https://hooks.example.com/in", Secrets: []string{testSecret}}
	with := func(f func(e *Endpoint)) []Endpoint {
		e := good
		f(&e)
		return []Endpoint{e}
	}
	tests := []struct {
		name string
		eps  []Endpoint
		want string // substring of the error; "" for success
	}{
		{"valid", []Endpoint{good}, ""},
		{"valid filters", with(func(e *Endpoint) { e.Events = []string{"deposit.*", outbox.StatementPaid, "*"} }), ""},
		{"bad name", with(func(e *Endpoint) { e.Name = "a b" }), "name"},
		{"bad scheme", with(func(e *Endpoint) { e.URL = "ftp://x/y" }), "http(s)"},
		{"no host", with(func(e *Endpoint) { e.URL = "https:///path" }), "http(s)"},
		{"no secrets", with(func(e *Endpoint) { e.Secrets = nil }), "no secrets"},
		{"bad second secret", with(func(e *Endpoint) { e.Secrets = []string{testSecret, "whsec_short"} }), "secrets[1]"},
		{"unknown event", with(func(e *Endpoint) { e.Events = []string{"deposit.credit"} }), `"deposit.credit"`},
		{"unknown prefix", with(func(e *Endpoint) { e.Events = []string{"payout.*"} }), `"payout.*"`},
		{"negative timeout", with(func(e *Endpoint) { e.Timeout = -time.Second }), "negative"},
		{"empty schedule", with(func(e *Endpoint) { e.Schedule = []time.Duration{} }), "schedule is empty"},
		{"negative delay", with(func(e *Endpoint) { e.Schedule = []time.Duration{0, -1} }), "schedule[1]"},
		{"duplicate", []Endpoint{good, good}, "duplicate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewDispatcher(nil2(t), tc.eps, Options{})
			if tc.want == "" && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("err = %v, want one mentioning %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), strings.TrimPrefix(testSecret, "whsec_")) {
				t.Fatal("error echoes a secret")
			}
		})
	}
	for _, o := range []Options{{Prefix: "wh:"}, {Prefix: "{}:"}, {Retention: -time.Hour}} {
		t.Run(fmt.Sprintf("options %+v", o), func(t *testing.T) {
			if _, err := NewDispatcher(nil2(t), []Endpoint{good}, o); err == nil {
				t.Fatal("no error")
			}
		})
	}
	t.Run("nil client", func(t *testing.T) {
		if _, err := NewDispatcher(nil, []Endpoint{good}, Options{}); err == nil {
			t.Fatal("no error")
		}
	})
}

func TestEventFilter(t *testing.T) {
	tests := []struct {
		filter []string
		typ    string
		want   bool
	}{
		{nil, outbox.BalanceLow, true},
		{[]string{"*"}, outbox.DepositSeen, true},
		{[]string{"deposit.*"}, outbox.DepositReversed, true},
		{[]string{"deposit.*"}, outbox.StatementPaid, false},
		{[]string{outbox.StatementPaid}, outbox.StatementPaid, true},
		{[]string{outbox.StatementPaid}, outbox.StatementPartiallyPaid, false},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.filter, ",")+"/"+tc.typ, func(t *testing.T) {
			e := &endpoint{Endpoint: Endpoint{Events: tc.filter}}
			if got := e.wants(tc.typ); got != tc.want {
				t.Fatalf("wants = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestShutdownReleasesInFlight: cancelling Run during an attempt returns
// promptly, records no attempt and leaves the delivery due at once.
func TestShutdownReleasesInFlight(t *testing.T) {
	_, rdb := newRedis(t)
	entered := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // the server notices a hang-up only after the body
		entered <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	reg := prometheus.NewRegistry()
	d, err := NewDispatcher(rdb, []Endpoint{endpointFor("slow", srv.URL)}, Options{
		Consumer: "c", ReadBlock: 50 * time.Millisecond, Registerer: reg, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	addEvent(t, rdb, 8, "evt_shut", outbox.DepositCredited, time.Now())
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the attempt never started")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return within 3s of cancel")
	}
	dl, err := d.Delivery(context.Background(), DeliveryID("evt_shut", "slow"))
	if err != nil {
		t.Fatal(err)
	}
	if dl.Status != StatusPending || len(dl.Attempts) != 0 || dl.NextAt.After(time.Now()) {
		t.Fatalf("after shutdown: %+v, want pending, no attempt, due now", dl)
	}
	if jobs, err := d.claim(context.Background(), 10); err != nil || len(jobs) != 1 {
		t.Fatalf("claim after shutdown = %d jobs, %v; want the released delivery", len(jobs), err)
	}
}

func TestMetricsRegistered(t *testing.T) {
	_, rdb := newRedis(t)
	srv, _ := statusServer(t, 500)
	ep := endpointFor("m", srv.URL)
	ep.Schedule = []time.Duration{0}
	e := newEnv(t, rdb, []Endpoint{ep})
	addEvent(t, rdb, 0, "evt_m", outbox.DepositSeen, e.clock.Now())
	e.pump(t)
	e.drain(t)
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	for _, want := range []string{"depositd_webhook_attempts_total", "depositd_webhook_failures_total",
		"depositd_webhook_dead_total", "depositd_webhook_latency_seconds"} {
		if !slices.Contains(names, want) {
			t.Errorf("metric %s not registered (have %v)", want, names)
		}
	}
	_, err = NewDispatcher(rdb, []Endpoint{ep}, Options{Registerer: e.reg})
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) {
		t.Fatalf("second registration err = %v, want AlreadyRegisteredError", err)
	}
}
