package api

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/addressbook"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/settlement"
	"github.com/depositd/depositd/settlement/ledger"
	"github.com/depositd/depositd/watchers"
	"github.com/depositd/depositd/webhooks"
)

const (
	readTok  = "read-token-0123456789"
	writeTok = "write-token-0123456789"
	// secondTok is another operator with write scope: off-chain credits
	// above the threshold need two.
	secondTok = "second-token-0123456789"
	// creditThreshold is the off-chain approval threshold (USD).
	creditThreshold = "100"
)

// fullOptions wires every domain part over one private redis-server, with a
// read token (ops) and a read+write token (billing). Callers add what their
// test needs (a Gatherer, Chains) before New.
func fullOptions(t testing.TB) (Options, *ledger.Ledger, redis.UniversalClient) {
	t.Helper()
	rdb := redistest.NewClient(t)
	book, err := addressbook.New(rdb, addressbook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l := ledger.New(rdb, time.Now)
	disp, err := webhooks.NewDispatcher(rdb, nil, webhooks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := settlement.New(l, rdb, settlement.Config{OffchainApprovalAbove: money.Units(100_00000000)}, time.Now)
	return Options{
		Tokens: []Token{
			{Name: "ops", Secret: readTok, Scopes: []Scope{ScopeRead}},
			{Name: "billing", Secret: writeTok, Scopes: []Scope{ScopeRead, ScopeWrite}},
			{Name: "treasury", Secret: secondTok, Scopes: []Scope{ScopeRead, ScopeWrite}},
		},
		Ledger: l, Addresses: book, Deposits: watchers.NewDeposits(rdb),
		Settlement: svc, Credits: svc, Webhooks: disp,
	}, l, rdb
}
