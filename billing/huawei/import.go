package huawei

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"
	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/settlement"
)

// API is the part of the partner billing API the importer reads; *Client
// is the real one.
type API interface {
	MonthlySums(ctx context.Context, cycle string) ([]model.BillSumInfoV2, error)
	Details(ctx context.Context, customer, cycle string) ([]model.SubCustomerMonthlyBillDetail, error)
}

// Issuer is the part of settlement the importer drives; *settlement.Service
// is the real one.
type Issuer interface {
	IssueStatement(ctx context.Context, st settlement.Statement) (settlement.Statement, error)
	Statement(ctx context.Context, id string) (settlement.Statement, error)
	ReportUpstreamChange(ctx context.Context, id string, upstream settlement.Statement) error
}

var (
	_ API    = (*Client)(nil)
	_ Issuer = (*settlement.Service)(nil)
)

// Customer maps a Huawei sub-customer id to a depositd account.
type Customer struct{ ID, Account string }

// Options configures an Importer.
type Options struct {
	Customers []Customer
	// Location is the billing time zone of the schedule (UTC+8 by default).
	Location *time.Location
	// ImportDay and ImportHour: from this day of each month on, daily at
	// this hour, the previous month is imported (again).
	ImportDay, ImportHour int
	// RetryBase and RetryMax bound the backoff after a failed run
	// (defaults 1 min and 1 h).
	RetryBase, RetryMax time.Duration
	Logger              *slog.Logger
	Metrics             *Metrics
	Now                 func() time.Time
}

// Importer turns Huawei partner bills into issued statements.
type Importer struct {
	api  API
	svc  Issuer
	opts Options
}

