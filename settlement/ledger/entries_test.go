package ledger

import (
	"context"
	"errors"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func TestEntriesPages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.open(t, "acme")
	for i := range 25 {
		e.clock.Add(time.Second)
		if _, err := e.l.Credit(ctx, usdt("acme", "0xp", uint32(i), 1_000000)); err != nil {
			t.Fatal(err)
		}
	}
	var all []Entry
	var sizes []int
	cursor := ""
	for {
		page, next, err := e.l.Entries(ctx, "acme", cursor, 10)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		sizes = append(sizes, len(page))
		if next == "" {
			break
		}
		cursor = next
	}
	if len(sizes) != 3 || sizes[0] != 10 || sizes[1] != 10 || sizes[2] != 6 {
		t.Fatalf("page sizes %v; want [10 10 6] (opening entry + 25 credits)", sizes)
	}
	if all[0].Kind != "account.open" {
		t.Fatalf("first entry %+v; want the opening entry", all[0])
	}
	for i, en := range all[1:] {
		if en.Kind != "deposit" || en.Meta["index"] != itoa(uint32(i)) || !en.At.Equal(newClock().Now().Add(time.Duration(i+1)*time.Second)) {
			t.Fatalf("entry %d: %+v", i+1, en)
		}
	}
	window, err := e.l.EntriesSince(ctx, "acme", time.Time{}, newClock().Now().Add(time.Hour))
	if err != nil || len(window) != len(all) {
		t.Fatalf("EntriesSince(all time) = %d entries, %v; want %d", len(window), err, len(all))
	}

	bad := []struct {
		name   string
		id     AccountID
		cursor string
		limit  int
		want   error
	}{
		{"missing account", "nobody", "", 10, ErrNotFound},
		{"invalid account", "a b", "", 10, errAny},
		{"zero limit", "acme", "", 0, errAny},
		{"limit above the maximum", "acme", "", MaxPage + 1, errAny},
		{"malformed cursor", "acme", "abc", 10, errAny},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := e.l.Entries(ctx, tt.id, tt.cursor, tt.limit)
			if err == nil || tt.want != errAny && !errors.Is(err, tt.want) {
				t.Fatalf("Entries = %v; want %v", err, tt.want)
			}
		})
	}
}

func TestEntriesSince(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	t0 := e.clock.Now()
	e.open(t, "acme") // entry at t0
	for i := 1; i <= 3; i++ {
		e.clock.Set(t0.Add(time.Duration(i) * time.Hour))
		if _, err := e.l.Credit(ctx, usdt("acme", "0xs", uint32(i), 1_000000)); err != nil {
			t.Fatal(err)
		}
	}
	// The clock steps back: the entry's ledger time stays non-decreasing.
	e.clock.Set(t0.Add(2 * time.Hour))
	if _, err := e.l.Credit(ctx, usdt("acme", "0xs", 4, 1_000000)); err != nil {
		t.Fatal(err)
	}
	h := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
	tests := []struct {
		name     string
		from, to time.Time
		want     []string // deposit indexes ("" for the opening entry)
	}{
		{"everything", h(0), h(4), []string{"", "1", "2", "3", "4"}},
		{"from is inclusive, to exclusive", h(1), h(3), []string{"1", "2"}},
		{"a nanosecond after an entry excludes it", h(1).Add(time.Nanosecond), h(3), []string{"2"}},
		{"a nanosecond after to includes the entry at to", h(1), h(3).Add(time.Nanosecond), []string{"1", "2", "3", "4"}},
		{"empty window", h(2), h(2), nil},
		{"reversed window", h(3), h(1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := e.l.EntriesSince(ctx, "acme", tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, en := range es {
				got = append(got, en.Meta["index"])
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %q; want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %q; want %q", got, tt.want)
				}
			}
		})
	}
	es, _ := e.l.EntriesSince(ctx, "acme", h(0), h(4))
	if last := es[len(es)-1]; !last.At.Equal(h(3)) {
		t.Fatalf("entry written with the clock stepped back has At %v; want %v", last.At, h(3))
	}
	if _, err := e.l.EntriesSince(ctx, "nobody", h(0), h(1)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("EntriesSince(nobody) = %v; want ErrNotFound", err)
	}
}

func TestDepositIDs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, a := range []AccountID{"a1", "a2"} {
		if err := e.l.CreateAccount(ctx, Account{ID: a}); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []struct {
		id, tx string
		index  uint32
		acc    AccountID
	}{{"tron:bb:0", "bb", 0, "a2"}, {"tron:aa:1", "aa", 1, "a1"}, {"tron:aa:0", "aa", 0, "a1"}} {
		dep := Deposit{ID: d.id, Account: d.acc, Chain: "tron", Token: "USDT", Contract: "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
			TxID: d.tx, Index: d.index, Block: 1, BlockHash: "00", To: "TL1mBABLk68nZwt92dgGc43p5uk1j3YtY9", Raw: big.NewInt(1_000_000), Decimals: 6, Rate: decimal.NewFromInt(1)}
		if _, err := e.l.Credit(ctx, dep); err != nil {
			t.Fatal(err)
		}
		if _, err := e.l.Credit(ctx, dep); err != nil { // a replay adds no entry
			t.Fatal(err)
		}
	}
	got, err := e.l.DepositIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"tron:aa:0", "tron:aa:1", "tron:bb:0"}; !slices.Equal(got, want) {
		t.Fatalf("DepositIDs = %v, want %v", got, want)
	}
}
