package chaos

import (
	"math/rand/v2"
	"net"
	"net/http"
	"sync"

	"github.com/depositd/depositd/webhooks"
)

// receiver is the campaign's webhook consumer: the real verifying receiver
// behind a switch that answers 503 during outages and to a seeded share of
// requests while faults run.
type receiver struct {
	inner *webhooks.Receiver
	ln    net.Listener
	srv   *http.Server

	mu       sync.Mutex
	rng      *rand.Rand
	down     bool
	failRate float64
	failed   int
}

func startReceiver(secret string, seed uint64) (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{inner: webhooks.NewReceiver([]string{secret}, nil), ln: ln, rng: rand.New(rand.NewPCG(seed, 0x40f))}
	r.srv = &http.Server{Handler: r}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

func (r *receiver) URL() string { return "http://" + r.ln.Addr().String() + "/webhooks" }

func (r *receiver) close() { _ = r.srv.Close() }

func (r *receiver) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

func (r *receiver) setFailRate(f float64) {
	r.mu.Lock()
	r.failRate = f
	r.mu.Unlock()
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	fail := r.down || (r.failRate > 0 && r.rng.Float64() < r.failRate)
	if fail {
		r.failed++
	}
	r.mu.Unlock()
	if fail {
		http.Error(w, "injected: receiver unavailable", http.StatusServiceUnavailable)
		return
	}
	r.inner.ServeHTTP(w, req)
}

func (r *receiver) failures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}
