package settlement

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseCouponJSON(t *testing.T) {
	c, err := ParseCouponJSON(strings.NewReader(`{"id":"c-1","account":"acme","amount":"50.5","expires":"2026-12-31T16:00:00Z","services":["ecs"]}`))
	if err != nil || c.Balance != usd("50.5") || c.Expires.Year() != 2026 || c.Services[0] != "ecs" {
		t.Fatalf("%+v %v", c, err)
	}
	tests := []struct{ name, in, wantErr string }{
		{"no amount", `{"id":"c","account":"a","expires":"2026-12-31T16:00:00Z"}`, "amount is missing"},
		{"bad amount", `{"id":"c","account":"a","amount":"x","expires":"2026-12-31T16:00:00Z"}`, "amount"},
		{"zero amount", `{"id":"c","account":"a","amount":"0","expires":"2026-12-31T16:00:00Z"}`, "must be > 0"},
		{"no expiry", `{"id":"c","account":"a","amount":"1"}`, "expiry is missing"},
		{"bad id", `{"id":"c:1","account":"a","amount":"1","expires":"2026-12-31T16:00:00Z"}`, "coupon id"},
		{"unknown field", `{"id":"c","account":"a","amount":"1","expires":"2026-12-31T16:00:00Z","x":1}`, "unknown field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseCouponJSON(strings.NewReader(tc.in)); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseDiscountJSON(t *testing.T) {
	in := `{"id":"com-20","account":"acme","kind":"commercial","rate":"0.2","services":["ecs"],"from":"2026-01-01T00:00:00Z"}`
	d, err := ParseDiscountJSON(strings.NewReader(in))
	if err != nil || d.Kind != Commercial || d.Rate.String() != "0.2" || d.From.IsZero() || !d.Until.IsZero() {
		t.Fatalf("%+v %v", d, err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseDiscountJSON(strings.NewReader(string(b)))
	if err != nil || back.ID != d.ID || !back.Rate.Equal(d.Rate) || !back.From.Equal(d.From) {
		t.Fatalf("round trip %s: %+v %v", b, back, err)
	}
	tests := []struct{ name, in, wantErr string }{
		{"bad kind", `{"id":"d","account":"a","kind":"vip","rate":"0.1"}`, "kind"},
		{"bad rate", `{"id":"d","account":"a","kind":"partner","rate":"ten"}`, "rate"},
		{"rate above 1", `{"id":"d","account":"a","kind":"partner","rate":"1.5"}`, "rate"},
		{"not json", `{`, "discount json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseDiscountJSON(strings.NewReader(tc.in)); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseStatementCSV(t *testing.T) {
	st, err := ParseStatementCSV(strings.NewReader("service,resource_id,official_amount\necs,r,1\n"), "s", "a", "2026-10")
	if err != nil || len(st.Lines) != 1 || st.ID != "s" {
		t.Fatalf("%+v %v", st, err)
	}
	if _, err := ParseStatementCSV(strings.NewReader("service,resource_id,official_amount\necs,r,1\n"), "s", "a", "2026/10"); err == nil {
		t.Fatal("accepted a bad month")
	}
}
