package settlement

import (
	"bytes"
	"encoding/csv"
	"errors"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/outbox"
)

func btcCredit(id, account, amount, by string) OffchainCredit {
	return OffchainCredit{ID: id, Account: account, Amount: usd(amount), Asset: "BTC",
		AssetAmount: decimal.RequireFromString("0.0125"), Method: "exchange_transfer",
		ProofRef: "binance-internal-" + id, EnteredBy: by}
}

func TestOffchainCreditApproval(t *testing.T) {
	e := newEnv(t, Config{OffchainApprovalAbove: usd("1000")})
	e.account("acme", "0", "")
	e.issue(newStatement("acme-2026-10", "acme", Line{Service: "ECS", ResourceID: "i-1", Official: usd("1200")}))

	t.Run("below threshold applies at once", func(t *testing.T) {
		c, err := e.s.RecordCredit(e.ctx, btcCredit("c1", "acme", "1000", "alice"))
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != CreditApplied || c.NeedsSecond || c.ApprovedBy != "" || c.EntryID == "" {
			t.Fatalf("got %+v, want applied by one operator with an entry", c)
		}
		// It triggered settlement: the statement took all 1000.
		if st := e.stmt("acme-2026-10"); st.Status != PartiallyPaid || st.Cash != usd("1000") {
			t.Fatalf("statement %s cash %s, want partially_paid 1000", st.Status, st.Cash)
		}
	})
	t.Run("duplicate record returns the stored credit", func(t *testing.T) {
		c, err := e.s.RecordCredit(e.ctx, btcCredit("c1", "acme", "1000", "alice"))
		if err != nil || c.Status != CreditApplied {
			t.Fatalf("replay: %+v, %v", c, err)
		}
		if got := e.acct("acme").Cash; got != 0 {
			t.Fatalf("cash %s after replay, want 0 (nothing credited twice)", got)
		}
		if _, err := e.s.RecordCredit(e.ctx, btcCredit("c1", "acme", "999", "alice")); !errors.Is(err, ErrExists) {
			t.Fatalf("same id, other amount: %v, want ErrExists", err)
		}
		e.account("other", "0", "")
		if _, err := e.s.RecordCredit(e.ctx, btcCredit("c1", "other", "1000", "alice")); !errors.Is(err, ErrExists) {
			t.Fatalf("same id, other account: %v, want ErrExists", err)
		}
	})
	t.Run("above threshold waits for a second operator", func(t *testing.T) {
		c, err := e.s.RecordCredit(e.ctx, btcCredit("c2", "acme", "1000.00000001", "alice"))
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != CreditPending || !c.NeedsSecond {
			t.Fatalf("got %+v, want pending_approval", c)
		}
		if got := e.acct("acme").Cash; got != 0 {
			t.Fatalf("cash %s before approval, want 0", got)
		}
		if _, err := e.s.ApproveCredit(e.ctx, "c2", "alice"); !errors.Is(err, ErrSameOperator) {
			t.Fatalf("self-approval: %v, want ErrSameOperator", err)
		}
		c, err = e.s.ApproveCredit(e.ctx, "c2", "bob")
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != CreditApplied || c.ApprovedBy != "bob" || c.EnteredBy != "alice" {
			t.Fatalf("got %+v, want applied, entered by alice, approved by bob", c)
		}
		if st := e.stmt("acme-2026-10"); st.Status != Paid {
			t.Fatalf("statement %s, want paid", st.Status)
		}
		if got := e.acct("acme").Cash; got != usd("800.00000001") {
			t.Fatalf("cash %s, want 800.00000001", got)
		}
		again, err := e.s.ApproveCredit(e.ctx, "c2", "carol")
		if err != nil || again.ApprovedBy != "bob" {
			t.Fatalf("second approval: %+v, %v; want the stored approval", again, err)
		}
		if _, err := e.s.RejectCredit(e.ctx, "c2", "carol", "late"); !errors.Is(err, ErrState) {
			t.Fatalf("reject applied: %v, want ErrState", err)
		}
		if got := e.acct("acme").Cash; got != usd("800.00000001") {
			t.Fatalf("cash %s after a second approval, want unchanged", got)
		}
	})
	t.Run("rejected credit moves nothing", func(t *testing.T) {
		if _, err := e.s.RecordCredit(e.ctx, btcCredit("c3", "acme", "5000", "alice")); err != nil {
			t.Fatal(err)
		}
		c, err := e.s.RejectCredit(e.ctx, "c3", "bob", "no such transfer at the exchange")
		if err != nil || c.Status != CreditRejected || c.RejectedBy != "bob" {
			t.Fatalf("reject: %+v, %v", c, err)
		}
		if _, err := e.s.ApproveCredit(e.ctx, "c3", "carol"); !errors.Is(err, ErrState) {
			t.Fatalf("approve rejected: %v, want ErrState", err)
		}
		if again, err := e.s.RejectCredit(e.ctx, "c3", "bob", "no such transfer at the exchange"); err != nil || again.Status != CreditRejected {
			t.Fatalf("reject again: %+v, %v", again, err)
		}
		if got := e.acct("acme").Cash; got != usd("800.00000001") {
			t.Fatalf("cash %s, want unchanged by a rejected credit", got)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for name, c := range map[string]OffchainCredit{
			"no proof":     {ID: "x1", Account: "acme", Amount: usd("1"), EnteredBy: "alice"},
			"zero amount":  {ID: "x2", Account: "acme", ProofRef: "p", EnteredBy: "alice"},
			"no operator":  {ID: "x3", Account: "acme", Amount: usd("1"), ProofRef: "p"},
			"bad id":       {ID: "x 4", Account: "acme", Amount: usd("1"), ProofRef: "p", EnteredBy: "alice"},
			"asset amount": {ID: "x5", Account: "acme", Amount: usd("1"), ProofRef: "p", EnteredBy: "alice", AssetAmount: decimal.NewFromInt(1)},
		} {
			if _, err := e.s.RecordCredit(e.ctx, c); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", name, err)
			}
		}
		if _, err := e.s.RecordCredit(e.ctx, btcCredit("x6", "nobody", "1", "alice")); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown account: %v, want ErrNotFound", err)
		}
		if _, err := e.s.ApproveCredit(e.ctx, "missing", "bob"); !errors.Is(err, ErrNotFound) {
			t.Errorf("approve unknown: %v, want ErrNotFound", err)
		}
	})
	t.Run("list and events", func(t *testing.T) {
		all, err := e.s.Credits(e.ctx, CreditFilter{Account: "acme"})
		if err != nil || len(all) != 3 {
			t.Fatalf("credits: %d, %v; want 3", len(all), err)
		}
		pending, err := e.s.Credits(e.ctx, CreditFilter{Status: CreditRejected})
		if err != nil || len(pending) != 1 || pending[0].ID != "c3" {
			t.Fatalf("rejected: %+v, %v", pending, err)
		}
		evs := e.events("acme", outbox.CreditRecorded)
		if len(evs) != 2 {
			t.Fatalf("%d credit.recorded events, want 2 (c1, c2)", len(evs))
		}
		if evs[1]["id"] != "c2" || evs[1]["proof_ref"] != "binance-internal-c2" || evs[1]["approved_by"] != "bob" || evs[1]["usd"] != "1000.00000001" {
			t.Fatalf("event %v", evs[1])
		}
	})
	t.Run("reconciliation shows the proof reference", func(t *testing.T) {
		r, err := e.s.Reconcile(e.ctx, "2026-11", "acme", "")
		if err != nil {
			t.Fatal(err)
		}
		if !r.Balanced() || r.Credited != usd("2000.00000001") || r.Closing != usd("800.00000001") {
			t.Fatalf("report opening %s credited %s paid %s closing %s", r.Opening, r.Credited, r.Paid, r.Closing)
		}
		var off []DepositRow
		for _, d := range r.Deposits {
			if d.Source == "offchain" {
				off = append(off, d)
			}
		}
		if len(off) != 2 || off[1].ProofRef != "binance-internal-c2" || off[1].EnteredBy != "alice" || off[1].ApprovedBy != "bob" ||
			off[1].Token != "BTC" || off[1].Amount != "0.0125" || off[1].DepositID != "c2" {
			t.Fatalf("off-chain rows %+v", off)
		}
		var buf bytes.Buffer
		if err := r.CSV(&buf); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		found := false
		for _, rec := range recs[1:] {
			if rec[col["deposit_id"]] == "c2" {
				found = rec[col["proof_ref"]] == "binance-internal-c2" && rec[col["source"]] == "offchain" && rec[col["credited_usd"]] == "1000.00000001"
			}
		}
		if !found {
			t.Fatalf("CSV has no off-chain row for c2 with its proof ref:\n%s", buf.String())
		}
	})
	e.verify()
}

