package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/depositd/depositd/billing/huawei"
	"github.com/depositd/depositd/billing/huawei/huaweitest"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/settlement"
	"github.com/depositd/depositd/settlement/ledger"
)

// TestHuaweiImportWired starts the daemon with a huawei section pointing at
// the local partner billing API and an import that is due at once: last
// month's statement appears and is paid from the account's cash.
func TestHuaweiImportWired(t *testing.T) {
	srv := redistest.New(t)
	c := newChain(t, 6)
	api := huaweitest.New()
	defer api.Close()
	month := time.Now().In(settlement.DefaultLocation).AddDate(0, 0, -time.Now().In(settlement.DefaultLocation).Day()).Format("2006-01")
	api.SetBill(month, "cust-1", huaweitest.Record{Service: "hws.service.type.ec2", ResourceID: "vm-1", Region: "ap-southeast-1",
		ChargingMode: 3, Official: "30", Discount: "3", Payment: "27"})
	cfg := testConfig(t, srv.URL(), c, 6, fmt.Sprintf(`huawei:
  endpoint: %s
  domain_id: partner
  ak: AKTEST
  sk: sktest
  import_day: 1
  import_hour: 0
  customers:
    - customer_id: cust-1
      account: acme
`, api.URL))
	rdb := srv.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := ledger.New(rdb, time.Now).CreateAccount(ctx, ledger.Account{ID: "acme", CreditLimit: 100_00000000}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan *Daemon, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, cfg, Options{Logger: slog.New(slog.DiscardHandler), Listener: ln, Started: func(d *Daemon) { started <- d }})
	}()
	var d *Daemon
	select {
	case d = <-started:
	case err := <-done:
		t.Fatalf("daemon stopped: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("daemon did not start")
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, err := d.Settlement.Statement(ctx, huawei.StatementID("acme", month))
		if err == nil && st.Status == settlement.Paid {
			if st.Credit != 27_00000000 || st.Lines[0].Note != "huawei official 30.00000000, huawei discount 3.00000000 already applied" {
				t.Fatalf("statement %+v", st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("statement not imported and paid: %+v, %v", st, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
