package webhooks

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// ReceiverTolerance is how far a webhook-timestamp may be from the
// receiver's clock.
const ReceiverTolerance = 5 * time.Minute

// Receiver is a local webhook consumer for `depositd dev` and tests: it
// verifies each request's signature, logs the event and counts receipts
// by event id. Safe for concurrent use.
type Receiver struct {
	secrets []string
	log     *slog.Logger

	mu     sync.Mutex
	counts map[string]int
	total  int
}

// NewReceiver returns a receiver accepting signatures by any of secrets.
// It answers 204 to a verified event, 401 to a bad signature, 400 to a
// malformed body and 405 to anything but POST.
func NewReceiver(secrets []string, logger *slog.Logger) *Receiver {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Receiver{secrets: secrets, log: logger, counts: map[string]int{}}
}

// ServeHTTP verifies and records one webhook request.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	if err := Verify(r.secrets, req.Header, body, ReceiverTolerance, time.Now()); err != nil {
		r.log.Warn("webhook rejected", "webhook_id", req.Header.Get(HeaderID), "err", err)
		http.Error(w, "signature: "+err.Error(), http.StatusUnauthorized)
		return
	}
	var ev struct {
		ID        string          `json:"id"`
		Type      string          `json:"type"`
		CreatedAt time.Time       `json:"created_at"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" || ev.ID != req.Header.Get(HeaderID) {
		http.Error(w, "body: want {id, type, created_at, data} with id = webhook-id", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.counts[ev.ID]++
	r.total++
	n := r.counts[ev.ID]
	r.mu.Unlock()
	r.log.Info("webhook received", "id", ev.ID, "type", ev.Type, "created_at", ev.CreatedAt,
		"times", n, "data", string(ev.Data))
	w.WriteHeader(http.StatusNoContent)
}

// Count returns how many times the event id was received.
func (r *Receiver) Count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[id]
}

// Counts returns a copy of the receipts by event id.
func (r *Receiver) Counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.counts))
	for k, v := range r.counts {
		out[k] = v
	}
	return out
}

// Unique returns how many distinct event ids were received.
func (r *Receiver) Unique() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.counts)
}

// Total returns how many requests were accepted, duplicates included.
func (r *Receiver) Total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}
