package settlement

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseStatementJSON(t *testing.T) {
	good := `{"id":"st-1","account":"acme","month":"2026-10","lines":[
	 {"service":"ecs","resource_id":"i-1","project":"web","member_account":"acme-dev","official_amount":"12.5","promo_history":["promo-25"]},
	 {"service":"image","resource_id":"img-1","official_amount":"3","third_party":true}]}`
	st, err := ParseStatementJSON(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if st.ID != "st-1" || len(st.Lines) != 2 || st.Lines[0].Official != usd("12.5") || st.Lines[0].MemberAccount != "acme-dev" ||
		!st.Lines[1].ThirdParty || st.Lines[0].PromoHistory[0] != "promo-25" {
		t.Fatalf("parsed %+v", st)
	}
	tests := []struct {
		name, in, wantErr string
	}{
		{"not json", `{`, "statement json"},
		{"unknown field", `{"id":"s","account":"a","month":"2026-10","lines":[],"status":"paid"}`, `unknown field "status"`},
		{"amount as number", `{"id":"s","account":"a","month":"2026-10","lines":[{"service":"ecs","resource_id":"r","official_amount":1}]}`, "official_amount"},
		{"missing amount", `{"id":"s","account":"a","month":"2026-10","lines":[{"service":"ecs","resource_id":"r"}]}`, "line 1: official_amount is missing"},
		{"9 dp", `{"id":"s","account":"a","month":"2026-10","lines":[{"service":"ecs","resource_id":"r","official_amount":"0.000000001"}]}`, "line 1: official_amount"},
		{"negative", `{"id":"s","account":"a","month":"2026-10","lines":[{"service":"ecs","resource_id":"r","official_amount":"-1"}]}`, "line 1: official_amount -1"},
		{"no service", `{"id":"s","account":"a","month":"2026-10","lines":[{"service":"ecs","resource_id":"r","official_amount":"1"},{"resource_id":"r","official_amount":"1"}]}`, "line 2: service is empty"},
		{"bad month", `{"id":"s","account":"a","month":"10/2026","lines":[]}`, "month"},
		{"no id", `{"account":"a","month":"2026-10","lines":[]}`, "id is empty"},
		{"no account", `{"id":"s","month":"2026-10","lines":[]}`, "account is empty"},
		{"trailing", `{"id":"s","account":"a","month":"2026-10","lines":[]} {}`, "trailing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseStatementJSON(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestParseLinesCSV(t *testing.T) {
	good := "\ufeffService,resource_id,project,member_account,official_amount,third_party,promo_history\n" +
		"ecs,i-1,web,acme-dev,12.5,false,promo-25;promo-7\n" +
		"image,img-1,,,3,yes,\n"
	lines, err := ParseLinesCSV(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0].Official != usd("12.5") || len(lines[0].PromoHistory) != 2 || !lines[1].ThirdParty || lines[1].Project != "" {
		t.Fatalf("parsed %+v", lines)
	}
	tests := []struct {
		name, in, wantErr string
	}{
		{"empty", "", "empty"},
		{"unknown column", "service,resource_id,official_amount,colour\n", `row 1, column 4: unknown column "colour"`},
		{"duplicate column", "service,service,resource_id,official_amount\n", "duplicate"},
		{"missing column", "service,resource_id\n", `column "official_amount" is missing`},
		{"bad amount", "service,resource_id,official_amount\necs,r,1\necs,r,abc\n", "row 3, column official_amount"},
		{"bad flag", "service,resource_id,official_amount,third_party\necs,r,1,maybe\n", "row 2, column third_party"},
		{"short row", "service,resource_id,official_amount\necs,r\n", "row 2"},
		{"empty service", "service,resource_id,official_amount\n,r,1\n", "row 2: service is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLinesCSV(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestStatementPriceAndJSON(t *testing.T) {
	tp := line("image", "7")
	tp.ThirdParty = true
	ecs := line("ecs", "100")
	ecs.PromoHistory = []string{"promo-25"}
	st := Statement{ID: "s", Account: "a", Month: "2024-11", IssuedAt: t0, Lines: []Line{ecs, line("obs", "10"), tp}}
	com := disc("com-20", Commercial, "0.2")
	com.Services = []string{"ecs"}
	st.Price([]Discount{com, disc("promo-25", Promotional, "0.25")})
	if st.Lines[0].DiscountID != "promo-25" || st.Lines[0].Amount != usd("75") || st.Lines[1].Amount != usd("10") || st.Lines[2].Amount != 0 {
		t.Fatalf("priced %+v", st.Lines)
	}
	if st.Amount() != usd("85") || st.Official() != usd("117") {
		t.Fatalf("amount %s official %s", st.Amount(), st.Official())
	}
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"amount":"85.00000000"`, `"official_amount":"117.00000000"`, `"discount_id":"promo-25"`, `"third_party":true`} {
		if !strings.Contains(string(b), want) {
			t.Fatalf("json %s lacks %s", b, want)
		}
	}
}
