package huawei

import (
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2/model"
	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/settlement"
)

func rec(service, resource, region, payment string) model.SubCustomerMonthlyBillDetail {
	p := decimal.RequireFromString(payment)
	return model.SubCustomerMonthlyBillDetail{ServiceTypeCode: &service, ResourceId: &resource, RegionCode: &region, PaymentAmount: &p, OfficialAmount: &p}
}

func TestLines(t *testing.T) {
	a := rec("ecs", "vm-1", "r1", "10")
	b := rec("ecs", "vm-1", "r1", "-4") // a partial refund of the same VM
	c := rec("obs", "b-1", "r2", "0.00000001")
	d := rec("ecs", "vm-0", "r1", "1")
	got, err := Lines("c1", "2026-10", []model.SubCustomerMonthlyBillDetail{a, c, b, d})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ecs vm-0 r1 1.00000000", "ecs vm-1 r1 6.00000000", "obs b-1 r2 0.00000001"}
	if len(got) != len(want) {
		t.Fatalf("%d lines: %+v", len(got), got)
	}
	for i, l := range got {
		if s := l.Service + " " + l.ResourceID + " " + l.Project + " " + l.Official.String(); s != want[i] {
			t.Errorf("line %d: %s, want %s", i+1, s, want[i])
		}
	}
	// The same records in another order give the same lines.
	again, err := Lines("c1", "2026-10", []model.SubCustomerMonthlyBillDetail{d, b, c, a})
	if err != nil || len(again) != len(got) {
		t.Fatal(err)
	}
	for i := range got {
		if got[i].ResourceID != again[i].ResourceID || got[i].Official != again[i].Official || got[i].Note != again[i].Note {
			t.Errorf("order changed line %d", i+1)
		}
	}

	other := "2026-09"
	wrongCycle := rec("ecs", "vm-1", "r1", "1")
	wrongCycle.BillCycle = &other
	tests := []struct {
		name string
		recs []model.SubCustomerMonthlyBillDetail
		msg  string
	}{
		{"refund exceeds charges", []model.SubCustomerMonthlyBillDetail{rec("ecs", "vm-1", "r1", "-1")}, "refunds exceed charges"},
		{"too precise", []model.SubCustomerMonthlyBillDetail{rec("ecs", "vm-1", "r1", "0.000000001")}, "amount"},
		{"other cycle", []model.SubCustomerMonthlyBillDetail{wrongCycle}, "bill cycle 2026-09, want 2026-10"},
		{"no amount", []model.SubCustomerMonthlyBillDetail{{ServiceTypeCode: a.ServiceTypeCode, ResourceId: a.ResourceId}}, "payment_amount missing"},
		{"no resource", []model.SubCustomerMonthlyBillDetail{{ServiceTypeCode: a.ServiceTypeCode, PaymentAmount: a.PaymentAmount}}, "no service type or resource id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Lines("c1", "2026-10", tt.recs); err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %v, want %q", err, tt.msg)
			}
		})
	}
}

func TestSchedule(t *testing.T) {
	loc := settlement.DefaultLocation
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		now, cycle, next string
	}{
		{"2026-11-05 23:59", "", "2026-11-06 02:00"},
		{"2026-11-06 01:59", "", "2026-11-06 02:00"},
		{"2026-11-06 02:00", "2026-10", "2026-11-07 02:00"},
		{"2026-11-30 03:00", "2026-10", "2026-12-06 02:00"},
		{"2026-12-31 02:00", "2026-11", "2027-01-06 02:00"},
		{"2027-01-01 00:00", "", "2027-01-06 02:00"},
		{"2027-01-20 12:00", "2026-12", "2027-01-21 02:00"},
	}
	for _, tt := range tests {
		t.Run(tt.now, func(t *testing.T) {
			cycle, ok := Due(at(tt.now), loc, 6, 2)
			if cycle != tt.cycle || ok != (tt.cycle != "") {
				t.Errorf("Due = %q, %v; want %q", cycle, ok, tt.cycle)
			}
			// The billing month is UTC+8 whatever the caller's zone.
			if got := Next(at(tt.now).UTC(), loc, 6, 2); !got.Equal(at(tt.next)) {
				t.Errorf("Next = %s, want %s", got.In(loc), tt.next)
			}
		})
	}
}
