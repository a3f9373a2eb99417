package settlement

import (
	"strings"
	"testing"
)

// The importers take outside data: any input gives a statement that
// validates or an error, never a panic.
func FuzzParseStatementJSON(f *testing.F) {
	f.Add(`{"id":"s","account":"a","month":"2026-10","lines":[{"service":"ecs","resource_id":"r","official_amount":"1.5"}]}`)
	f.Add(`{"id":"s","account":"a","month":"2026-10","lines":[{"service":"ecs","resource_id":"r","official_amount":"1e400"}]}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, in string) {
		st, err := ParseStatementJSON(strings.NewReader(in))
		if err == nil {
			if verr := st.Validate(); verr != nil {
				t.Fatalf("parsed statement does not validate: %v", verr)
			}
		}
	})
}

func FuzzParseLinesCSV(f *testing.F) {
	f.Add("service,resource_id,official_amount,third_party,promo_history\necs,r,1.5,yes,p1;p2\n")
	f.Add("service,resource_id,official_amount\n\"ecs,r,1\n")
	f.Fuzz(func(t *testing.T, in string) {
		ls, err := ParseLinesCSV(strings.NewReader(in))
		if err == nil {
			for i, l := range ls {
				if verr := l.validate(); verr != nil {
					t.Fatalf("line %d does not validate: %v", i+1, verr)
				}
			}
		}
	})
}
