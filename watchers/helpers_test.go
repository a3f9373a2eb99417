package watchers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/chainstest"
	"github.com/depositd/depositd/internal/redistest"
)

// mapIndex is a test Index: labels registered with chainstest.Addr keys.
type mapIndex struct {
	family  chains.Family
	addrs   map[chains.AddrKey]string
	holders map[chains.AddrKey]holder
}

type holder struct {
	account string
	wallet  chains.AddrKey
}

func newIndex(f chains.Family, labels ...string) *mapIndex {
	ix := &mapIndex{family: f, addrs: map[chains.AddrKey]string{}, holders: map[chains.AddrKey]holder{}}
	for _, l := range labels {
		_, k := chainstest.Addr(l)
		ix.addrs[k] = "acct-" + l
	}
	return ix
}

func (ix *mapIndex) Lookup(f chains.Family, k chains.AddrKey) (string, bool) {
	if f != ix.family {
		return "", false
	}
	a, ok := ix.addrs[k]
	return a, ok
}

func (ix *mapIndex) LookupHolder(k chains.AddrKey) (string, chains.AddrKey, bool) {
	h, ok := ix.holders[k]
	return h.account, h.wallet, ok
}

// recorder is an exactly-once credit recorder in Redis, as a ledger would
// be: SET NX on the id; a second credit of an id to another account is an
// error; every first credit bumps a counter, so double credits under
// different ids and lost credits are both visible to the checker.
type recorder struct {
	rdb redis.UniversalClient

	mu    sync.Mutex
	fails int // fail this many next calls
	calls int
}

// The recorder's keys share one hash tag, so its script is single-slot on
// Redis Cluster too.
const (
	recCreditPrefix = "{rec}:credit:"
	recCreditsKey   = "{rec}:credits"
	recCallsKey     = "{rec}:credit_calls"
	recIDsKey       = "{rec}:ids"
)

// creditLua is the recorder's one atomic step: SET NX the id with its
// fingerprint and count it, or accept a repeat with the same fingerprint;
// every call is counted in credit_calls (repeats = calls − credits).
var creditLua = redis.NewScript(`
redis.call('INCR', KEYS[3])
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('INCR', KEYS[2])
  redis.call('SADD', KEYS[4], ARGV[2])
  return 1
end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('credit ' .. KEYS[1] .. ': another fingerprint')
end
return 0
`)

func (r *recorder) Credit(ctx context.Context, t chains.Transfer, account string) error {
	r.mu.Lock()
	r.calls++
	if r.fails > 0 {
		r.fails--
		r.mu.Unlock()
		return errors.New("ledger unavailable")
	}
	r.mu.Unlock()
	return creditLua.Run(ctx, r.rdb, []string{recCreditPrefix + t.ID(), recCreditsKey, recCallsKey, recIDsKey},
		account+"|"+t.Amount.String(), t.ID()).Err()
}

// credited returns the sorted credited ids and the counter.
func (r *recorder) credited(t testing.TB) ([]string, int) {
	t.Helper()
	ctx := context.Background()
	ids, err := r.rdb.SMembers(ctx, recIDsKey).Result()
	if err != nil {
		t.Fatal(err)
	}
	n, err := r.rdb.Get(ctx, recCreditsKey).Int()
	if err != nil && !errors.Is(err, redis.Nil) {
		t.Fatal(err)
	}
	sort.Strings(ids)
	return ids, n
}

// fakeClock advances one second per Now and records the waits asked of it;
// After fires at once.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waits   []time.Duration
	onAfter func(n int) // called with the number of waits so far
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	n, f := len(c.waits), c.onAfter
	c.mu.Unlock()
	if f != nil {
		f(n)
	}
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

type rig struct {
	chain *chainstest.Chain
	redis redistest.Deployment // of the topology redistest.TopologyEnv selects
	rdb   redis.UniversalClient
	rec   *recorder
	index *mapIndex
	clock *fakeClock
	reg   *prometheus.Registry
	cfg   Config
}

func testConfig() Config {
	return Config{
		Family: chains.FamilyEVM, Required: 3, StartBlock: 1, MaxRange: 4,
		Tokens: []Token{{Symbol: "USDT", MinRaw: bigInt(100)}, {Symbol: "USDC"}},
	}
}

func (r *rig) watcher(t *testing.T) *Watcher {
	t.Helper()
	r.reg = prometheus.NewRegistry()
	m, err := NewMetrics(r.reg)
	if err != nil {
		t.Fatal(err)
	}
	w, err := New(r.chain, r.index, r.rec, r.rdb, r.cfg, Options{
		Metrics: m, Clock: r.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func poll(t *testing.T, w *Watcher) {
	t.Helper()
	if err := w.Poll(context.Background()); err != nil {
		t.Fatalf("poll: %v", err)
	}
}

// expected returns the ids of the chain's final transfers that must be
// credited: watched recipient, known token, non-zero, not a self-transfer,
// not below the minimum.
func expected(r *rig) []string {
	var ids []string
	for _, t := range r.chain.FinalTransfers() {
		if _, ok := r.index.addrs[t.ToKey]; !ok || t.Amount.Sign() <= 0 {
			continue
		}
		if _, self := r.index.addrs[t.FromKey]; self {
			continue
		}
		ok := false
		for _, tok := range r.cfg.Tokens {
			if tok.Symbol == t.Token && (tok.MinRaw == nil || t.Amount.Cmp(tok.MinRaw) >= 0) {
				ok = true
			}
		}
		if ok {
			ids = append(ids, t.ID())
		}
	}
	sort.Strings(ids)
	return ids
}

// checkExactlyOnce compares the credited set with the chain's final deposits.
func checkExactlyOnce(t *testing.T, r *rig) {
	t.Helper()
	ids, n := r.rec.credited(t)
	want := expected(r)
	if fmt.Sprint(ids) != fmt.Sprint(want) || n != len(want) {
		t.Fatalf("credited %v (counter %d), want %v", ids, n, want)
	}
}

func status(t *testing.T, w *Watcher, id string) Deposit {
	t.Helper()
	d, err := w.Deposits().Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get %s: %v", id, err)
	}
	return d
}

func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}

func testMetrics(t testing.TB) *Metrics {
	t.Helper()
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	return m
}
