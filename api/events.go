package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/depositd/depositd/settlement"
	"github.com/depositd/depositd/watchers"
	"github.com/depositd/depositd/webhooks"
)

// Snapshot sizes of the event stream.
const (
	snapshotDeposits   = 50
	snapshotFailures   = 20
	snapshotStatements = 100
	// keepaliveTicks is how many unchanged ticks pass before the stream
	// sends a comment, so proxies keep it open and a gone client is noticed.
	keepaliveTicks = 15
)

// opsSnapshot is one "snapshot" event of GET /v1/events/stream: what the ops
// page shows. Parts whose domain service is not configured are empty; a part
// that could not be read is empty and named in Problems.
type opsSnapshot struct {
	At              time.Time          `json:"at"`
	Chains          []ChainStatus      `json:"chains"`
	Deposits        []watchers.Deposit `json:"deposits"`
	WebhookFailures []webhookFailure   `json:"webhook_failures"`
	Statements      []openStatement    `json:"statements"`
	Problems        []string           `json:"problems,omitempty"`
}

// webhookFailure is a failed or dead delivery, without its attempt history.
type webhookFailure struct {
	ID         string    `json:"id"`
	EventType  string    `json:"event_type"`
	Endpoint   string    `json:"endpoint"`
	Status     string    `json:"status"`
	UpdatedAt  time.Time `json:"updated_at"`
	Attempts   int       `json:"attempts"`
	LastStatus int       `json:"last_status,omitempty"`
	LastError  string    `json:"last_error,omitempty"`
}

// openStatement is a pending, partially paid or overdue statement.
type openStatement struct {
	ID      string            `json:"id"`
	Account string            `json:"account"`
	Month   string            `json:"month"`
	Status  settlement.Status `json:"status"`
	DueAt   time.Time         `json:"due_at"`
	Amount  string            `json:"amount"`
	Due     string            `json:"due"`
}

// snapshot reads the current state of every configured part. It never
// fails: a part that cannot be read is logged and reported in Problems.
func (s *Server) snapshot(ctx context.Context, now time.Time) opsSnapshot {
	snap := opsSnapshot{
		At: now, Chains: []ChainStatus{}, Deposits: []watchers.Deposit{},
		WebhookFailures: []webhookFailure{}, Statements: []openStatement{},
	}
	problem := func(part string, err error) {
		s.log.Error("ops snapshot", "part", part, "err", err)
		snap.Problems = append(snap.Problems, part+" unavailable")
	}
	if s.opts.Chains != nil {
		if st, err := s.opts.Chains.Statuses(ctx); err != nil {
			problem("chains", err)
		} else if st != nil {
			snap.Chains = st
		}
	}
	if s.opts.Deposits != nil {
		if ds, _, err := s.opts.Deposits.List(ctx, watchers.Filter{}, "", snapshotDeposits); err != nil {
			problem("deposits", err)
		} else if ds != nil {
			snap.Deposits = ds
		}
	}
	if s.opts.Webhooks != nil {
		if fs, err := s.webhookFailures(ctx); err != nil {
			problem("webhook deliveries", err)
		} else {
			snap.WebhookFailures = fs
		}
	}
	if s.opts.Settlement != nil {
		if st, err := s.openStatements(ctx); err != nil {
			problem("statements", err)
		} else {
			snap.Statements = st
		}
	}
	return snap
}

