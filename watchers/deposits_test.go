package watchers

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/outbox"
)

func testMatch(account, tx string, block uint64, hash string) Match {
	return Match{Account: account, Transfer: chains.Transfer{
		Chain: "ethereum", Token: "USDT", Contract: "0xdac1", TxID: tx, Index: 3, Block: block,
		BlockHash: hash, From: "0xfrom", To: "0xto", Amount: big.NewInt(10_500_000), Decimals: 6,
	}}
}

// outboxTypes returns the event types in the account's outbox stream.
func outboxTypes(t *testing.T, rdb redis.UniversalClient, account string) []string {
	t.Helper()
	xs, err := rdb.XRange(context.Background(), outbox.Stream(outbox.ShardOf(account)), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, x := range xs {
		out = append(out, x.Values[outbox.FieldType].(string))
	}
	return out
}

func TestDepositTransitions(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.NewClient(t)
	s := NewDeposits(rdb)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	a := testMatch("acct-1", "0xaa", 10, "0xh10")
	b := testMatch("acct-1", "0xaa", 11, "0xh11") // the same tx re-included in block 11
	credited := func(m Match) Deposit {
		d := depositOf(m, StatusCredited, 12, 12, now)
		at := now.Add(time.Minute)
		d.CreditedAt = &at
		return d
	}
	steps := []struct {
		name       string
		op         op
		d          Deposit
		want       string
		wantStatus Status
		wantHash   string
		wantEvents int
	}{
		{"first seen announces", opSeen, depositOf(a, StatusSeen, 1, 12, now), "seen", StatusSeen, "0xh10", 1},
		{"same block again is silent", opSeen, depositOf(a, StatusSeen, 2, 12, now), "", StatusSeen, "0xh10", 1},
		{"confirmations update", opConf, depositOf(a, StatusSeen, 3, 12, now), "conf", StatusSeen, "0xh10", 1},
		{"same confirmations change nothing", opConf, depositOf(a, StatusSeen, 3, 12, now), "", StatusSeen, "0xh10", 1},
		{"orphan from another block is ignored", opOrphan, depositOf(b, StatusOrphaned, 0, 12, now), "", StatusSeen, "0xh10", 1},
		{"orphaned announces", opOrphan, depositOf(a, StatusOrphaned, 0, 12, now), "orphaned", StatusOrphaned, "0xh10", 2},
		{"orphaned again is silent", opOrphan, depositOf(a, StatusOrphaned, 0, 12, now), "", StatusOrphaned, "0xh10", 2},
		{"re-inclusion is seen again", opSeen, depositOf(b, StatusSeen, 1, 12, now), "seen", StatusSeen, "0xh11", 3},
		{"credited is silent here", opCredit, credited(b), "credited", StatusCredited, "0xh11", 3},
		{"credit again changes nothing", opCredit, credited(b), "", StatusCredited, "0xh11", 3},
		{"seen after credit changes nothing", opSeen, depositOf(b, StatusSeen, 1, 12, now), "", StatusCredited, "0xh11", 3},
		{"orphan of a credited deposit reverses", opOrphan, depositOf(b, StatusOrphaned, 0, 12, now), "reversed", StatusReversed, "0xh11", 4},
		{"reverse again is silent", opReverse, depositOf(b, StatusReversed, 0, 12, now), "", StatusReversed, "0xh11", 4},
		{"credit after reversal changes nothing", opCredit, credited(b), "", StatusReversed, "0xh11", 4},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got, err := s.write(ctx, 0, st.op, st.d, now)
			if err != nil {
				t.Fatal(err)
			}
			if got != st.want {
				t.Errorf("write = %q, want %q", got, st.want)
			}
			d, err := s.Get(ctx, a.Transfer.ID())
			if err != nil {
				t.Fatal(err)
			}
			if d.Status != st.wantStatus || d.BlockHash != st.wantHash {
				t.Errorf("record %s %s, want %s %s", d.Status, d.BlockHash, st.wantStatus, st.wantHash)
			}
			if ev := outboxTypes(t, rdb, "acct-1"); len(ev) != st.wantEvents {
				t.Errorf("events %v, want %d", ev, st.wantEvents)
			}
		})
	}
	t.Run("record has the product shape", func(t *testing.T) {
		d, err := s.Get(ctx, "ethereum:0xaa:3")
		if err != nil {
			t.Fatal(err)
		}
		if d.Amount != "10.5" || d.RawAmount != "10500000" || d.Block != 11 || d.Account != "acct-1" ||
			!d.SeenAt.Equal(now) || d.CreditedAt == nil || !d.CreditedAt.Equal(now.Add(time.Minute)) {
			t.Fatalf("record %+v", d)
		}
		want := []string{outbox.DepositSeen, outbox.DepositOrphaned, outbox.DepositSeen, outbox.DepositReversed}
		if got := outboxTypes(t, rdb, "acct-1"); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("events %v, want %v", got, want)
		}
	})
	t.Run("unknown id", func(t *testing.T) {
		if _, err := s.Get(ctx, "ethereum:0xnone:0"); !errors.Is(err, ErrNoDeposit) {
			t.Fatalf("err %v", err)
		}
	})
}

