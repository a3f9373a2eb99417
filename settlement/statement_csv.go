package settlement

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/depositd/depositd/money"
)

// CSV columns of a statement's lines. The header row names the columns, in
// any order; service, resource_id and official_amount are required.
var csvColumns = []string{"service", "resource_id", "project", "member_account", "official_amount", "third_party", "promo_history"}

// ParseLinesCSV reads the lines of a statement from CSV with a header row,
// e.g.
//
//	service,resource_id,project,member_account,official_amount,third_party,promo_history
//	ecs,i-1,web,acme-dev,12.5,false,promo-25;promo-7
//
// third_party is true/false/yes/no/1/0 (empty: false); promo_history lists
// promotional discount ids separated by ';'. Errors name the row (1-based,
// the header is row 1) and the column.
func ParseLinesCSV(r io.Reader) ([]Line, error) {
	cr := csv.NewReader(io.LimitReader(r, maxImportBytes))
	cr.FieldsPerRecord = 0
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("csv: empty: want a header row")
	}
	if err != nil {
		return nil, fmt.Errorf("csv: row 1: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if !slices.Contains(csvColumns, h) {
			return nil, fmt.Errorf("csv: row 1, column %d: unknown column %q (known: %s)", i+1, h, strings.Join(csvColumns, ", "))
		}
		if _, dup := col[h]; dup {
			return nil, fmt.Errorf("csv: row 1, column %d: duplicate column %q", i+1, h)
		}
		col[h] = i
	}
	for _, req := range []string{"service", "resource_id", "official_amount"} {
		if _, ok := col[req]; !ok {
			return nil, fmt.Errorf("csv: row 1: column %q is missing", req)
		}
	}
	var lines []Line
	for row := 2; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("csv: row %d: %w", row, err)
		}
		if len(lines) == maxLines {
			return nil, fmt.Errorf("csv: row %d: more than %d lines", row, maxLines)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		l := Line{Service: get("service"), ResourceID: get("resource_id"), Project: get("project"), MemberAccount: get("member_account")}
		if l.Official, err = money.ParseUSD(get("official_amount")); err != nil {
			return nil, fmt.Errorf("csv: row %d, column official_amount: %w", row, err)
		}
		if l.ThirdParty, err = parseFlag(get("third_party")); err != nil {
			return nil, fmt.Errorf("csv: row %d, column third_party: %w", row, err)
		}
		for _, p := range strings.Split(get("promo_history"), ";") {
			if p = strings.TrimSpace(p); p != "" {
				l.PromoHistory = append(l.PromoHistory, p)
			}
		}
		if err := l.validate(); err != nil {
			return nil, fmt.Errorf("csv: row %d: %w", row, err)
		}
		lines = append(lines, l)
	}
	return lines, nil
}

func parseFlag(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "false", "no", "0":
		return false, nil
	case "true", "yes", "1":
		return true, nil
	}
	return false, fmt.Errorf("%q: want true or false", s)
}
