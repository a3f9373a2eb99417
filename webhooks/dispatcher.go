package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/depositd/depositd/outbox"
)

// Options tune a Dispatcher; the zero value of each field picks the
// default in its comment.
type Options struct {
	// Consumer is this process's name in the outbox consumer group;
	// default hostname-pid. Names must differ between live processes.
	Consumer string
	// Group is the consumer group on every outbox stream; default "webhooks".
	Group string
	// Prefix starts every key of delivery state and must hold one hash
	// tag; default "{wh}:".
	Prefix string
	// Now is the clock of due times, leases and signatures; default time.Now.
	Now func() time.Time
	// Jitter spreads a retry delay; default ±10 % uniformly.
	Jitter func(time.Duration) time.Duration
	// Logger gets warnings for failed attempts and an error for every
	// dead-lettered delivery; default discards.
	Logger *slog.Logger
	// Registerer receives the depositd_webhook_* metrics; nil registers
	// nothing.
	Registerer prometheus.Registerer
	// Workers bounds concurrent attempts of this process; default 64.
	Workers int
	// PollInterval is how often due retries are looked for when nothing
	// woke the dispatcher; default 250ms.
	PollInterval time.Duration
	// ReadBlock is how long one XREADGROUP waits for new entries;
	// default 1s. It bounds how long shutdown waits for readers.
	ReadBlock time.Duration
	// ClaimIdle is how long an outbox entry may stay unacknowledged by a
	// consumer before another takes it over (XAUTOCLAIM); default 30s.
	ClaimIdle time.Duration
	// LeaseMargin is added to the longest endpoint timeout to form the
	// per-delivery lease; default 30s.
	LeaseMargin time.Duration
	// Retention is how long delivered and dead deliveries are kept, by
	// event time; 0 keeps them forever. Run prunes every PruneEvery
	// (default 1h).
	Retention  time.Duration
	PruneEvery time.Duration
}

// maxRetryAfter caps how far a receiver's Retry-After can push a retry.
const maxRetryAfter = 24 * time.Hour

// claimBatch caps the deliveries leased by one claim.
const claimBatch = 100

// minPool is the smallest Redis pool that leaves room for claims and
// records beside the blocking readers.
const minPool = outbox.Shards + 8

// Dispatcher consumes the outbox and delivers events to endpoints. Any
// number of dispatchers may share one Redis.
type Dispatcher struct {
	rdb     redis.UniversalClient
	eps     map[string]*endpoint
	order   []*endpoint
	k       keys
	o       Options
	log     *slog.Logger
	m       *metrics
	public  *http.Client
	private *http.Client
	lease   time.Duration
	token   string
	seq     atomic.Uint64
	wake    chan struct{}
}

