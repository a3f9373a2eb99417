package ledger

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/depositd/depositd/money"
)

func TestParseAccountID(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"simple", "acme", true},
		{"all classes", "Acme_01.eu-west", true},
		{"max length", strings.Repeat("a", 64), true},
		{"empty", "", false},
		{"too long", strings.Repeat("a", 65), false},
		{"space", "ac me", false},
		{"brace would break the hash tag", "{s01}", false},
		{"pipe would break idempotency records", "a|b", false},
		{"slash", "a/b", false},
		{"non ascii", "açme", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := ParseAccountID(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseAccountID(%q) = %q, %v; want ok=%v", tt.in, id, err, tt.ok)
			}
			if tt.ok && string(id) != tt.in {
				t.Fatalf("ParseAccountID(%q) = %q", tt.in, id)
			}
		})
	}
}

func TestCreateAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	created := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	if err := e.l.CreateAccount(ctx, Account{ID: "master", Name: "Acme Group", CreatedAt: created, CreditLimit: 500_00000000}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   Account
		want error // nil, a sentinel, or errAny
	}{
		{"member of an existing master", Account{ID: "member", Name: "Acme EU", Master: "master"}, nil},
		{"taken id", Account{ID: "master"}, ErrExists},
		{"missing master", Account{ID: "orphan", Master: "nobody"}, ErrNotFound},
		{"own master", Account{ID: "self", Master: "self"}, errAny},
		{"invalid id", Account{ID: "a b"}, errAny},
		{"invalid master id", Account{ID: "m2", Master: "x y"}, errAny},
		{"opening cash", Account{ID: "rich", Cash: 1}, errAny},
		{"opening coupon book", Account{ID: "rich2", Books: map[string]money.Units{"coupon:c1": 5}}, errAny},
		{"negative limit", Account{ID: "neg", CreditLimit: -1}, errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.l.CreateAccount(ctx, tt.in)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("CreateAccount: %v", err)
			case tt.want == errAny && err == nil:
				t.Fatal("CreateAccount succeeded; want an error")
			case tt.want != nil && tt.want != errAny && !errors.Is(err, tt.want):
				t.Fatalf("CreateAccount: %v; want %v", err, tt.want)
			}
			if tt.want != nil && tt.want != ErrExists {
				if _, err := e.l.Account(ctx, tt.in.ID); err == nil {
					t.Fatalf("rejected account %q is readable: %v", tt.in.ID, err)
				}
			}
		})
	}

	got := e.account(t, "master")
	want := Account{ID: "master", Name: "Acme Group", CreatedAt: created, CreditLimit: 500_00000000,
		Books: map[string]money.Units{"cash": 0, "credit": 0}, Version: 1}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Account = %+v\nwant %+v", got, want)
	}
	if m := e.account(t, "member"); m.Master != "master" || !m.CreatedAt.Equal(e.clock.Now()) {
		t.Fatalf("member = %+v; want master and the clock's time", m)
	}
	ids, err := e.l.Accounts(ctx)
	if err != nil || !reflect.DeepEqual(ids, []AccountID{"master", "member"}) {
		t.Fatalf("Accounts = %v, %v", ids, err)
	}
	es, _, err := e.l.Entries(ctx, "master", "", 10)
	if err != nil || len(es) != 1 || es[0].Kind != "account.open" || es[0].Meta["credit_limit"] != "500.00000000" {
		t.Fatalf("opening entries = %+v, %v", es, err)
	}
	if _, err := e.l.Account(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Account(nobody) = %v; want ErrNotFound", err)
	}
	e.mustVerify(t)
}

// errAny marks a table case that must fail without a specific sentinel.
var errAny = errors.New("any error")

func TestSetCreditLimit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.open(t, "acme")
	if err := e.l.SetCreditLimit(ctx, "acme", 100_00000000); err != nil {
		t.Fatal(err)
	}
	// Use 60 of credit, then try to cut the limit below it.
	spend := Txn{Key: "pay:s1:1", Fingerprint: "60", Account: "acme", Kind: "payment", Postings: []Posting{
		{Book: "credit", Delta: -60_00000000, Floor: FloorCreditLimit},
		{Book: "sys:receivable", Delta: 60_00000000},
	}}
	if _, err := e.l.Apply(ctx, spend); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		id    AccountID
		limit money.Units
		want  error
		after money.Units
	}{
		{"raise", "acme", 200_00000000, nil, 200_00000000},
		{"equal to used", "acme", 60_00000000, nil, 60_00000000},
		{"below used", "acme", 59_99999999, ErrInsufficient, 60_00000000},
		{"negative", "acme", -1, errAny, 60_00000000},
		{"missing account", "nobody", 1, ErrNotFound, 60_00000000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.l.SetCreditLimit(ctx, tt.id, tt.limit)
			if tt.want == nil && err != nil || tt.want != nil && err == nil ||
				tt.want != nil && tt.want != errAny && !errors.Is(err, tt.want) {
				t.Fatalf("SetCreditLimit(%s) = %v; want %v", tt.limit, err, tt.want)
			}
			if a := e.account(t, "acme"); a.CreditLimit != tt.after || a.CreditUsed != 60_00000000 {
				t.Fatalf("limit %s used %s; want %s and 60", a.CreditLimit, a.CreditUsed, tt.after)
			}
		})
	}
	es, _, err := e.l.Entries(ctx, "acme", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var audit []string
	for _, en := range es {
		if en.Kind == "credit.limit" {
			audit = append(audit, en.Meta["previous"]+"->"+en.Meta["credit_limit"])
		}
	}
	want := []string{"0->100.00000000", "10000000000->200.00000000", "20000000000->60.00000000"}
	if !reflect.DeepEqual(audit, want) {
		t.Fatalf("audit entries %v; want %v", audit, want)
	}
	e.mustVerify(t)
}

func TestSetCreditLimitConcurrent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.open(t, "acme")
	errs := make(chan error, 4)
	for i := 1; i <= 4; i++ {
		go func() { errs <- e.l.SetCreditLimit(ctx, "acme", money.Units(i)*1_00000000) }()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent SetCreditLimit: %v", err)
		}
	}
	if a := e.account(t, "acme"); a.Version != 5 {
		t.Fatalf("version %d after 4 limit changes; want 5", a.Version)
	}
	e.mustVerify(t)
}
