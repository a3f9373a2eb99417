package huawei

import (
	"context"
	"errors"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/billing/huawei/huaweitest"
	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/internal/ledgercredit"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/outbox"
	"github.com/depositd/depositd/settlement"
	"github.com/depositd/depositd/settlement/ledger"
)

const (
	custAcme   = "5f3e9a0c1b2d4e6f8a9b0c1d2e3f4a5b"
	custGlobex = "7c6b5a493827160f5e4d3c2b1a098f7e"
	custOther  = "00000000000000000000000000000001"
)

// env is a real redis-server, ledger and settlement service, the local
// partner billing API and an importer using the SDK client against it.
type env struct {
	t       *testing.T
	ctx     context.Context
	rdb     *redis.Client
	l       *ledger.Ledger
	svc     *settlement.Service
	api     *huaweitest.Server
	client  *Client
	im      *Importer
	metrics *Metrics
	credit  *ledgercredit.Crediter
	tx      int
}

func newEnv(t *testing.T) *env {
	t.Helper()
	rdb := redistest.New(t).Client(t)
	l := ledger.New(rdb, time.Now)
	svc := settlement.New(l, rdb, settlement.Config{}, time.Now)
	api := huaweitest.New()
	t.Cleanup(api.Close)
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	client, err := NewClient(ClientOptions{Endpoint: api.URL, DomainID: "partner-domain", AK: "AKTEST", SK: "sktest",
		PageSize: 2, Timeout: 10 * time.Second, BackoffBase: 5 * time.Millisecond, BackoffMax: 20 * time.Millisecond, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: context.Background(), rdb: rdb, l: l, svc: svc, api: api, client: client, metrics: m,
		credit: &ledgercredit.Crediter{Ledger: l, Rate: ledgercredit.OneUSD}}
	e.im = NewImporter(client, svc, Options{Customers: []Customer{{ID: custAcme, Account: "acme"}, {ID: custGlobex, Account: "globex"}}, Metrics: m})
	for _, a := range []string{"acme", "globex"} {
		if err := l.CreateAccount(e.ctx, ledger.Account{ID: ledger.AccountID(a)}); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// deposit credits usd USDT to account and settles it, as the daemon does.
func (e *env) deposit(account, usd string) {
	e.t.Helper()
	e.tx++
	raw, _ := new(big.Int).SetString(strings.ReplaceAll(usd, ".", ""), 10)
	dec := int32(0)
	if i := strings.IndexByte(usd, '.'); i >= 0 {
		dec = int32(len(usd) - i - 1)
	}
	tr := chains.Transfer{Chain: "tron", Token: "USDT", Contract: "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", TxID: "tx" + strconv.Itoa(e.tx),
		Block: uint64(e.tx), BlockHash: "bh", To: "TAddr", Amount: raw, Decimals: dec}
	if err := e.credit.Credit(e.ctx, tr, account); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.svc.SettleAccount(e.ctx, account); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) bills() {
	// September: acme has an ECS VM over two records (a renewal and a
	// change) with a Huawei discount, and OBS storage; globex one RDS.
	e.api.SetBill("2026-09", custAcme,
		huaweitest.Record{Service: "hws.service.type.ec2", ServiceName: "ECS", ResourceID: "vm-1", Region: "ap-southeast-1", ChargingMode: 1, Official: "100", Discount: "20", Payment: "80"},
		huaweitest.Record{Service: "hws.service.type.ec2", ServiceName: "ECS", ResourceID: "vm-1", Region: "ap-southeast-1", ChargingMode: 1, Official: "10", Discount: "2", Payment: "8"},
		huaweitest.Record{Service: "hws.service.type.obs", ServiceName: "OBS", ResourceID: "bucket-a", Region: "ap-southeast-3", ChargingMode: 3, Official: "3.12345678", Payment: "3.12345678"},
		huaweitest.Record{Service: "hws.service.type.obs", ServiceName: "OBS", ResourceID: "bucket-b", Region: "ap-southeast-3", ChargingMode: 3, Official: "0.5", Payment: "0.5"},
		huaweitest.Record{Service: "hws.service.type.ebs", ServiceName: "EVS", ResourceID: "disk-1", Region: "ap-southeast-1", ChargingMode: 3, Official: "12", Payment: "12"},
	)
	e.api.SetBill("2026-09", custGlobex,
		huaweitest.Record{Service: "hws.service.type.rds", ServiceName: "RDS", ResourceID: "db-1", Region: "ap-southeast-1", ChargingMode: 1, Official: "50", Discount: "5", Payment: "45"})
	// A sub-customer nobody mapped: reported, not imported.
	e.api.SetBill("2026-09", custOther,
		huaweitest.Record{Service: "hws.service.type.ec2", ResourceID: "vm-9", Region: "ap-southeast-1", ChargingMode: 3, Official: "1", Payment: "1"})
	e.api.SetBill("2026-10", custAcme,
		huaweitest.Record{Service: "hws.service.type.ec2", ServiceName: "ECS", ResourceID: "vm-1", Region: "ap-southeast-1", ChargingMode: 1, Official: "100", Discount: "20", Payment: "80"},
		huaweitest.Record{Service: "hws.service.type.obs", ServiceName: "OBS", ResourceID: "bucket-a", Region: "ap-southeast-3", ChargingMode: 3, Official: "4", Payment: "4"},
	)
	e.api.SetBill("2026-10", custGlobex,
		huaweitest.Record{Service: "hws.service.type.rds", ServiceName: "RDS", ResourceID: "db-1", Region: "ap-southeast-1", ChargingMode: 1, Official: "50", Discount: "5", Payment: "45"},
		huaweitest.Record{Service: "hws.service.type.rds", ServiceName: "RDS", ResourceID: "db-1", Region: "ap-southeast-1", ChargingMode: 4, Official: "0", Payment: "0"},
	)
}

// snapshot is everything an import may change: every account's entries
// and every outbox stream's length.
func (e *env) snapshot() map[string]int64 {
	e.t.Helper()
	out := map[string]int64{}
	for _, a := range []string{"acme", "globex"} {
		n, err := e.rdb.XLen(e.ctx, outbox.TagOf(a)+":ent:"+a).Result()
		if err != nil {
			e.t.Fatal(err)
		}
		out["entries:"+a] = n
	}
	for _, s := range outbox.Streams() {
		n, err := e.rdb.XLen(e.ctx, s).Result()
		if err != nil {
			e.t.Fatal(err)
		}
		out[s] = n
	}
	return out
}

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

func usd(s string) money.Units {
	u, err := money.ParseUSD(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestImportTwoMonths imports September and October for two customers
// over the paged local API (page size 2), with throttling on the way, pays
// the statements from deposits, then re-runs both months: nothing changes.
func TestImportTwoMonths(t *testing.T) {
	e := newEnv(t)
	e.bills()
	e.deposit("acme", "100")
	e.deposit("globex", "20")

	e.api.Throttle(3)
	res, err := e.im.Import(e.ctx, "2026-09")
	if err != nil {
		t.Fatal(err)
	}
	if res.Accounts["acme"] != resultIssued || res.Accounts["globex"] != resultIssued || len(res.Unmapped) != 1 || res.Unmapped[0] != custOther {
		t.Fatalf("September: %+v", res)
	}
	if got := testutil.ToFloat64(e.metrics.requests.WithLabelValues("monthly_sum", "throttled")); got != 3 {
		t.Errorf("throttled requests %v, want 3 (retried with backoff)", got)
	}
	acme := e.stmt(StatementID("acme", "2026-09"))
	wantLines := []struct {
		service, resource, project, official, note string
	}{
		{"hws.service.type.ebs", "disk-1", "ap-southeast-1", "12.00000000", "huawei official 12.00000000"},
		{"hws.service.type.ec2", "vm-1", "ap-southeast-1", "88.00000000", "huawei official 110.00000000, huawei discount 22.00000000 already applied"},
		{"hws.service.type.obs", "bucket-a", "ap-southeast-3", "3.12345678", "huawei official 3.12345678"},
		{"hws.service.type.obs", "bucket-b", "ap-southeast-3", "0.50000000", "huawei official 0.50000000"},
	}
	if len(acme.Lines) != len(wantLines) {
		t.Fatalf("acme September lines: %+v", acme.Lines)
	}
	for i, w := range wantLines {
		l := acme.Lines[i]
		if l.Service != w.service || l.ResourceID != w.resource || l.Project != w.project || l.Official.String() != w.official || l.Note != w.note {
			t.Errorf("line %d: %+v, want %+v", i+1, l, w)
		}
	}
	// 103.62345678 due; the 100 deposit pays what it can.
	if acme.Amount() != usd("103.62345678") || acme.Status != settlement.PartiallyPaid || acme.Cash != usd("100") {
		t.Fatalf("acme September: amount %s status %s cash %s", acme.Amount(), acme.Status, acme.Cash)
	}
	if g := e.stmt(StatementID("globex", "2026-09")); g.Amount() != usd("45") || g.Cash != usd("20") {
		t.Fatalf("globex September: amount %s cash %s", g.Amount(), g.Cash)
	}

	if _, err := e.im.Import(e.ctx, "2026-10"); err != nil {
		t.Fatal(err)
	}
	// Deposits after the import pay the oldest statement first.
	e.deposit("acme", "50")
	e.deposit("globex", "100")
	for id, want := range map[string]settlement.Status{
		StatementID("acme", "2026-09"): settlement.Paid, StatementID("acme", "2026-10"): settlement.PartiallyPaid,
		StatementID("globex", "2026-09"): settlement.Paid, StatementID("globex", "2026-10"): settlement.Paid,
	} {
		if st := e.stmt(id); st.Status != want {
			t.Errorf("%s: %s (due %s), want %s", id, st.Status, st.Due(), want)
		}
	}
	if a, _ := e.l.Account(e.ctx, "acme"); a.Cash != 0 {
		t.Errorf("acme cash %s, want 0 (all paid into October)", a.Cash)
	}
	if st := e.stmt(StatementID("acme", "2026-10")); st.Due() != usd("37.62345678") {
		t.Errorf("acme October due %s, want 37.62345678", st.Due())
	}

	// A retry of both months changes nothing.
	before := e.snapshot()
	for _, cycle := range []string{"2026-09", "2026-10"} {
		res, err := e.im.Import(e.ctx, cycle)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accounts["acme"] != resultUnchanged || res.Accounts["globex"] != resultUnchanged {
			t.Fatalf("%s re-run: %+v", cycle, res)
		}
	}
	after := e.snapshot()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s: %d → %d after re-running the import", k, v, after[k])
		}
	}
	e.verify()
}

func (e *env) stmt(id string) settlement.Statement {
	e.t.Helper()
	st, err := e.svc.Statement(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

// TestImportAbandonedMidway cancels an import while it reads the second
// customer's records (after the first statement was issued), as a crash
// would, and runs it again: each statement exists once.
func TestImportAbandonedMidway(t *testing.T) {
	e := newEnv(t)
	e.bills()
	ctx, cancel := context.WithCancel(e.ctx)
	var hits atomic.Int32
	e.api.Hook(func(r *http.Request) error {
		if r.URL.Query().Get("customer_id") == custGlobex && hits.Add(1) == 1 {
			cancel()
			return errors.New("the importer went away")
		}
		return nil
	})
	res, err := e.im.Import(ctx, "2026-09")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned import: %+v, %v; want context.Canceled", res, err)
	}
	if res.Accounts["acme"] != resultIssued {
		t.Fatalf("acme was imported before the crash: %+v", res)
	}
	if _, err := e.svc.Statement(e.ctx, StatementID("globex", "2026-09")); !errors.Is(err, settlement.ErrNotFound) {
		t.Fatalf("globex statement: %v, want none yet", err)
	}
	e.api.Hook(nil)
	res, err = e.im.Import(e.ctx, "2026-09")
	if err != nil {
		t.Fatal(err)
	}
	if res.Accounts["acme"] != resultUnchanged || res.Accounts["globex"] != resultIssued {
		t.Fatalf("re-run: %+v", res)
	}
	all, err := e.svc.Statements(e.ctx, settlement.Filter{})
	if err != nil || len(all) != 2 {
		t.Fatalf("statements: %d, %v; want 2", len(all), err)
	}
	e.verify()
}

// TestImportUpstreamChanged changes a bill after its statement was issued:
// the statement stays, the change is reported once (metric and outbox
// event), however often the import runs.
func TestImportUpstreamChanged(t *testing.T) {
	e := newEnv(t)
	e.bills()
	if _, err := e.im.Import(e.ctx, "2026-10"); err != nil {
		t.Fatal(err)
	}
	id := StatementID("acme", "2026-10")
	issued := e.stmt(id)
	e.api.SetBill("2026-10", custAcme,
		huaweitest.Record{Service: "hws.service.type.ec2", ResourceID: "vm-1", Region: "ap-southeast-1", ChargingMode: 1, Official: "100", Discount: "20", Payment: "80"},
		huaweitest.Record{Service: "hws.service.type.obs", ResourceID: "bucket-a", Region: "ap-southeast-3", ChargingMode: 3, Official: "9", Payment: "9"})
	for range 2 {
		res, err := e.im.Import(e.ctx, "2026-10")
		if err != nil {
			t.Fatal(err)
		}
		if res.Accounts["acme"] != resultChanged || res.Accounts["globex"] != resultUnchanged {
			t.Fatalf("after the change: %+v", res)
		}
	}
	if st := e.stmt(id); st.Official() != issued.Official() || len(st.Lines) != len(issued.Lines) {
		t.Fatalf("statement rewritten: %s, was %s", st.Official(), issued.Official())
	}
	msgs, err := e.rdb.XRange(e.ctx, outbox.Stream(outbox.ShardOf("acme")), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if m.Values[outbox.FieldType] == outbox.StatementUpstreamChanged {
			n++
			if d := m.Values[outbox.FieldData].(string); !strings.Contains(d, `"upstream_official":"89.00000000"`) || !strings.Contains(d, `"issued_official":"84.00000000"`) {
				t.Errorf("event data %s", d)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d statement.upstream_changed events, want 1", n)
	}
	if got := testutil.ToFloat64(e.metrics.changed); got != 2 {
		t.Errorf("depositd_huawei_bill_changed_total %v, want 2 (one per run that saw it)", got)
	}
	e.verify()
}
