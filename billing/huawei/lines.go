// Package huawei imports month-start statements from Huawei Cloud's
// partner billing API (BSS v2, through the official SDK): for every
// configured sub-customer it reads the month's fee records, turns them into
// statement lines and issues the statement through settlement, which pays
// it from the account's deposits. Issuing is idempotent: a re-run of a
// month changes nothing, and an upstream bill that no longer matches the
// statement issued for it raises an alert instead of rewriting it.
//
// The AK/SK need billing read permission only.
package huawei

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"
	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/settlement"
)

// Lines turns one sub-customer's fee records of cycle into statement lines,
// one per (service type, resource, region), sorted, so the same records in
// any order give the same statement. Each line's official amount is what
// Huawei charged (payment_amount: the official price after the discounts
// Huawei already applied); its Note records the official price and that
// discount. Huawei's region code is the line's project (Huawei Cloud
// projects are per region). A record of another cycle or customer, a
// missing amount, more than 8 decimals or a line whose refunds exceed its
// charges is an error naming the record.
func Lines(customer, cycle string, records []model.SubCustomerMonthlyBillDetail) ([]settlement.Line, error) {
	type key struct{ service, resource, project string }
	type sum struct{ official, discount, payment decimal.Decimal }
	sums := map[key]*sum{}
	var keys []key
	for i, r := range records {
		name := fmt.Sprintf("record %d", i+1)
		if r.Id != nil {
			name = fmt.Sprintf("record %d (%s)", i+1, *r.Id)
		}
		if s := str(r.BillCycle); s != "" && s != cycle {
			return nil, fmt.Errorf("%s: bill cycle %s, want %s", name, s, cycle)
		}
		if s := str(r.CustomerId); s != "" && s != customer {
			return nil, fmt.Errorf("%s: customer %s, want %s", name, s, customer)
		}
		if r.PaymentAmount == nil {
			return nil, fmt.Errorf("%s: payment_amount missing", name)
		}
		k := key{service: first(r.ServiceTypeCode, r.ServiceTypeName), resource: first(r.ResourceId, r.SubResourceId, r.TradeId, r.Id),
			project: str(r.RegionCode)}
		if k.service == "" || k.resource == "" {
			return nil, fmt.Errorf("%s: no service type or resource id", name)
		}
		s := sums[k]
		if s == nil {
			s = &sum{}
			sums[k] = s
			keys = append(keys, k)
		}
		s.payment = s.payment.Add(*r.PaymentAmount)
		if r.OfficialAmount != nil {
			s.official = s.official.Add(*r.OfficialAmount)
		}
		if r.OfficialDiscountAmount != nil {
			s.discount = s.discount.Add(*r.OfficialDiscountAmount)
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.service, b.service), cmp.Compare(a.resource, b.resource), cmp.Compare(a.project, b.project))
	})
	out := make([]settlement.Line, 0, len(keys))
	for _, k := range keys {
		s := sums[k]
		amount, err := money.FromDecimal(s.payment)
		if err != nil {
			return nil, fmt.Errorf("service %s resource %s: amount %s: %w", k.service, k.resource, s.payment, err)
		}
		if amount < 0 {
			return nil, fmt.Errorf("service %s resource %s: refunds exceed charges (%s): settle this month by hand", k.service, k.resource, amount)
		}
		note := "huawei official " + s.official.StringFixed(money.Scale)
		if !s.discount.IsZero() {
			note += ", huawei discount " + s.discount.StringFixed(money.Scale) + " already applied"
		}
		out = append(out, settlement.Line{Service: k.service, ResourceID: k.resource, Project: k.project, Official: amount, Note: note})
	}
	return out, nil
}

// Total is the sum of the lines' amounts.
func Total(ls []settlement.Line) money.Units {
	var t money.Units
	for _, l := range ls {
		t += l.Official
	}
	return t
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func first(ps ...*string) string {
	for _, p := range ps {
		if s := str(p); s != "" {
			return s
		}
	}
	return ""
}
