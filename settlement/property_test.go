package settlement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"

	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/settlement/ledger"
)

// op is one action of a generated sequence, drawn before it runs so the
// same sequence can run twice: with crashes and without.
type op struct {
	kind     string
	account  string
	amount   string
	coupon   Coupon
	ttl      time.Duration
	discount Discount
	stmt     Statement
	wait     time.Duration
	crashes  []int // crash before the k-th ledger step of the op (crash run only)
	// In both runs alike: abandon > 0 crashes before that step with no
	// re-run (a dead daemon, its locks left to the timeout); fail cancels
	// the context at the first payment completion (a failed payment).
	abandon int
	fail    bool
}

var propAccounts = []string{"acct-a", "acct-b"}
var propServices = []string{"ecs", "evs", "obs"}

func drawUSD(t *rapid.T, label string, maxUnits int64) string {
	return money.Units(rapid.Int64Range(1, maxUnits).Draw(t, label)).String()
}

func drawOp(t *rapid.T, i int) op {
	o := op{kind: rapid.SampledFrom([]string{"deposit", "deposit", "coupon", "discount", "issue", "issue", "settle", "sweep", "clock"}).Draw(t, "kind"),
		account: rapid.SampledFrom(propAccounts).Draw(t, "account")}
	switch o.kind {
	case "deposit":
		o.amount = decimal.New(rapid.Int64Range(1, 80_000_000).Draw(t, "cents6"), -6).String()
	case "coupon":
		o.coupon = Coupon{ID: "c" + strconv.Itoa(i), Account: o.account, Balance: usd(drawUSD(t, "coupon", 50_00000000))}
		if rapid.Bool().Draw(t, "scoped") {
			o.coupon.Services = []string{rapid.SampledFrom(propServices).Draw(t, "cscope")}
		}
		o.ttl = time.Duration(rapid.IntRange(1, 40).Draw(t, "ttl_days")) * 24 * time.Hour
	case "discount":
		o.discount = Discount{ID: "d" + strconv.Itoa(i), Account: o.account,
			Kind: rapid.SampledFrom([]DiscountKind{Commercial, Partner, Promotional}).Draw(t, "dkind"),
			Rate: decimal.New(int64(rapid.IntRange(1, 60).Draw(t, "rate%")), -2)}
		if rapid.Bool().Draw(t, "dscoped") {
			o.discount.Services = []string{rapid.SampledFrom(propServices).Draw(t, "dscope")}
		}
	case "issue":
		o.stmt = Statement{ID: "s" + strconv.Itoa(i), Account: o.account, Month: "2026-10"}
		for j := range rapid.IntRange(1, 4).Draw(t, "lines") {
			l := Line{Service: rapid.SampledFrom(propServices).Draw(t, "service"), ResourceID: "r" + strconv.Itoa(j),
				Project: rapid.SampledFrom([]string{"web", "db"}).Draw(t, "project"), Official: usd(drawUSD(t, "official", 60_00000000)),
				ThirdParty: rapid.IntRange(0, 5).Draw(t, "third") == 0}
			if rapid.Bool().Draw(t, "history") {
				l.PromoHistory = []string{"d" + strconv.Itoa(rapid.IntRange(0, i).Draw(t, "promo"))}
			}
			o.stmt.Lines = append(o.stmt.Lines, l)
		}
	case "clock":
		o.wait = time.Duration(rapid.IntRange(1, 6*24).Draw(t, "hours")) * time.Hour
	}
	switch rapid.IntRange(0, 5).Draw(t, "fault") {
	case 0, 1:
		o.crashes = rapid.SliceOfN(rapid.IntRange(1, 8), 1, 2).Draw(t, "crashes")
	case 2:
		o.abandon = rapid.IntRange(1, 6).Draw(t, "abandon")
	case 3:
		o.fail = true
	}
	return o
}

