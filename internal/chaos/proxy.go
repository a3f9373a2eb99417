package chaos

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"
)

// rpcFault is one way the JSON-RPC proxy misbehaves on a request.
type rpcFault int

const (
	faultHTTP503  rpcFault = iota // the whole request answered 503
	faultRPCError                 // a JSON-RPC error object instead of the answer
	faultTimeout                  // held until the client gives up (or hangLimit), then 504
	faultTruncate                 // the upstream answer cut in half
	nRPCFaults
)

func (f rpcFault) String() string {
	return [...]string{"http 503", "rpc error", "timeout", "truncated"}[f]
}

// hangLimit bounds a held request, so a client without a deadline still
// gets an answer.
const hangLimit = 6 * time.Second

// rpcProxy is an HTTP JSON-RPC proxy on loopback in front of one node. While
// a fault rate is set, each request fails with that probability, the kind
// drawn from the proxy's own seeded generator.
type rpcProxy struct {
	name     string
	upstream string
	ln       net.Listener
	srv      *http.Server
	client   *http.Client

	mu       sync.Mutex
	rng      *rand.Rand
	rate     float64
	requests int
	faults   [nRPCFaults]int
}

func startProxy(name, upstream string, seed uint64) (*rpcProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &rpcProxy{
		name: name, upstream: upstream, ln: ln,
		rng:    rand.New(rand.NewPCG(seed, 0x70)),
		client: &http.Client{Timeout: 30 * time.Second},
	}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

// URL is the proxy's endpoint.
func (p *rpcProxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *rpcProxy) close() { _ = p.srv.Close() }

// setRate sets the probability (0..1) that a request fails.
func (p *rpcProxy) setRate(r float64) {
	p.mu.Lock()
	p.rate = r
	p.mu.Unlock()
}

// resetCounts starts the request and fault counts afresh.
func (p *rpcProxy) resetCounts() {
	p.mu.Lock()
	p.requests, p.faults = 0, [nRPCFaults]int{}
	p.mu.Unlock()
}

// counts returns the requests seen and the faults injected by kind.
func (p *rpcProxy) counts() (int, [nRPCFaults]int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests, p.faults
}

// draw decides the fate of one request: a fault kind, or -1 to forward it.
func (p *rpcProxy) draw() rpcFault {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	if p.rate <= 0 || p.rng.Float64() >= p.rate {
		return -1
	}
	f := rpcFault(p.rng.IntN(int(nRPCFaults)))
	p.faults[f]++
	return f
}

func (p *rpcProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	f := p.draw()
	switch f {
	case faultHTTP503:
		http.Error(w, "injected: service unavailable", http.StatusServiceUnavailable)
		return
	case faultRPCError:
		w.Header().Set("Content-Type", "application/json")
		if bytes.HasPrefix(bytes.TrimSpace(body), []byte("[")) {
			http.Error(w, "injected: batch refused", http.StatusTooManyRequests)
			return
		}
		var req struct{ ID json.RawMessage }
		if json.Unmarshal(body, &req) != nil || len(req.ID) == 0 {
			req.ID = json.RawMessage("null")
		}
		fmt.Fprintf(w, `{"jsonrpc":"2.0","id":%s,"error":{"code":-32603,"message":"injected: internal error"}}`, req.ID)
		return
	case faultTimeout:
		select {
		case <-r.Context().Done():
		case <-time.After(hangLimit):
		}
		http.Error(w, "injected: gateway timeout", http.StatusGatewayTimeout)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, p.upstream, bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if f == faultTruncate {
		out = out[:len(out)/2]
	}
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(out)
}