// webhookFailures returns the most recently updated failed and dead
// deliveries, newest first.
func (s *Server) webhookFailures(ctx context.Context) ([]webhookFailure, error) {
	out := []webhookFailure{}
	for _, status := range []string{webhooks.StatusFailed, webhooks.StatusDead} {
		ds, _, err := s.opts.Webhooks.Deliveries(ctx, webhooks.Filter{Status: status, Limit: snapshotFailures})
		if err != nil {
			return nil, fmt.Errorf("%s deliveries: %w", status, err)
		}
		for _, d := range ds {
			f := webhookFailure{
				ID: d.ID, EventType: d.EventType, Endpoint: d.Endpoint, Status: d.Status,
				UpdatedAt: d.UpdatedAt, Attempts: len(d.Attempts),
			}
			if n := len(d.Attempts); n > 0 {
				f.LastStatus, f.LastError = d.Attempts[n-1].Status, d.Attempts[n-1].Error
			}
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b webhookFailure) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	return out[:min(len(out), snapshotFailures)], nil
}

// openStatements returns unpaid statements, the earliest due first.
func (s *Server) openStatements(ctx context.Context) ([]openStatement, error) {
	out := []openStatement{}
	for _, status := range []settlement.Status{settlement.Overdue, settlement.PartiallyPaid, settlement.Pending} {
		sts, err := s.opts.Settlement.Statements(ctx, settlement.Filter{Status: status})
		if err != nil {
			return nil, fmt.Errorf("%s statements: %w", status, err)
		}
		for _, st := range sts {
			out = append(out, openStatement{
				ID: st.ID, Account: st.Account, Month: st.Month, Status: st.Status, DueAt: st.DueAt,
				Amount: st.Amount().String(), Due: st.Due().String(),
			})
		}
	}
	slices.SortStableFunc(out, func(a, b openStatement) int {
		return cmp.Or(a.DueAt.Compare(b.DueAt), cmp.Compare(a.ID, b.ID))
	})
	return out[:min(len(out), snapshotStatements)], nil
}

// eventStream serves GET /v1/events/stream: Server-Sent Events, one
// "snapshot" event at once and then whenever the state read every `every`
// differs from the last one sent; a comment line keeps an idle stream open.
// It ends when the client goes away. It needs the read scope; since
// EventSource cannot set headers, the token may come as ?token= on this
// route only, checked by the same constant-time authenticator.
func (s *Server) eventStream(every time.Duration, now func() time.Time) http.HandlerFunc {
	stream := s.require(ScopeRead, func(w http.ResponseWriter, r *http.Request) error {
		return s.streamSnapshots(w, r, every, now)
	})
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if tok := q.Get("token"); tok != "" && r.Header.Get("Authorization") == "" {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+tok)
			q.Del("token")
			r.URL.RawQuery = q.Encode()
		}
		stream(w, r)
	}
}

func (s *Server) streamSnapshots(w http.ResponseWriter, r *http.Request, every time.Duration, now func() time.Time) error {
	ctx := r.Context()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	closing := serverClosing(r)
	var last []byte
	idle := 0
	id := 0
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		snap := s.snapshot(ctx, now())
		at := snap.At
		snap.At = time.Time{}
		key, err := json.Marshal(snap)
		if err != nil {
			return fmt.Errorf("encode snapshot: %w", err)
		}
		var msg []byte
		switch {
		case !bytes.Equal(key, last):
			snap.At = at
			data, err := json.Marshal(snap)
			if err != nil {
				return fmt.Errorf("encode snapshot: %w", err)
			}
			id++
			msg = fmt.Appendf(nil, "event: snapshot\nid: %d\ndata: %s\n\n", id, data)
			last, idle = key, 0
		case idle+1 >= keepaliveTicks:
			msg, idle = []byte(": keepalive\n\n"), 0
		default:
			idle++
		}
		if msg != nil {
			if _, err := w.Write(msg); err != nil {
				return nil // the client went away
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-closing:
			return nil
		case <-tick.C:
		}
	}
}

// shutdowns holds, per *http.Server serving a stream, a channel closed when
// that server begins Shutdown: streams never go idle, so without it an open
// ops page would hold Shutdown until its deadline.
var shutdowns struct {
	sync.Mutex
	m map[*http.Server]chan struct{}
}

// serverClosing returns a channel closed when the server serving r begins
// Shutdown; nil (never ready) when r carries no *http.Server.
func serverClosing(r *http.Request) <-chan struct{} {
	srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server)
	if !ok {
		return nil
	}
	shutdowns.Lock()
	defer shutdowns.Unlock()
	if shutdowns.m == nil {
		shutdowns.m = map[*http.Server]chan struct{}{}
	}
	ch, ok := shutdowns.m[srv]
	if !ok {
		ch = make(chan struct{})
		shutdowns.m[srv] = ch
		srv.RegisterOnShutdown(func() {
			shutdowns.Lock()
			delete(shutdowns.m, srv)
			shutdowns.Unlock()
			close(ch)
		})
	}
	return ch
}