// exec runs o on e; with crash set, it aborts the op before the ledger steps
// o.crashes names and re-runs it, as a restarted daemon would.
func exec(e *env, o op, crash bool) error {
	var f func() error
	switch o.kind {
	case "deposit":
		e.deposit(o.account, o.amount)
		f = func() error { _, err := e.s.SettleAccount(e.ctx, o.account); return err }
	case "coupon":
		c := o.coupon
		c.Expires = e.clk.Now().Add(o.ttl)
		f = func() error { return e.s.AddCoupon(e.ctx, c) }
	case "discount":
		return e.s.AddDiscount(e.ctx, o.discount)
	case "issue":
		f = func() error { _, err := e.s.IssueStatement(e.ctx, o.stmt); return err }
	case "settle":
		f = func() error { _, err := e.s.SettleAccount(e.ctx, o.account); return err }
	case "sweep":
		f = func() error {
			if _, err := e.s.SweepOverdue(e.ctx); err != nil {
				return err
			}
			_, err := e.s.SweepLocks(e.ctx)
			return err
		}
	case "clock":
		e.clk.Add(o.wait)
		return nil
	}
	switch {
	case o.abandon > 0:
		n := 0
		e.s.hook = func(string) error {
			if n++; n == o.abandon {
				return errCrash
			}
			return nil
		}
		defer func() { e.s.hook = nil }()
		if err := f(); err != nil && !isCrash(err) {
			return err
		}
		return nil
	case o.fail:
		ctx, cancel := context.WithCancel(e.ctx)
		defer cancel()
		e.s.hook = func(step string) error {
			if step == "complete" {
				cancel()
			}
			return nil
		}
		defer func() { e.s.hook = nil }()
		saved := e.ctx
		e.ctx = ctx
		err := f()
		e.ctx = saved
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	case crash:
		for _, k := range o.crashes {
			n := 0
			e.s.hook = func(string) error {
				if n++; n == k {
					return errCrash
				}
				return nil
			}
			err := f()
			e.s.hook = nil
			if err == nil {
				return nil // the op finished before the crash point
			}
			if !isCrash(err) {
				return err
			}
		}
	}
	return f()
}

// TestPropertySettlement runs random sequences of deposits, coupons,
// discounts, statements, settlements, sweeps and clock moves twice on real
// Redis: once with crashes between ledger steps followed by re-runs, once
// cleanly. Both must end in the same ledger, every invariant must hold, and
// ledger Verify must pass.
func TestPropertySettlement(t *testing.T) {
	srv := redistest.New(t)
	crashDB := srv.Client(t)
	cleanDB := redis.NewClient(&redis.Options{Addr: srv.Addr(), DB: 1})
	t.Cleanup(func() { cleanDB.Close() })
	maxOps := 30
	if testing.Short() {
		maxOps = 8
	}
	rapid.Check(t, func(rt *rapid.T) {
		for _, c := range []*redis.Client{crashDB, cleanDB} {
			if err := c.FlushDB(t.Context()).Err(); err != nil {
				rt.Fatal(err)
			}
		}
		ops := make([]op, rapid.IntRange(1, maxOps).Draw(rt, "ops"))
		for i := range ops {
			ops[i] = drawOp(rt, i)
		}
		var envs [2]*env
		for k, c := range []*redis.Client{crashDB, cleanDB} {
			e := newEnvOn(t, c, Config{LowBalance: []money.Units{usd("10"), usd("50")}})
			e.t = rt
			for _, a := range propAccounts {
				if err := e.l.CreateAccount(e.ctx, ledger.Account{ID: ledger.AccountID(a), CreditLimit: usd("25")}); err != nil {
					rt.Fatal(err)
				}
			}
			for i, o := range ops {
				if err := exec(e, o, k == 0); err != nil {
					rt.Fatalf("op %d %+v: %v", i, o, err)
				}
			}
			checkInvariants(rt, e)
			// Recovery of abandoned runs: past the lock timeout a sweep
			// returns every locked coupon amount.
			e.clk.Add(DefaultLockTimeout)
			if _, err := e.s.SweepLocks(e.ctx); err != nil {
				rt.Fatal(err)
			}
			checkInvariants(rt, e)
			if _, _, locked := lockedByStatements(rt, e); locked != 0 {
				rt.Fatalf("%s still locked after the lock sweep", locked)
			}
			envs[k] = e
		}
		compareLedgers(rt, envs[0], envs[1])
	})
}

