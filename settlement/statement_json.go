package settlement

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/depositd/depositd/money"
)

// lineJSON is the wire form of a Line: amounts are decimal strings with up
// to 8 decimal places.
type lineJSON struct {
	Service       string       `json:"service"`
	ResourceID    string       `json:"resource_id"`
	Project       string       `json:"project,omitempty"`
	MemberAccount string       `json:"member_account,omitempty"`
	Official      string       `json:"official_amount"`
	ThirdParty    bool         `json:"third_party,omitempty"`
	PromoHistory  []string     `json:"promo_history,omitempty"`
	Note          string       `json:"note,omitempty"`
	DiscountID    string       `json:"discount_id,omitempty"`
	DiscountKind  DiscountKind `json:"discount_kind,omitempty"`
	Amount        string       `json:"amount,omitempty"`
	Paid          string       `json:"paid,omitempty"`
}

// statementJSON is the wire form of a Statement.
type statementJSON struct {
	ID       string     `json:"id"`
	Account  string     `json:"account"`
	Month    string     `json:"month"`
	IssuedAt *time.Time `json:"issued_at,omitempty"`
	DueAt    *time.Time `json:"due_at,omitempty"`
	Lines    []lineJSON `json:"lines"`

	Status   Status `json:"status,omitempty"`
	Official string `json:"official_amount,omitempty"`
	Amount   string `json:"amount,omitempty"`
	Net      string `json:"net_amount,omitempty"`
	Coupons  string `json:"coupons,omitempty"`
	Cash     string `json:"cash,omitempty"`
	Credit   string `json:"credit,omitempty"`
	Due      string `json:"due,omitempty"`
	Payments int    `json:"payments,omitempty"`
}

// MarshalJSON writes the statement with amounts as 8-dp decimal strings and
// the derived totals (official_amount, amount, net_amount, due).
func (s Statement) MarshalJSON() ([]byte, error) {
	w := statementJSON{
		ID: s.ID, Account: s.Account, Month: s.Month, Status: s.Status,
		Lines:    make([]lineJSON, len(s.Lines)),
		Official: s.Official().String(), Amount: s.Amount().String(), Net: s.Net().String(),
		Coupons: s.Coupons.String(), Cash: s.Cash.String(), Credit: s.Credit.String(),
		Due: s.Due().String(), Payments: s.Payments,
	}
	if !s.IssuedAt.IsZero() {
		w.IssuedAt = &s.IssuedAt
	}
	if !s.DueAt.IsZero() {
		w.DueAt = &s.DueAt
	}
	for i, l := range s.Lines {
		w.Lines[i] = lineJSON{
			Service: l.Service, ResourceID: l.ResourceID, Project: l.Project,
			MemberAccount: l.MemberAccount, Official: l.Official.String(), ThirdParty: l.ThirdParty,
			PromoHistory: l.PromoHistory, Note: l.Note, DiscountID: l.DiscountID, DiscountKind: l.DiscountKind,
			Amount: l.Amount.String(), Paid: l.Paid.String(),
		}
	}
	return json.Marshal(w)
}

// maxImportBytes bounds an imported document.
const maxImportBytes = 8 << 20

// ParseStatementJSON reads a statement to import:
//
//	{"id": "st-2026-10-acme", "account": "acme", "month": "2026-10",
//	 "issued_at": "2026-11-01T00:00:00+08:00",            (optional)
//	 "lines": [{"service": "ecs", "resource_id": "i-1", "project": "web",
//	            "member_account": "acme-dev", "official_amount": "12.5",
//	            "third_party": false, "promo_history": ["promo-25"]}]}
//
// Unknown fields are errors; amounts are decimal strings with at most 8
// decimal places. Issue-time fields (status, discounts, totals) are not
// accepted: they are computed. The result is validated; errors name the
// line (1-based) and the field.
func ParseStatementJSON(r io.Reader) (Statement, error) {
	body, err := io.ReadAll(io.LimitReader(r, maxImportBytes+1))
	if err != nil {
		return Statement{}, fmt.Errorf("statement json: %w", err)
	}
	if len(body) > maxImportBytes {
		return Statement{}, fmt.Errorf("statement json: larger than %d bytes", maxImportBytes)
	}
	var in struct {
		ID       string     `json:"id"`
		Account  string     `json:"account"`
		Month    string     `json:"month"`
		IssuedAt *time.Time `json:"issued_at"`
		Lines    []struct {
			Service       string   `json:"service"`
			ResourceID    string   `json:"resource_id"`
			Project       string   `json:"project"`
			MemberAccount string   `json:"member_account"`
			Official      *string  `json:"official_amount"`
			ThirdParty    bool     `json:"third_party"`
			PromoHistory  []string `json:"promo_history"`
			Note          string   `json:"note"`
		} `json:"lines"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return Statement{}, fmt.Errorf("statement json: %w", jsonErr(err))
	}
	if dec.More() {
		return Statement{}, errors.New("statement json: trailing data after the object")
	}
	st := Statement{ID: in.ID, Account: in.Account, Month: in.Month, Lines: make([]Line, len(in.Lines))}
	if in.IssuedAt != nil {
		st.IssuedAt = *in.IssuedAt
	}
	for i, l := range in.Lines {
		if l.Official == nil {
			return Statement{}, fmt.Errorf("statement json: line %d: official_amount is missing", i+1)
		}
		amt, err := money.ParseUSD(*l.Official)
		if err != nil {
			return Statement{}, fmt.Errorf("statement json: line %d: official_amount: %w", i+1, err)
		}
		st.Lines[i] = Line{
			Service: l.Service, ResourceID: l.ResourceID, Project: l.Project, MemberAccount: l.MemberAccount,
			Official: amt, ThirdParty: l.ThirdParty, PromoHistory: l.PromoHistory, Note: l.Note,
		}
	}
	if err := st.Validate(); err != nil {
		return Statement{}, err
	}
	return st, nil
}

func jsonErr(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("byte %d: %w", se.Offset, err)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %s: %s where %s was expected", te.Field, te.Value, te.Type)
	}
	return err
}
