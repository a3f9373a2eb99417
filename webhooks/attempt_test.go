package webhooks

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/depositd/depositd/outbox"
)

// TestReceiverBehaviours drives one delivery against each kind of
// receiver and checks the recorded attempt and the delivery's next state.
func TestReceiverBehaviours(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedURL := "http://" + closed.Addr().String() + "/hook"
	closed.Close()

	tests := []struct {
		name       string
		handler    http.HandlerFunc // nil: connection refused
		wantResult string
		wantCode   int
		wantErr    string        // substring of the recorded error
		wantStatus string        // delivery status after the attempt
		wantNext   time.Duration // from the attempt; -1: nothing due
	}{
		{"200 delivered", func(w http.ResponseWriter, r *http.Request) {}, ResultDelivered, 200, "", StatusDelivered, -1},
		{"204 delivered", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }, ResultDelivered, 204, "", StatusDelivered, -1},
		{"301 not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
		}, ResultFailed, 301, "redirects are not followed", StatusFailed, 5 * time.Second},
		{"400 retried", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(400) }, ResultFailed, 400, "HTTP 400", StatusFailed, 5 * time.Second},
		{"410 disables", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(410) }, ResultGone, 410, "410 Gone", StatusDisabled, -1},
		{"429 honours Retry-After", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(429)
		}, ResultFailed, 429, "HTTP 429", StatusFailed, 120 * time.Second},
		{"429 Retry-After shorter than the schedule", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(429)
		}, ResultFailed, 429, "HTTP 429", StatusFailed, 5 * time.Second},
		{"500 retried", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }, ResultFailed, 500, "HTTP 500", StatusFailed, 5 * time.Second},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, ResultFailed, 0, "timeout after 300ms", StatusFailed, 5 * time.Second},
		{"connection refused", nil, ResultFailed, 0, "connection refused", StatusFailed, 5 * time.Second},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var verified, followed atomic.Int32
			url := refusedURL
			if tc.handler != nil {
				ref, err := standardwebhooks.NewWebhook(testSecret)
				if err != nil {
					t.Fatal(err)
				}
				mux := http.NewServeMux()
				mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) { followed.Add(1) })
				mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
					body, _ := io.ReadAll(r.Body)
					if ref.Verify(body, r.Header) == nil {
						verified.Add(1)
					}
					tc.handler(w, r)
				})
				srv := httptest.NewServer(mux)
				t.Cleanup(srv.Close)
				url = srv.URL + "/hook"
			}
			_, rdb := newRedis(t)
			ep := endpointFor("ep"+strconv.Itoa(i), url)
			if tc.name == "timeout" {
				ep.Timeout = 300 * time.Millisecond // short only where it is the subject
			}
			e := newEnv(t, rdb, []Endpoint{ep})
			evID := "evt_case" + strconv.Itoa(i)
			addEvent(t, rdb, 3, evID, outbox.DepositCredited, e.clock.Now())
			e.pump(t)
			start := e.clock.Now()
			if n := e.drain(t); n != 1 {
				t.Fatalf("drained %d deliveries, want 1", n)
			}
			dl := e.delivery(t, DeliveryID(evID, "ep"+strconv.Itoa(i)))
			if len(dl.Attempts) != 1 {
				t.Fatalf("attempts = %+v, want 1", dl.Attempts)
			}
			a := dl.Attempts[0]
			if a.Result != tc.wantResult || a.Status != tc.wantCode || !strings.Contains(a.Error, tc.wantErr) {
				t.Fatalf("attempt = %+v, want result %s status %d error ~%q", a, tc.wantResult, tc.wantCode, tc.wantErr)
			}
			if tc.wantErr == "" && a.Error != "" {
				t.Fatalf("attempt error = %q, want none", a.Error)
			}
			if !a.At.Equal(start) {
				t.Fatalf("attempt at %s, want %s", a.At, start)
			}
			if dl.Status != tc.wantStatus {
				t.Fatalf("status = %s, want %s", dl.Status, tc.wantStatus)
			}
			if tc.wantNext < 0 && !dl.NextAt.IsZero() {
				t.Fatalf("next_at = %s, want none", dl.NextAt)
			}
			if tc.wantNext >= 0 && !dl.NextAt.Equal(start.Add(tc.wantNext)) {
				t.Fatalf("next_at = %s, want %s", dl.NextAt, start.Add(tc.wantNext))
			}
			if tc.handler != nil && verified.Load() != 1 {
				t.Fatalf("reference library verified %d requests, want 1", verified.Load())
			}
			if followed.Load() != 0 {
				t.Fatal("redirect was followed")
			}
			if e.drain(t) != 0 {
				t.Fatal("a delivery was due again at once")
			}
			failures := counterValue(t, e.d.m.failures.WithLabelValues("ep"+strconv.Itoa(i)))
			if want := map[bool]float64{true: 0, false: 1}[tc.wantResult == ResultDelivered]; failures != want {
				t.Fatalf("failures metric = %v, want %v", failures, want)
			}
			if got := counterValue(t, e.d.m.attempts.WithLabelValues("ep"+strconv.Itoa(i), tc.wantResult)); got != 1 {
				t.Fatalf("attempts{result=%s} = %v, want 1", tc.wantResult, got)
			}
		})
	}
}

