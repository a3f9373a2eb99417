package settlement

import (
	"testing"
	"time"

	"github.com/depositd/depositd/money"
)

func coupon(id, bal string, expiresIn time.Duration, services ...string) Coupon {
	return Coupon{ID: id, Account: "a", Balance: usd(bal), Expires: t0.Add(expiresIn), Services: services}
}

// The coupon rules of seeds 003/004.
func TestChooseCoupon(t *testing.T) {
	day := 24 * time.Hour
	all := func(due string) func(Coupon) money.Units {
		return func(Coupon) money.Units { return usd(due) }
	}
	tests := []struct {
		name    string
		cs      []Coupon
		inScope func(Coupon) money.Units
		want    string
	}{
		{"several cover -> largest balance", []Coupon{coupon("a", "60", day), coupon("b", "90", day), coupon("c", "70", day)}, all("50"), "b"},
		{"none covers -> largest balance", []Coupon{coupon("a", "10", day), coupon("b", "30", day), coupon("c", "20", day)}, all("50"), "b"},
		{"equal balances -> earliest expiry", []Coupon{coupon("a", "80", 3*day), coupon("b", "80", day), coupon("c", "80", 2*day)}, all("50"), "b"},
		{"equal balance and expiry -> smaller id", []Coupon{coupon("z", "80", day), coupon("m", "80", day)}, all("50"), "m"},
		{"expired ignored", []Coupon{coupon("old", "500", -time.Second), coupon("b", "10", day)}, all("50"), "b"},
		{"expires exactly now ignored", []Coupon{coupon("now", "500", 0), coupon("b", "10", day)}, all("50"), "b"},
		{"empty balance ignored", []Coupon{{ID: "zero", Account: "a", Expires: t0.Add(day)}, coupon("a", "0.00000001", day)}, all("50"), "a"},
		{"none", nil, all("50"), ""},
		{"nothing in scope", []Coupon{coupon("a", "10", day, "obs")}, func(Coupon) money.Units { return 0 }, ""},
		{"covering scoped coupon beats larger non-covering", []Coupon{coupon("big", "40", day), coupon("small", "15", day, "obs")},
			func(c Coupon) money.Units {
				if c.ID == "small" {
					return usd("10")
				}
				return usd("50")
			}, "small"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ChooseCoupon(tc.cs, t0, tc.inScope)
			if ok != (tc.want != "") || got.ID != tc.want {
				t.Fatalf("got %q ok=%v, want %q", got.ID, ok, tc.want)
			}
		})
	}
}

func TestCouponValidate(t *testing.T) {
	tests := []struct {
		name    string
		c       Coupon
		wantErr bool
	}{
		{"ok", coupon("a", "1", time.Hour), false},
		{"no id", coupon("", "1", time.Hour), true},
		{"zero balance", coupon("a", "0", time.Hour), true},
		{"no expiry", Coupon{ID: "a", Account: "a", Balance: 1}, true},
		{"no account", Coupon{ID: "a", Balance: 1, Expires: t0}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.c.Validate(); (err != nil) != tc.wantErr {
				t.Fatalf("Validate() = %v, wantErr %v", err, tc.wantErr)
			}
		})
	}
}