// NewDispatcher validates the endpoints and options. It does not touch
// Redis; Run does. Give the client a pool of at least outbox.Shards + 8
// connections (go-redis defaults to 10 per CPU): each shard's reader holds
// one while it blocks.
func NewDispatcher(rdb redis.UniversalClient, eps []Endpoint, opts Options) (*Dispatcher, error) {
	if rdb == nil {
		return nil, errors.New("webhooks: nil redis client")
	}
	o := opts
	if o.Consumer == "" {
		host, _ := os.Hostname()
		o.Consumer = host + "-" + strconv.Itoa(os.Getpid())
	}
	if o.Group == "" {
		o.Group = "webhooks"
	}
	if o.Prefix == "" {
		o.Prefix = "{wh}:"
	}
	if lb, rb := strings.Index(o.Prefix, "{"), strings.Index(o.Prefix, "}"); lb < 0 || rb < lb+2 {
		return nil, fmt.Errorf("webhooks: prefix %q: want one {hash tag}", o.Prefix)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Jitter == nil {
		o.Jitter = tenPercent
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Workers <= 0 {
		o.Workers = 64
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 250 * time.Millisecond
	}
	if o.ReadBlock <= 0 {
		o.ReadBlock = time.Second
	}
	if o.ClaimIdle <= 0 {
		o.ClaimIdle = 30 * time.Second
	}
	if o.LeaseMargin <= 0 {
		o.LeaseMargin = 30 * time.Second
	}
	if o.Retention < 0 {
		return nil, fmt.Errorf("webhooks: retention %s is negative", o.Retention)
	}
	if o.PruneEvery <= 0 {
		o.PruneEvery = time.Hour
	}
	d := &Dispatcher{
		rdb: rdb, eps: map[string]*endpoint{}, k: keys{o.Prefix}, o: o, log: o.Logger,
		public:  newClient(false, o.Workers),
		private: newClient(true, o.Workers),
		wake:    make(chan struct{}, 1),
	}
	for i, e := range eps {
		ep, err := e.validate()
		if err != nil {
			return nil, fmt.Errorf("webhooks: endpoints[%d]: %w", i, err)
		}
		if d.eps[ep.Name] != nil {
			return nil, fmt.Errorf("webhooks: endpoints[%d]: duplicate name %q", i, ep.Name)
		}
		d.eps[ep.Name] = ep
		d.order = append(d.order, ep)
		d.lease = max(d.lease, ep.Timeout)
	}
	d.lease += o.LeaseMargin
	var b [8]byte
	_, _ = rand.Read(b[:])
	d.token = hex.EncodeToString(b[:])
	m, err := newMetrics(o.Registerer)
	if err != nil {
		return nil, err
	}
	d.m = m
	return d, nil
}

func tenPercent(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	spread := int64(d) / 5
	return d - time.Duration(spread/2) + time.Duration(mrand.Int64N(spread+1))
}

// Run consumes every outbox stream and delivers due deliveries until ctx
// is done, then returns nil after in-flight attempts end. Redis and
// receiver failures are logged and retried, never returned.
func (d *Dispatcher) Run(ctx context.Context) error {
	if c, ok := d.rdb.(*redis.Client); ok && c.Options().PoolSize < minPool {
		d.log.Warn("webhook redis pool is small: each outbox shard's reader holds a connection while it blocks",
			"pool_size", c.Options().PoolSize, "want_at_least", minPool)
	}
	g, ctx := errgroup.WithContext(ctx)
	for _, s := range outbox.Streams() {
		g.Go(func() error { return d.readStream(ctx, s) })
	}
	g.Go(func() error { return d.runDue(ctx) })
	if d.o.Retention > 0 {
		g.Go(func() error { return d.runPrune(ctx) })
	}
	return g.Wait()
}

// signal wakes the due loop (new deliveries, a redelivery).
func (d *Dispatcher) signal() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// runDue leases due deliveries while workers are free and attempts each
// on its own goroutine; a recorder stores the outcomes in batches. Before
// returning it waits for the attempts and the recorder.
func (d *Dispatcher) runDue(ctx context.Context) error {
	var wg sync.WaitGroup
	outcomes := make(chan completion, d.o.Workers)
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		d.runRecorder(ctx, outcomes)
	}()
	defer func() {
		wg.Wait()
		close(outcomes)
		<-recorded
	}()
	sem := make(chan struct{}, d.o.Workers)
	tick := time.NewTicker(d.o.PollInterval)
	defer tick.Stop()
	var b backoff
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		want := min(cap(sem)-len(sem)+1, claimBatch)
		jobs, err := d.claim(ctx, want)
		if err != nil {
			<-sem
			if ctx.Err() != nil {
				return nil
			}
			d.log.Warn("webhook claim", "err", err)
			if !b.wait(ctx) {
				return nil
			}
			continue
		}
		b.reset()
		if len(jobs) == 0 {
			<-sem
		}
		for i, j := range jobs {
			if i > 0 {
				sem <- struct{}{} // never blocks: only this loop acquires
			}
			wg.Go(func() {
				out, ok := d.decide(ctx, j)
				<-sem
				if ok {
					outcomes <- completion{j, out}
				}
			})
		}
		if len(jobs) == want {
			continue // there may be more due now
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-d.wake:
		}
	}
}

// backoff waits 100ms, doubling to 5s, between retries of a failing call.
type backoff struct{ d time.Duration }

func (b *backoff) reset() { b.d = 0 }

// wait sleeps the next delay; false when ctx ended first.
func (b *backoff) wait(ctx context.Context) bool {
	b.d = min(max(2*b.d, 100*time.Millisecond), 5*time.Second)
	t := time.NewTimer(b.d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
