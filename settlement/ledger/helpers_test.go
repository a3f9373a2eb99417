package ledger

import (
	"context"
	"math/big"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/outbox"
)

// clock is the injected time of the tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// env is one test's ledger on its own Redis, of the topology
// redistest.TopologyEnv selects.
type env struct {
	srv   redistest.Deployment
	rdb   redis.UniversalClient
	clock *clock
	l     *Ledger
	calls *atomic.Int64 // commands sent, pipelines counted per command
}

func newEnv(t testing.TB) *env {
	t.Helper()
	srv := redistest.NewDeployment(t)
	rdb := srv.Connect(t)
	calls := new(atomic.Int64)
	rdb.AddHook(countHook{calls})
	c := newClock()
	return &env{srv: srv, rdb: rdb, clock: c, l: New(rdb, c.Now), calls: calls}
}

type countHook struct{ n *atomic.Int64 }

func (h countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(int64(len(cmds))); return next(ctx, cmds) }
}

func (e *env) open(t testing.TB, ids ...AccountID) {
	t.Helper()
	for _, id := range ids {
		if err := e.l.CreateAccount(context.Background(), Account{ID: id, Name: "Customer " + string(id)}); err != nil {
			t.Fatalf("create %s: %v", id, err)
		}
	}
}

func (e *env) account(t testing.TB, id AccountID) Account {
	t.Helper()
	a, err := e.l.Account(context.Background(), id)
	if err != nil {
		t.Fatalf("account %s: %v", id, err)
	}
	return a
}

func (e *env) outboxLen(t testing.TB, id AccountID) int64 {
	t.Helper()
	n, err := e.rdb.XLen(context.Background(), outbox.Stream(outbox.ShardOf(string(id)))).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *env) entryCount(t testing.TB, id AccountID) int64 {
	t.Helper()
	n, err := e.rdb.XLen(context.Background(), entriesKey(id)).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// mustVerify fails the test on any breach.
func (e *env) mustVerify(t testing.TB) {
	t.Helper()
	bs, err := e.l.Verify(context.Background())
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(bs) != 0 {
		t.Fatalf("verify: breaches %+v", bs)
	}
}

// usdt builds a deposit of raw base units of a 6-decimal USDT on ethereum.
func usdt(acct AccountID, tx string, index uint32, raw int64) Deposit {
	return Deposit{
		ID: "ethereum:" + tx + ":" + strconv.FormatUint(uint64(index), 10), Account: acct,
		Chain: "ethereum", Token: "USDT", Contract: "0xdAC17F958D2ee523a2206206994597C13D831ec7",
		TxID: tx, Index: index, Block: 17053184, BlockHash: "0x79ffaa28", To: "0x9e96e6f92d132a82ea8024682a633cc7d0f5c4c3",
		Raw: big.NewInt(raw), Decimals: 6, Rate: decimal.NewFromInt(1),
	}
}

func mustBig(t testing.TB, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("bad big %q", s)
	}
	return n
}
