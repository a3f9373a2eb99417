package settlement

import (
	"testing"
	"time"

	"github.com/depositd/depositd/money"
	"github.com/shopspring/decimal"
)

var t0 = time.Date(2024, 12, 20, 0, 0, 0, 0, DefaultLocation)

func disc(id string, kind DiscountKind, rate string) Discount {
	return Discount{ID: id, Account: "a", Kind: kind, Rate: decimal.RequireFromString(rate)}
}

func usd(s string) money.Units {
	u, err := money.ParseUSD(s)
	if err != nil {
		panic(err)
	}
	return u
}

// The three worked examples of seeds 003/004, plus the tie order.
func TestBestDiscount(t *testing.T) {
	commercial20 := disc("com-20", Commercial, "0.20")
	partner10 := disc("par-10", Partner, "0.10")
	promo30 := disc("promo-30", Promotional, "0.30")
	promo25 := disc("promo-25", Promotional, "0.25")
	tests := []struct {
		name      string
		ds        []Discount
		history   []string
		wantID    string
		wantPrice string
	}{
		{"example 1: no promo in history -> commercial 20%", []Discount{commercial20, partner10, promo30}, nil, "com-20", "80"},
		{"example 2: history used commercial -> commercial 20%", []Discount{commercial20, partner10, promo30}, []string{"com-20"}, "com-20", "80"},
		{"example 3: history used promo 25% -> promo 25% not 30%", []Discount{commercial20, partner10, promo25, promo30}, []string{"promo-25"}, "promo-25", "75"},
		{"tie commercial beats partner", []Discount{disc("p", Partner, "0.2"), disc("c", Commercial, "0.2")}, nil, "c", "80"},
		{"tie partner beats promotional", []Discount{disc("pr", Promotional, "0.2"), disc("pa", Partner, "0.2")}, []string{"pr"}, "pa", "80"},
		{"tie commercial beats promotional", []Discount{disc("pr", Promotional, "0.2"), disc("c", Commercial, "0.2")}, []string{"pr"}, "c", "80"},
		{"same kind tie: smaller id", []Discount{disc("c2", Commercial, "0.2"), disc("c1", Commercial, "0.2")}, nil, "c1", "80"},
		{"history promo better than commercial wins", []Discount{commercial20, promo30}, []string{"promo-30"}, "promo-30", "70"},
		{"no discounts: official", nil, nil, "", "100"},
		{"only promo not in history: official", []Discount{promo30}, []string{"promo-25"}, "", "100"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, price, ok := BestDiscount(tc.ds, "ecs", tc.history, usd("100"), t0)
			if ok != (tc.wantID != "") || d.ID != tc.wantID || price != usd(tc.wantPrice) {
				t.Fatalf("got %q %s ok=%v, want %q %s", d.ID, price, ok, tc.wantID, tc.wantPrice)
			}
		})
	}
}

func TestDiscountCovers(t *testing.T) {
	d := disc("c", Commercial, "0.1")
	d.Services = []string{"ecs", "evs"}
	d.From = t0
	d.Until = t0.Add(24 * time.Hour)
	tests := []struct {
		name    string
		service string
		at      time.Time
		want    bool
	}{
		{"in scope and window", "ecs", t0, true},
		{"other service", "obs", t0, false},
		{"before window", "ecs", t0.Add(-time.Second), false},
		{"at until (exclusive)", "ecs", t0.Add(24 * time.Hour), false},
		{"last instant", "evs", t0.Add(24*time.Hour - 1), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := d.Covers(tc.service, tc.at); got != tc.want {
				t.Fatalf("Covers = %v, want %v", got, tc.want)
			}
			_, _, ok := BestDiscount([]Discount{d}, tc.service, nil, usd("1"), tc.at)
			if ok != tc.want {
				t.Fatalf("BestDiscount ok = %v, want %v", ok, tc.want)
			}
		})
	}
}

// The charged amount is official × (1 − rate) rounded half-up to 8 dp.
func TestDiscountPriceRounding(t *testing.T) {
	tests := []struct {
		name, official, rate, want string
	}{
		{"exact", "100", "0.2", "80"},
		{"half rounds up", "0.00000001", "0.5", "0.00000001"},
		{"below half rounds down", "0.00000001", "0.51", "0"},
		{"above half rounds up", "0.00000003", "0.5", "0.00000002"}, // 1.5 units -> 2
		{"third off", "10", "0.33333333", "6.6666667"},
		{"free", "12.34", "1", "0"},
		{"no discount", "12.34567891", "0", "12.34567891"},
		{"large", "92233720368.54775807", "0.1", "83010348331.69298226"}, // 8301034833169298226.3
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := disc("x", Commercial, tc.rate)
			if got := d.Price(usd(tc.official)); got != usd(tc.want) {
				t.Fatalf("Price(%s, %s) = %s, want %s", tc.official, tc.rate, got, tc.want)
			}
		})
	}
}

func TestDiscountValidate(t *testing.T) {
	ok := disc("c", Commercial, "0.2")
	tests := []struct {
		name    string
		mut     func(*Discount)
		wantErr bool
	}{
		{"ok", func(*Discount) {}, false},
		{"no id", func(d *Discount) { d.ID = "" }, true},
		{"no account", func(d *Discount) { d.Account = "" }, true},
		{"bad kind", func(d *Discount) { d.Kind = "vip" }, true},
		{"negative rate", func(d *Discount) { d.Rate = decimal.RequireFromString("-0.1") }, true},
		{"rate above 1", func(d *Discount) { d.Rate = decimal.RequireFromString("1.01") }, true},
		{"until before from", func(d *Discount) { d.From = t0; d.Until = t0 }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := ok
			tc.mut(&d)
			if err := d.Validate(); (err != nil) != tc.wantErr {
				t.Fatalf("Validate() = %v, wantErr %v", err, tc.wantErr)
			}
		})
	}
}
