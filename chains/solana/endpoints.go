package solana

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/depositd/depositd/chains"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/gagliardetto/solana-go/rpc/jsonrpc"
)

// EndpointStatus is one RPC endpoint's health as the last call saw it.
type EndpointStatus struct {
	// Name is the endpoint URL without path, query or credentials (API keys
	// often live there).
	Name                string
	Healthy             bool
	ConsecutiveFailures int
	LastError           string
	LastErrorAt         time.Time
	Latency             time.Duration // of the last successful request
	Requests            uint64
}

type endpoint struct {
	rpc      *rpc.Client
	requests atomic.Uint64

	mu     sync.Mutex
	status EndpointStatus
}

func (e *endpoint) record(err error, latency time.Duration, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err == nil {
		e.status.Healthy, e.status.ConsecutiveFailures, e.status.Latency = true, 0, latency
		return
	}
	e.status.Healthy = false
	e.status.ConsecutiveFailures++
	e.status.LastError, e.status.LastErrorAt = err.Error(), now
}

func (e *endpoint) snapshot() EndpointStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.status
	s.Requests = e.requests.Load()
	return s
}

// redact keeps scheme and host of an endpoint URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "endpoint"
	}
	return u.Scheme + "://" + u.Host
}

// pool holds the endpoints with sticky failover: calls go to the current
// endpoint until it fails, then to the next.
type pool struct {
	eps []*endpoint
	cur atomic.Uint32
	cfg *Config
}

func newPool(cfg *Config) *pool {
	p := &pool{cfg: cfg}
	for _, u := range cfg.Endpoints {
		rc := jsonrpc.NewClientWithOpts(u, &jsonrpc.RPCClientOpts{HTTPClient: cfg.HTTPClient})
		p.eps = append(p.eps, &endpoint{rpc: rpc.NewWithCustomRPCClient(rc), status: EndpointStatus{Name: redact(u), Healthy: true}})
	}
	return p
}

// do runs fn (one request) against the current endpoint and fails over on
// error, up to Attempts calls, waiting MinBackoff (doubling to MaxBackoff)
// after each full round of failed endpoints. A skipped slot (-32007,
// -32009) is an answer and returned at once. "Not available yet" (-32004,
// a null block, a lagging node) from every endpoint of a round is returned
// as chains.ErrNotFound without backoff: the caller retries later. fn must
// be idempotent.
func (p *pool) do(ctx context.Context, op string, fn func(context.Context, *rpc.Client) error) error {
	n := len(p.eps)
	backoff := p.cfg.MinBackoff
	var lastErr error
	notYetCount := 0
	for attempt := 0; attempt < p.cfg.Attempts; attempt++ {
		i := p.cur.Load()
		e := p.eps[int(i)%n]
		cctx, cancel := context.WithTimeout(ctx, p.cfg.RequestTimeout)
		start := p.cfg.Now()
		e.requests.Add(1)
		err := fn(cctx, e.rpc)
		cancel()
		latency := p.cfg.Now().Sub(start)
		if err == nil || skipped(err) {
			e.record(nil, latency, start)
			if err != nil {
				return fmt.Errorf("%s: %w", op, rpcError{err})
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", op, ctx.Err())
		}
		lastErr = fmt.Errorf("%s: %w", e.status.Name, rpcError{err})
		p.cur.CompareAndSwap(i, i+1)
		if notYet(err) {
			// A lagging endpoint is healthy; ask the others first.
			e.record(nil, latency, start)
			if notYetCount++; notYetCount >= n {
				return fmt.Errorf("%s: %w: %w", op, chains.ErrNotFound, lastErr)
			}
			continue
		}
		e.record(err, latency, start)
		notYetCount = 0
		if (attempt+1)%n == 0 && attempt+1 < p.cfg.Attempts {
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s: %w", op, ctx.Err())
			case <-p.cfg.After(backoff):
			}
			backoff = min(2*backoff, p.cfg.MaxBackoff)
		}
	}
	return fmt.Errorf("%s: %d attempts: %w", op, p.cfg.Attempts, lastErr)
}

func (p *pool) close() error {
	var errs []error
	for _, e := range p.eps {
		errs = append(errs, e.rpc.Close())
	}
	return errors.Join(errs...)
}