func TestDepositList(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.NewClient(t)
	s := NewDeposits(rdb)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	// 30 deposits over 5 accounts (several shards) and 2 chains; every third credited.
	for i := range 30 {
		m := testMatch(fmt.Sprintf("acct-%d", i%5), fmt.Sprintf("0x%02d", i), uint64(100+i), fmt.Sprintf("0xh%d", i))
		if i%2 == 1 {
			m.Transfer.Chain = "bsc"
		}
		op, st := opSeen, StatusSeen
		if i%3 == 0 {
			op, st = opCredit, StatusCredited
		}
		if _, err := s.write(ctx, 0, op, depositOf(m, st, 1, 12, now), now); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		f     Filter
		limit int
		want  int
	}{
		{"all", Filter{}, 7, 30},
		{"by status", Filter{Status: StatusCredited}, 3, 10},
		{"by chain", Filter{Chain: "bsc"}, 4, 15},
		{"by account", Filter{Account: "acct-2"}, 2, 6},
		{"by account and chain", Filter{Account: "acct-1", Chain: "bsc"}, 2, 3},
		{"status and chain", Filter{Status: StatusSeen, Chain: "ethereum"}, 100, 10},
		{"no match", Filter{Account: "nobody"}, 5, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]bool{}
			cursor, pages := "", 0
			var last uint64 = 1 << 62
			for {
				page, next, err := s.List(ctx, tc.f, cursor, tc.limit)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				if len(page) > tc.limit {
					t.Fatalf("page of %d, limit %d", len(page), tc.limit)
				}
				for _, d := range page {
					if seen[d.ID] {
						t.Fatalf("duplicate %s", d.ID)
					}
					seen[d.ID] = true
					if d.Block >= last {
						t.Fatalf("not newest first: %d after %d", d.Block, last)
					}
					last = d.Block
					if (tc.f.Status != "" && d.Status != tc.f.Status) || (tc.f.Chain != "" && d.Chain != tc.f.Chain) ||
						(tc.f.Account != "" && d.Account != tc.f.Account) {
						t.Fatalf("%+v does not match %+v", d, tc.f)
					}
				}
				if next == "" {
					break
				}
				cursor = next
				if pages > 40 {
					t.Fatal("pagination does not end")
				}
			}
			if len(seen) != tc.want {
				t.Fatalf("listed %d, want %d", len(seen), tc.want)
			}
		})
	}
	bad := []struct {
		name   string
		f      Filter
		cursor string
		want   error
	}{
		{"unknown status", Filter{Status: "final"}, "", ErrBadFilter},
		{"garbage cursor", Filter{}, "!!", ErrBadCursor},
		{"foreign cursor", Filter{}, "eHl6", ErrBadCursor},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := s.List(ctx, tc.f, tc.cursor, 10); !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
}

// TestDepositWriteMany: one pipeline moves several records, numbers new
// ones in order, is idempotent, and reloads a script the server forgot.
func TestDepositWriteMany(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.NewClient(t)
	s := NewDeposits(rdb)
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	var ds []Deposit
	for i, acct := range []string{"acct-1", "acct-2", "acct-3"} {
		d := depositOf(testMatch(acct, fmt.Sprintf("0x%02x", i), 10, "0xh10"), StatusCredited, 12, 12, now)
		d.CreditedAt = &now
		ds = append(ds, d)
	}
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for round, want := range []string{string(StatusCredited), ""} {
		res, err := s.writeMany(ctx, 0, opCredit, ds, now)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r != want {
				t.Fatalf("round %d deposit %d: %q, want %q", round, i, r, want)
			}
		}
	}
	var prev int64
	for _, d := range ds {
		got, err := s.Get(ctx, d.ID)
		if err != nil || got.Status != StatusCredited {
			t.Fatalf("%s: %+v, %v", d.ID, got, err)
		}
		tag := outbox.TagOf(d.Account)
		seq, err := rdb.HGet(ctx, tag+":deposit:"+d.ID, "seq").Int64()
		if err != nil || seq <= prev {
			t.Fatalf("%s: seq %d (%v) after %d: want ascending", d.ID, seq, err, prev)
		}
		prev = seq
	}
}
