package evm

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/rpc"
)

// EndpointStatus is one RPC endpoint's health as shown on the ops page.
type EndpointStatus struct {
	// Name is the endpoint URL without path, query or credentials (API keys
	// often live there).
	Name string
	// Healthy is false while the endpoint is backing off after a failure.
	Healthy bool
	// Lagging is true when its head trails the best known head by more than
	// LagBlocks; lagging endpoints are tried last.
	Lagging             bool
	Head                uint64
	ConsecutiveFailures int
	LastError           string
	LastErrorAt         time.Time
	Latency             time.Duration // of the last successful request
	Backoff             time.Duration // current backoff; 0 after a success
	Requests            uint64        // JSON-RPC requests sent, batch elements counted one each
}

// endpoint is one upstream node with its health record.
type endpoint struct {
	name     string
	rpc      *rpc.Client
	requests atomic.Uint64

	mu          sync.Mutex
	failures    int
	lastErr     string
	lastErrAt   time.Time
	latency     time.Duration
	backoff     time.Duration
	retryAt     time.Time
	head        uint64
	headChecked bool
	headAt      time.Time // when head was last reported by the endpoint
	noAncestry  time.Time // until then Linked reads this endpoint with header batches
}

func (e *endpoint) ancestryOffUntil() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.noAncestry
}

func (e *endpoint) pauseAncestry(until time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.noAncestry = until
}

// redact keeps scheme and host of an endpoint URL.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "endpoint"
	}
	return u.Scheme + "://" + u.Host
}

// pool chooses endpoints by health and records outcomes.
type pool struct {
	eps        []*endpoint
	now        func() time.Time
	minBackoff time.Duration
	maxBackoff time.Duration
	lagBlocks  uint64
	best       atomic.Uint64 // best head seen on any endpoint
}

// pick returns the endpoint to use next and, when every endpoint is backing
// off, how long to wait before the earliest may be retried. Preference, in
// order: not backing off; not already tried by this operation; not lagging;
// no failure since its last success; configuration order.
func (p *pool) pick(tried map[*endpoint]bool) (*endpoint, time.Duration) {
	now := p.now()
	best := p.best.Load()
	var chosen *endpoint
	chosenRank := -1
	var earliestAt time.Time
	for _, e := range p.eps {
		e.mu.Lock()
		ready := !now.Before(e.retryAt)
		rank := 0
		if tried[e] {
			rank += 4
		}
		if e.headChecked && e.head+p.lagBlocks < best {
			rank += 2
		}
		if e.failures > 0 {
			rank++
		}
		retryAt := e.retryAt
		e.mu.Unlock()
		if !ready {
			if earliestAt.IsZero() || retryAt.Before(earliestAt) {
				earliestAt = retryAt
			}
			continue
		}
		if chosen == nil || rank < chosenRank {
			chosen, chosenRank = e, rank
		}
	}
	if chosen != nil {
		return chosen, 0
	}
	return nil, earliestAt.Sub(now)
}

func (p *pool) succeed(e *endpoint, latency time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failures = 0
	e.backoff = 0
	e.retryAt = time.Time{}
	e.latency = latency
}

// fail records err against e and starts or doubles its backoff.
func (p *pool) fail(e *endpoint, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failures++
	e.lastErr = err.Error()
	e.lastErrAt = p.now()
	if e.backoff == 0 {
		e.backoff = p.minBackoff
	} else {
		e.backoff = min(2*e.backoff, p.maxBackoff)
	}
	e.retryAt = e.lastErrAt.Add(e.backoff)
}

// observeHead records the latest block number e reported.
func (p *pool) observeHead(e *endpoint, head uint64) {
	e.mu.Lock()
	e.head, e.headChecked, e.headAt = head, true, p.now()
	e.mu.Unlock()
	for {
		b := p.best.Load()
		if head <= b || p.best.CompareAndSwap(b, head) {
			return
		}
	}
}

// markBehind records that e said it does not have block n yet.
func (p *pool) markBehind(e *endpoint, n uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.headChecked || e.head >= n {
		e.head, e.headChecked = n-1, true
	}
}

func (p *pool) knownHead(e *endpoint) (uint64, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.head, e.headChecked
}

func (p *pool) status() []EndpointStatus {
	now := p.now()
	best := p.best.Load()
	out := make([]EndpointStatus, 0, len(p.eps))
	for _, e := range p.eps {
		e.mu.Lock()
		out = append(out, EndpointStatus{
			Name:                e.name,
			Healthy:             !now.Before(e.retryAt),
			Lagging:             e.headChecked && e.head+p.lagBlocks < best,
			Head:                e.head,
			ConsecutiveFailures: e.failures,
			LastError:           e.lastErr,
			LastErrorAt:         e.lastErrAt,
			Latency:             e.latency,
			Backoff:             e.backoff,
			Requests:            e.requests.Load(),
		})
		e.mu.Unlock()
	}
	return out
}

// errRangeTooLarge marks an eth_getLogs failure that a smaller range may
// avoid. It is returned to the range splitter instead of being retried.
type errRangeTooLarge struct{ err error }

func (e errRangeTooLarge) Error() string { return "range too large: " + e.err.Error() }
func (e errRangeTooLarge) Unwrap() error { return e.err }

// do runs fn against endpoints until it succeeds, the attempts are spent, or
// ctx ends. Each try gets RequestTimeout. A failure backs the endpoint off
// and moves to the next one; a range-too-large error is returned at once.
func (c *Client) do(ctx context.Context, what string, fn func(ctx context.Context, e *endpoint) error) error {
	var lastErr error
	tried := map[*endpoint]bool{}
	for attempt := 0; attempt < c.cfg.Attempts; attempt++ {
		e, wait := c.pool.pick(tried)
		if e == nil {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("%s %s: %w (last error: %v)", c.cfg.Chain, what, ctx.Err(), lastErr)
			case <-t.C:
			}
			if e, _ = c.pool.pick(tried); e == nil {
				continue
			}
		}
		tried[e] = true
		rctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
		start := c.cfg.Now()
		err := fn(rctx, e)
		cancel()
		if err == nil {
			c.pool.succeed(e, c.cfg.Now().Sub(start))
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s %s: %w", c.cfg.Chain, what, ctx.Err())
		}
		var ce *ConfigError
		if errors.As(err, &ce) {
			return err
		}
		if tooLarge(err) {
			return fmt.Errorf("%s %s via %s: %w", c.cfg.Chain, what, e.name, errRangeTooLarge{err})
		}
		lastErr = fmt.Errorf("%s: %w", e.name, err)
		c.pool.fail(e, err)
		if timedOut(err) && what == opGetLogs {
			// A slow answer to a multi-block log query is as likely the
			// range's size as the endpoint's health: let the splitter try a
			// smaller range. A single block is retried like any failure.
			return fmt.Errorf("%s %s: %w", c.cfg.Chain, what, errRangeTooLarge{err})
		}
	}
	if lastErr == nil {
		lastErr = errors.New("no endpoint became ready")
	}
	return fmt.Errorf("%s %s: %d attempts: %w", c.cfg.Chain, what, c.cfg.Attempts, lastErr)
}
