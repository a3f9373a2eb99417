package settlement

import (
	"context"
	"encoding/json"
	"errors"
	"math/big"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/outbox"
	"github.com/depositd/depositd/settlement/ledger"
)

// clock is the injected time of a test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// tb is the part of testing.TB (and *rapid.T) the helpers use.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
}

// env is one test's real Redis, ledger and service.
type env struct {
	t   tb
	ctx context.Context
	rdb redis.UniversalClient
	l   *ledger.Ledger
	s   *Service
	clk *clock
	dep int
}

func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	return newEnvOn(t, redistest.NewClient(t), cfg)
}

func newEnvOn(t testing.TB, rdb redis.UniversalClient, cfg Config) *env {
	clk := &clock{t: time.Date(2026, 11, 1, 0, 0, 0, 0, DefaultLocation)}
	l := ledger.New(rdb, clk.Now)
	return &env{t: t, ctx: context.Background(), rdb: rdb, l: l, s: New(l, rdb, cfg, clk.Now), clk: clk}
}

func (e *env) account(id string, limit string, master string) {
	e.t.Helper()
	if err := e.l.CreateAccount(e.ctx, ledger.Account{ID: ledger.AccountID(id), CreditLimit: usd(limit), Master: ledger.AccountID(master)}); err != nil {
		e.t.Fatal(err)
	}
}

// deposit credits amount USDT (6 dp) to account through the ledger, as the
// watcher would, and returns the credit.
func (e *env) deposit(account, amount string) ledger.Credit {
	e.t.Helper()
	e.dep++
	raw := decimal.RequireFromString(amount).Shift(6).BigInt()
	tx := "0x" + strconv.Itoa(1000+e.dep)
	c, err := e.l.Credit(e.ctx, ledger.Deposit{ID: "ethereum:" + tx + ":0", Account: ledger.AccountID(account), Chain: "ethereum", Token: "USDT",
		Contract: "0xdAC17F958D2ee523a2206206994597C13D831ec7", TxID: tx, Block: uint64(100 + e.dep), BlockHash: "0xb",
		To: "0x9e96e6f92d132a82ea8024682a633cc7d0f5c4c3", Raw: new(big.Int).Set(raw), Decimals: 6, Rate: decimal.NewFromInt(1)})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) acct(id string) ledger.Account {
	e.t.Helper()
	a, err := e.l.Account(e.ctx, ledger.AccountID(id))
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) stmt(id string) Statement {
	e.t.Helper()
	st, err := e.s.Statement(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

// verify runs the ledger audit and fails the test on any breach.
func (e *env) verify() {
	e.t.Helper()
	bs, err := e.l.Verify(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, b := range bs {
		e.t.Errorf("ledger breach %s: %s", b.Invariant, b.Detail)
	}
}

// events returns the outbox events of account's shard, of type typ if set.
func (e *env) events(account, typ string) []map[string]any {
	e.t.Helper()
	msgs, err := e.rdb.XRange(e.ctx, outbox.Stream(outbox.ShardOf(account)), "-", "+").Result()
	if err != nil {
		e.t.Fatal(err)
	}
	var out []map[string]any
	for _, m := range msgs {
		if typ != "" && m.Values[outbox.FieldType] != typ {
			continue
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(m.Values[outbox.FieldData].(string)), &d); err != nil {
			e.t.Fatal(err)
		}
		d["_type"] = m.Values[outbox.FieldType]
		d["_id"] = m.Values[outbox.FieldID]
		out = append(out, d)
	}
	return out
}

func (e *env) issue(st Statement) Statement {
	e.t.Helper()
	got, err := e.s.IssueStatement(e.ctx, st)
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

func newStatement(id, account string, lines ...Line) Statement {
	return Statement{ID: id, Account: account, Month: "2026-10", Lines: lines}
}

func books(a ledger.Account, names ...string) []money.Units {
	out := make([]money.Units, len(names))
	for i, n := range names {
		out[i] = a.Books[n]
	}
	return out
}

func isCrash(err error) bool { return errors.Is(err, errCrash) }
