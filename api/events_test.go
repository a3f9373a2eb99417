package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/depositd/depositd/settlement"
)

// newOpsServer builds a server with every part over one real redis-server,
// a read token and a write token, and the ops routes.
func newOpsServer(t testing.TB) *Server {
	t.Helper()
	opts, _, _ := fullOptions(t)
	return New(opts)
}

// sseReader reads "snapshot" events of an open stream.
type sseReader struct {
	t  *testing.T
	sc *bufio.Scanner
}

// next returns the next snapshot event's data and id.
func (r *sseReader) next() (opsSnapshot, string) {
	r.t.Helper()
	var id string
	event := ""
	for r.sc.Scan() {
		line := r.sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "id: "):
			id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			if event != "snapshot" {
				r.t.Fatalf("data of event %q: %s", event, line)
			}
			var snap opsSnapshot
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &snap); err != nil {
				r.t.Fatalf("snapshot is not JSON: %v: %s", err, line)
			}
			return snap, id
		}
	}
	r.t.Fatalf("stream ended: %v", r.sc.Err())
	return opsSnapshot{}, ""
}

func openStream(t *testing.T, ctx context.Context, base, query string, header http.Header) (*http.Response, *sseReader) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/v1/events/stream"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	return resp, &sseReader{t: t, sc: sc}
}

func TestEventStreamAuth(t *testing.T) {
	hs := httptest.NewServer(newOpsServer(t).Handler())
	t.Cleanup(hs.Close)
	tests := []struct {
		name, path string
		header     string
		want       int
	}{
		{"no token", "/v1/events/stream", "", 401},
		{"wrong query token", "/v1/events/stream?token=nope", "", 401},
		{"query token", "/v1/events/stream?token=" + url.QueryEscape(readTok), "", 200},
		{"header token", "/v1/events/stream", "Bearer " + readTok, 200},
		{"header wins over query", "/v1/events/stream?token=" + readTok, "Bearer nope", 401},
		{"query token only on the stream", "/v1/accounts?token=" + readTok, "", 401},
		{"page needs no token", "/", "", 200},
		{"static file needs no token", "/web/app.js", "", 200},
		{"openapi needs no token", "/v1/openapi.json", "", 200},
		{"unknown page", "/nope", "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", hs.URL+tt.path, nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestEventStreamSnapshots(t *testing.T) {
	s := newOpsServer(t)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	f := &fixture{srv: hs}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, stream := openStream(t, ctx, hs.URL, "?token="+url.QueryEscape(readTok), nil)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	first, id1 := stream.next()
	if len(first.Statements) != 0 || len(first.Deposits) != 0 || first.At.IsZero() || len(first.Problems) != 0 {
		t.Fatalf("first snapshot: %+v", first)
	}

	// An unpaid statement is an open statement in the next snapshot.
	f.call(t, "POST", "/v1/accounts", writeTok, `{"id":"acme"}`)
	month := time.Now().AddDate(0, -1, 0).Format("2006-01")
	got, st := f.call(t, "POST", "/v1/statements", writeTok, `{"id":"st-open","account":"acme","month":"`+month+`","lines":[
		{"service":"ECS","resource_id":"ecs-1","official_amount":"12.5"}]}`)
	if got != 201 {
		t.Fatalf("issue: %d %v", got, st)
	}
	second, id2 := stream.next()
	if id2 == id1 {
		t.Fatalf("event id repeated: %s", id2)
	}
	want := openStatement{ID: "st-open", Account: "acme", Month: month, Status: settlement.Pending, Amount: "12.50000000", Due: "12.50000000"}
	if len(second.Statements) != 1 {
		t.Fatalf("open statements: %+v", second.Statements)
	}
	gotSt := second.Statements[0]
	gotSt.DueAt = time.Time{}
	if gotSt != want {
		t.Fatalf("open statement %+v, want %+v", gotSt, want)
	}
}

// TestEventStreamEndsWithClient: the handler returns once the client goes
// away, and an unchanged state sends keepalive comments, not snapshots.
func TestEventStreamEndsWithClient(t *testing.T) {
	s := newOpsServer(t)
	done := make(chan struct{})
	var snapshots, keepalives int
	h := s.eventStream(time.Millisecond, time.Now)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		h(w, r)
	}))
	t.Cleanup(hs.Close)

	ctx, cancel := context.WithCancel(context.Background())
	_, stream := openStream(t, ctx, hs.URL, "", http.Header{"Authorization": {"Bearer " + readTok}})
	for keepalives < 3 && stream.sc.Scan() {
		switch line := stream.sc.Text(); {
		case line == "event: snapshot":
			snapshots++
		case line == ": keepalive":
			keepalives++
		}
	}
	if snapshots != 1 || keepalives != 3 {
		t.Fatalf("%d snapshots and %d keepalives of an unchanged state, want 1 and 3", snapshots, keepalives)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("stream handler still running 5s after the client went away")
	}
}

// TestEventStreamEndsOnShutdown: an open stream does not hold
// http.Server.Shutdown until its deadline.
func TestEventStreamEndsOnShutdown(t *testing.T) {
	s := newOpsServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s.Handler()}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	_, stream := openStream(t, context.Background(), "http://"+ln.Addr().String(), "?token="+url.QueryEscape(readTok), nil)
	stream.next()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with an open stream: %v after %v", err, time.Since(start))
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		t.Fatalf("Serve: %v", err)
	}
	for stream.sc.Scan() {
	}
	if err := stream.sc.Err(); err != nil {
		t.Fatalf("stream did not end cleanly: %v", err)
	}
}