// TestOffchainCreditRace has two operators approve and a third reject the
// same pending credit at once: exactly one decision stands and the money
// moves at most once.
func TestOffchainCreditRace(t *testing.T) {
	e := newEnv(t, Config{})
	e.account("acme", "0", "")
	for round := range 5 {
		id := "race" + string(rune('a'+round))
		if _, err := e.s.RecordCredit(e.ctx, btcCredit(id, "acme", "10", "alice")); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for _, op := range []string{"bob", "carol", "dave"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if op == "dave" {
					_, _ = e.s.RejectCredit(e.ctx, id, op, "race")
					return
				}
				_, _ = e.s.ApproveCredit(e.ctx, id, op)
			}()
		}
		wg.Wait()
		c, err := e.s.Credit(e.ctx, id)
		if err != nil || c.Status == CreditPending {
			t.Fatalf("%s: %+v, %v; want decided", id, c, err)
		}
	}
	applied, err := e.s.Credits(e.ctx, CreditFilter{Status: CreditApplied})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := e.acct("acme").Cash, usd("10")*money.Units(len(applied)); got != want {
		t.Fatalf("cash %s, want %s for %d applied credits", got, want, len(applied))
	}
	e.verify()
}

// TestOffchainCreditCrash crashes a recording before its ledger step and
// then between applying and settling; retrying the same request ends where
// an uninterrupted one ends, with the money credited once.
func TestOffchainCreditCrash(t *testing.T) {
	e := newEnv(t, Config{OffchainApprovalAbove: usd("100")})
	e.account("acme", "0", "")
	e.issue(newStatement("s1", "acme", Line{Service: "OBS", ResourceID: "b-1", Official: usd("30")}))
	crashAt := "credit.apply"
	e.s.hook = func(step string) error {
		if step == crashAt {
			return errCrash
		}
		return nil
	}
	if _, err := e.s.RecordCredit(e.ctx, btcCredit("k1", "acme", "50", "alice")); !isCrash(err) {
		t.Fatalf("first attempt: %v, want the crash", err)
	}
	if c, err := e.s.Credit(e.ctx, "k1"); err != nil || c.Status != CreditPending {
		t.Fatalf("after the crash: %+v, %v; want recorded, pending", c, err)
	}
	crashAt = "complete" // the statement payment step
	c, err := e.s.RecordCredit(e.ctx, btcCredit("k1", "acme", "50", "alice"))
	if err != nil || c.Status != CreditApplied || c.SettleError == "" {
		t.Fatalf("second attempt: %+v, %v; want applied with a settle error", c, err)
	}
	if st := e.stmt("s1"); st.Status != Pending {
		t.Fatalf("statement %s, want still pending", st.Status)
	}
	e.s.hook = nil
	c, err = e.s.RecordCredit(e.ctx, btcCredit("k1", "acme", "50", "alice"))
	if err != nil || c.Status != CreditApplied || c.SettleError != "" {
		t.Fatalf("retry: %+v, %v", c, err)
	}
	if st := e.stmt("s1"); st.Status != Paid {
		t.Fatalf("statement %s, want paid", st.Status)
	}
	if got := e.acct("acme").Cash; got != usd("20") {
		t.Fatalf("cash %s, want 20 (50 credited once, 30 paid)", got)
	}
	e.verify()
}