// TestGoneDisablesEndpoint: after a 410 the endpoint's other deliveries
// are marked disabled without a request, and a redelivery re-enables it.
func TestGoneDisablesEndpoint(t *testing.T) {
	_, rdb := newRedis(t)
	var code atomic.Int32
	code.Store(410)
	hits := &counter{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.add()
		w.WriteHeader(int(code.Load()))
	}))
	t.Cleanup(srv.Close)
	e := newEnv(t, rdb, []Endpoint{endpointFor("gone", srv.URL)})

	addEvent(t, rdb, 0, "evt_a", outbox.DepositSeen, e.clock.Now())
	e.pump(t)
	e.drain(t)
	addEvent(t, rdb, 1, "evt_b", outbox.DepositSeen, e.clock.Now())
	e.pump(t)
	e.drain(t)
	if hits.get() != 1 {
		t.Fatalf("requests = %d, want 1 (the second delivery must not be sent)", hits.get())
	}
	b := e.delivery(t, DeliveryID("evt_b", "gone"))
	if b.Status != StatusDisabled || len(b.Attempts) != 0 {
		t.Fatalf("second delivery = %+v, want disabled with no attempt", b)
	}

	code.Store(200)
	if err := e.d.Redeliver(context.Background(), b.ID); err != nil {
		t.Fatal(err)
	}
	e.drain(t)
	if b := e.delivery(t, b.ID); b.Status != StatusDelivered || len(b.Attempts) != 1 {
		t.Fatalf("after redelivery = %+v, want delivered in one attempt", b)
	}
}

// TestPrivateTargetsRefused: literal private hosts are refused when the
// endpoint is built, names resolving to them when dialling.
func TestPrivateTargetsRefused(t *testing.T) {
	for _, u := range []string{"http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://169.254.169.254/latest", "http://[::1]/x", "http://localhost/x", "http://100.64.0.1/x"} {
		t.Run(u, func(t *testing.T) {
			_, err := NewDispatcher(nil2(t), []Endpoint{{Name: "x", URL: u, Secrets: []string{testSecret}}}, Options{})
			if err == nil || !strings.Contains(err.Error(), "private") {
				t.Fatalf("NewDispatcher err = %v, want a private-host refusal", err)
			}
		})
	}
	t.Run("dial guard", func(t *testing.T) {
		srv, hits := statusServer(t, 200)
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
		resp, err := newClient(false, 1).Get("http://127.0.0.1:" + port + "/")
		if err == nil {
			resp.Body.Close()
		}
		if err == nil || !strings.Contains(err.Error(), errPrivate.Error()) || hits.get() != 0 {
			t.Fatalf("err = %v, hits = %d; want the dial refused", err, hits.get())
		}
		resp, err = newClient(true, 1).Get("http://127.0.0.1:" + port + "/")
		if err != nil {
			t.Fatalf("allowPrivate client: %v", err)
		}
		resp.Body.Close()
	})
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name, h string
		want    time.Duration
	}{
		{"absent", "", 0},
		{"seconds", "30", 30 * time.Second},
		{"zero", "0", 0},
		{"negative", "-5", 0},
		{"capped", "9999999", maxRetryAfter},
		{"http date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"date in the past", now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"garbage", "soon", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := retryAfter(tc.h, now); got != tc.want {
				t.Fatalf("retryAfter(%q) = %s, want %s", tc.h, got, tc.want)
			}
		})
	}
}