// checkInvariants asserts the ledger audit and the statement invariants:
// paid = sum of payments = sum of line parts, states consistent, third-party
// lines unpaid, and every coupon's money accounted for (granted = balance +
// locked + spent) with no lock left behind.
func checkInvariants(t *rapid.T, e *env) {
	bs, err := e.l.Verify(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) > 0 {
		t.Fatalf("ledger breaches: %+v", bs)
	}
	for _, acct := range propAccounts {
		a := e.acct(acct)
		sts, err := e.s.Statements(e.ctx, Filter{Account: acct})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := e.rdb.HGetAll(e.ctx, abs(acct, payRecKey(acct))).Result()
		if err != nil {
			t.Fatal(err)
		}
		spent := map[string]money.Units{}
		var cashPaid, creditPaid, repaid money.Units
		perStmt := map[string]money.Units{}
		for _, v := range recs {
			var p Payment
			if err := json.Unmarshal([]byte(v), &p); err != nil {
				t.Fatal(err)
			}
			if p.Statement == "" { // a repayment record
				var r struct{ Cash money.Units }
				if err := json.Unmarshal([]byte(v), &r); err != nil {
					t.Fatal(err)
				}
				repaid += r.Cash
				continue
			}
			spent[p.CouponID] += p.Coupon
			cashPaid += p.Cash
			creditPaid += p.Credit
			perStmt[p.Statement] += p.Total()
		}
		for _, st := range sts {
			var lines money.Units
			for _, l := range st.Lines {
				if l.Paid < 0 || l.Paid > l.Amount || (l.ThirdParty && (l.Paid != 0 || l.Amount != 0)) {
					t.Fatalf("statement %s line %+v", st.ID, l)
				}
				lines += l.Paid
			}
			if lines != st.PaidTotal() || perStmt[st.ID] != st.PaidTotal() {
				t.Fatalf("statement %s: lines %s, records %s, paid %s", st.ID, lines, perStmt[st.ID], st.PaidTotal())
			}
			ok := map[Status]bool{
				Paid:          st.Due() == 0,
				Pending:       st.Due() > 0 && st.PaidTotal() == 0,
				PartiallyPaid: st.Due() > 0 && st.PaidTotal() > 0,
				Overdue:       st.Due() > 0 && !e.clk.Now().Before(st.DueAt),
			}[st.Status]
			if !ok {
				t.Fatalf("statement %s: state %s with due %s paid %s", st.ID, st.Status, st.Due(), st.PaidTotal())
			}
		}
		cs, err := e.s.Coupons(e.ctx, acct)
		if err != nil {
			t.Fatal(err)
		}
		locks, _, _ := lockedByStatements(t, e)
		for _, c := range cs {
			if c.Locked != locks[c.ID] || c.Balance < 0 || c.Granted != c.Balance+c.Locked+spent[c.ID] {
				t.Fatalf("coupon %s: granted %s, balance %s, locked %s, spent %s", c.ID, c.Granted, c.Balance, c.Locked, spent[c.ID])
			}
		}
		var deposits money.Units
		es, _, err := e.l.Entries(e.ctx, a.ID, "", ledger.MaxPage)
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range es {
			if en.Kind == "deposit" {
				deposits += cashDelta(en)
			}
		}
		if a.Cash != deposits-cashPaid-repaid || a.CreditUsed != creditPaid-repaid {
			t.Fatalf("%s: cash %s != %s - %s - %s, or credit used %s != %s - %s", acct, a.Cash, deposits, cashPaid, repaid, a.CreditUsed, creditPaid, repaid)
		}
	}
}

// compareLedgers requires the crash run and the clean run to end with the
// same books, the same entries (by idempotency key) and the same statements.
func compareLedgers(t *rapid.T, x, y *env) {
	for _, acct := range propAccounts {
		ax, ay := x.acct(acct), y.acct(acct)
		if !reflect.DeepEqual(ax.Books, ay.Books) {
			t.Fatalf("%s books differ:\ncrash %v\nclean %v", acct, ax.Books, ay.Books)
		}
		kx, ky := entryKeys(t, x, ax.ID), entryKeys(t, y, ay.ID)
		if !reflect.DeepEqual(kx, ky) {
			t.Fatalf("%s entries differ:\ncrash %v\nclean %v", acct, kx, ky)
		}
		sx, err := x.s.Statements(x.ctx, Filter{Account: acct})
		if err != nil {
			t.Fatal(err)
		}
		sy, err := y.s.Statements(y.ctx, Filter{Account: acct})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%+v", sx) != fmt.Sprintf("%+v", sy) {
			t.Fatalf("%s statements differ:\ncrash %+v\nclean %+v", acct, sx, sy)
		}
	}
}

func entryKeys(t *rapid.T, e *env, id ledger.AccountID) []string {
	es, _, err := e.l.Entries(e.ctx, id, "", ledger.MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, len(es))
	for i, en := range es {
		keys[i] = en.Key
	}
	return keys
}

// lockedByStatements sums the coupon locks the statements hold, by coupon.
func lockedByStatements(t *rapid.T, e *env) (map[string]money.Units, int, money.Units) {
	refs, err := e.s.allStatements(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	locks := map[string]money.Units{}
	n, total := 0, money.Units(0)
	for _, r := range refs {
		st, err := readStatement(e.ctx, e.rdb, r.account, r.id)
		if err != nil {
			t.Fatal(err)
		}
		if st.Lock != nil {
			locks[st.Lock.Coupon] += st.Lock.Amount
			n++
			total += st.Lock.Amount
		}
	}
	return locks, n, total
}