// NewImporter returns an importer reading api and issuing through svc.
func NewImporter(api API, svc Issuer, o Options) *Importer {
	if o.Location == nil {
		o.Location = settlement.DefaultLocation
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RetryBase <= 0 {
		o.RetryBase = time.Minute
	}
	if o.RetryMax <= 0 {
		o.RetryMax = time.Hour
	}
	o.Customers = slices.Clone(o.Customers)
	slices.SortFunc(o.Customers, func(a, b Customer) int { return strings.Compare(a.Account, b.Account) })
	return &Importer{api: api, svc: svc, opts: o}
}

// Statement results of one customer's import.
const (
	resultIssued    = "issued"    // a new statement was issued
	resultUnchanged = "unchanged" // issued earlier with the same content
	resultChanged   = "changed"   // issued earlier; the upstream bill now differs (alert)
	resultEmpty     = "empty"     // no bill this month: no statement
	resultFailed    = "failed"
)

// Result is what one import run did, by account.
type Result struct {
	Cycle    string
	Accounts map[string]string // account → issued, unchanged, changed, empty or failed
	Unmapped []string          // customer ids with a bill and no mapping
}

// StatementID is the id of the statement imported for account and cycle:
// "hw-<cycle>-<account>", or a hash of the account when that is too long.
func StatementID(account, cycle string) string {
	id := "hw-" + cycle + "-" + account
	if len(id) <= 64 {
		return id
	}
	sum := sha256.Sum256([]byte(account))
	return "hw-" + cycle + "-" + hex.EncodeToString(sum[:12])
}

// Import imports cycle ("2026-10") for every mapped customer and issues
// their statements. Idempotent: re-running it, or running it after a
// crash, issues only what is missing; a statement issued earlier whose
// upstream bill changed is reported (metric, error log, outbox event), not
// rewritten. One customer's failure does not stop the others; the
// returned error joins every failure.
func (im *Importer) Import(ctx context.Context, cycle string) (res Result, err error) {
	res = Result{Cycle: cycle, Accounts: map[string]string{}}
	defer func() { im.opts.Metrics.run(err, len(res.Unmapped), float64(im.opts.Now().Unix())) }()
	if _, err := settlement.ParseMonth(cycle, im.opts.Location); err != nil {
		return res, err
	}
	sums, err := im.api.MonthlySums(ctx, cycle)
	if err != nil {
		return res, fmt.Errorf("import %s: %w", cycle, err)
	}
	totals, err := customerTotals(sums)
	if err != nil {
		return res, fmt.Errorf("import %s: monthly sums: %w", cycle, err)
	}
	mapped := map[string]bool{}
	for _, c := range im.opts.Customers {
		mapped[c.ID] = true
	}
	for id, t := range totals {
		if !mapped[id] && !t.IsZero() {
			res.Unmapped = append(res.Unmapped, id)
		}
	}
	slices.Sort(res.Unmapped)
	if len(res.Unmapped) > 0 {
		im.opts.Logger.Warn("huawei sub-customers with a bill and no account mapping", "cycle", cycle, "customers", res.Unmapped)
	}
	var errs []error
	for _, c := range im.opts.Customers {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		result, err := im.importCustomer(ctx, c, cycle, totals[c.ID])
		res.Accounts[c.Account] = result
		im.opts.Metrics.statement(result)
		if err != nil {
			errs = append(errs, fmt.Errorf("account %s (customer %s): %w", c.Account, c.ID, err))
		}
	}
	return res, errors.Join(errs...)
}

// customerTotals sums the summary amounts per customer.
func customerTotals(sums []model.BillSumInfoV2) (map[string]decimal.Decimal, error) {
	out := map[string]decimal.Decimal{}
	for i, s := range sums {
		id := str(s.CustomerId)
		if id == "" {
			return nil, fmt.Errorf("row %d: no customer_id", i+1)
		}
		if s.Amount != nil {
			out[id] = out[id].Add(*s.Amount)
		} else if _, ok := out[id]; !ok {
			out[id] = decimal.Zero
		}
	}
	return out, nil
}

func (im *Importer) importCustomer(ctx context.Context, c Customer, cycle string, summary decimal.Decimal) (string, error) {
	records, err := im.api.Details(ctx, c.ID, cycle)
	if err != nil {
		return resultFailed, err
	}
	lines, err := Lines(c.ID, cycle, records)
	if err != nil {
		return resultFailed, err
	}
	want, err := money.FromDecimal(summary)
	if err != nil {
		return resultFailed, fmt.Errorf("summary amount %s: %w", summary, err)
	}
	if got := Total(lines); got != want {
		return resultFailed, fmt.Errorf("the monthly summary says %s, the fee records add up to %s: not issued (the bill may still be changing)", want, got)
	}
	if len(lines) == 0 {
		return resultEmpty, nil
	}
	st := settlement.Statement{ID: StatementID(c.Account, cycle), Account: c.Account, Month: cycle, Lines: lines}
	_, existed := im.svc.Statement(ctx, st.ID)
	got, err := im.svc.IssueStatement(ctx, st)
	switch {
	case errors.Is(err, settlement.ErrExists):
		im.opts.Logger.Error("huawei bill changed after its statement was issued; statement kept as issued",
			"statement", st.ID, "account", c.Account, "customer", c.ID, "cycle", cycle, "upstream_official", st.Official().String())
		if rerr := im.svc.ReportUpstreamChange(ctx, st.ID, st); rerr != nil {
			return resultChanged, fmt.Errorf("statement %s: upstream bill changed; reporting it: %w", st.ID, rerr)
		}
		return resultChanged, nil
	case err != nil && got.ID == "":
		return resultFailed, err
	case err != nil:
		// Stored; only its automatic payment failed. The next deposit or
		// settlement run pays it.
		im.opts.Logger.Warn("huawei statement issued, settlement failed", "statement", st.ID, "err", err)
	}
	if existed == nil {
		return resultUnchanged, nil
	}
	im.opts.Logger.Info("huawei statement issued", "statement", st.ID, "account", c.Account, "amount", got.Amount().String(), "lines", len(got.Lines))
	return resultIssued, nil
}
