package chaos

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/depositd/depositd/outbox"
	"github.com/depositd/depositd/webhooks"
)

// finalClock records when each block of each chain became final, as the
// node reported it, so a webhook's arrival can be measured from it.
type finalClock struct {
	mu   sync.Mutex
	at   map[string]map[uint64]time.Time
	last map[string]uint64
}

func newFinalClock() *finalClock {
	return &finalClock{at: map[string]map[uint64]time.Time{}, last: map[string]uint64{}}
}

// observe notes that chain's final block is f now: every block after the
// last one seen up to f became final at this instant (the first call only
// sets the starting point).
func (c *finalClock) observe(chain string, f uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	last, ok := c.last[chain]
	if c.at[chain] == nil {
		c.at[chain] = map[uint64]time.Time{}
	}
	if ok {
		for b := last + 1; b <= f; b++ {
			c.at[chain][b] = now
		}
	}
	if !ok || f > last {
		c.last[chain] = f
	}
}

func (c *finalClock) finalAt(chain string, block uint64) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.at[chain][block]
	return t, ok
}

// loadReceiver verifies each webhook and, for deposit.credited, records the
// time from the deposit's block turning final to the webhook's arrival.
type loadReceiver struct {
	secrets []string
	clock   *finalClock
	ln      net.Listener
	srv     *http.Server

	mu        sync.Mutex
	seen      map[string]bool
	credited  int
	events    int
	latencies []time.Duration
	unclocked int // credited events whose block turned final before the clock started
}

func startLoadReceiver(secret string, clock *finalClock) (*loadReceiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &loadReceiver{secrets: []string{secret}, clock: clock, ln: ln, seen: map[string]bool{}}
	r.srv = &http.Server{Handler: r}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *loadReceiver) URL() string { return "http://" + r.ln.Addr().String() + "/webhooks" }

func (r *loadReceiver) close() { _ = r.srv.Close() }

func (r *loadReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	now := time.Now()
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	if err := webhooks.Verify(r.secrets, req.Header, body, webhooks.ReceiverTolerance, now); err != nil {
		http.Error(w, "signature: "+err.Error(), http.StatusUnauthorized)
		return
	}
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			Chain string `json:"chain"`
			Block uint64 `json:"block"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" {
		http.Error(w, "body", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	if !r.seen[ev.ID] {
		r.seen[ev.ID] = true
		r.events++
		if ev.Type == outbox.DepositCredited {
			r.credited++
			if at, ok := r.clock.finalAt(ev.Data.Chain, ev.Data.Block); ok {
				r.latencies = append(r.latencies, now.Sub(at))
			} else {
				r.unclocked++
			}
		}
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// stats returns credited events received, all events, and the p50, p99
// and largest final-to-webhook latencies.
func (r *loadReceiver) stats() (credited, events int, p50, p99, top time.Duration) {
	r.mu.Lock()
	ls := slices.Clone(r.latencies)
	credited, events = r.credited, r.events
	r.mu.Unlock()
	if len(ls) == 0 {
		return credited, events, 0, 0, 0
	}
	slices.Sort(ls)
	q := func(p float64) time.Duration { return ls[min(len(ls)-1, int(p*float64(len(ls))))] }
	return credited, events, q(0.50), q(0.99), ls[len(ls)-1]
}
