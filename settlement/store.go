package settlement

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/outbox"
)

// ErrNotFound is returned for a statement, coupon or discount that does not
// exist.
var ErrNotFound = errors.New("not found")

// ErrExists is returned when an id is reused with different content.
var ErrExists = errors.New("exists with different content")

// ErrInvalid is matched by errors caused by the caller's input (a bad id,
// amount, rate or line, a member account of another master), as opposed
// to storage failures: the API answers them with a 4xx.
var ErrInvalid = errors.New("invalid input")

type invalidError struct{ err error }

func (e invalidError) Error() string   { return e.err.Error() }
func (e invalidError) Unwrap() []error { return []error{e.err, ErrInvalid} }

// invalid marks err as caused by the caller's input.
func invalid(err error) error {
	if err == nil {
		return nil
	}
	return invalidError{err}
}

// docLine is the stored, immutable form of a priced line.
type docLine struct {
	Service      string       `json:"s"`
	ResourceID   string       `json:"r"`
	Project      string       `json:"p,omitempty"`
	Member       string       `json:"m,omitempty"`
	Official     money.Units  `json:"o"`
	ThirdParty   bool         `json:"t,omitempty"`
	PromoHistory []string     `json:"h,omitempty"`
	Note         string       `json:"n,omitempty"`
	DiscountID   string       `json:"d,omitempty"`
	DiscountKind DiscountKind `json:"k,omitempty"`
	Amount       money.Units  `json:"a"`
}

// doc is the stored, immutable part of an issued statement; what payments
// change lives in fields of the statement hash next to it.
type doc struct {
	ID       string    `json:"id"`
	Account  string    `json:"account"`
	Month    string    `json:"month"`
	IssuedAt time.Time `json:"issued_at"`
	DueAt    time.Time `json:"due_at"`
	Lines    []docLine `json:"lines"`
}

func encodeDoc(st Statement) (string, error) {
	d := doc{ID: st.ID, Account: st.Account, Month: st.Month, IssuedAt: st.IssuedAt.UTC(), DueAt: st.DueAt.UTC(), Lines: make([]docLine, len(st.Lines))}
	for i, l := range st.Lines {
		d.Lines[i] = docLine{l.Service, l.ResourceID, l.Project, l.MemberAccount, l.Official, l.ThirdParty, l.PromoHistory, l.Note, l.DiscountID, l.DiscountKind, l.Amount}
	}
	b, err := json.Marshal(d)
	return string(b), err
}

// stmtState is a statement as read from Redis with its version.
type stmtState struct {
	Statement
	Version int
	Seq     int   // last payment number used (completed or not)
	Lock    *lock // coupon lock of the running payment, if any
}

// lock is a coupon amount locked for payment N of a statement.
type lock struct {
	N        int         `json:"n"`
	Coupon   string      `json:"coupon"`
	Services []string    `json:"services,omitempty"`
	Amount   money.Units `json:"amount"`
	At       time.Time   `json:"at"`
}

func decodeStatement(h map[string]string) (stmtState, error) {
	var d doc
	if err := json.Unmarshal([]byte(h["doc"]), &d); err != nil {
		return stmtState{}, fmt.Errorf("doc: %w", err)
	}
	s := stmtState{Statement: Statement{ID: d.ID, Account: d.Account, Month: d.Month, IssuedAt: d.IssuedAt, DueAt: d.DueAt,
		Status: Status(h["status"]), Lines: make([]Line, len(d.Lines))}}
	if !s.Status.Valid() {
		return stmtState{}, fmt.Errorf("status %q unknown", h["status"])
	}
	var ver, seq, pays, coupons, cash, credit int64
	for f, p := range map[string]*int64{"version": &ver, "seq": &seq, "payments": &pays, "coupons": &coupons, "cash": &cash, "credit": &credit} {
		n, err := parseInt(h[f])
		if err != nil {
			return stmtState{}, fmt.Errorf("%s: %w", f, err)
		}
		*p = n
	}
	s.Version, s.Seq, s.Payments = int(ver), int(seq), int(pays)
	s.Coupons, s.Cash, s.Credit = money.Units(coupons), money.Units(cash), money.Units(credit)
	for i, l := range d.Lines {
		paid, err := parseInt(h[linePaidField(i)])
		if err != nil {
			return stmtState{}, fmt.Errorf("line %d paid: %w", i+1, err)
		}
		s.Lines[i] = Line{Service: l.Service, ResourceID: l.ResourceID, Project: l.Project, MemberAccount: l.Member,
			Official: l.Official, ThirdParty: l.ThirdParty, PromoHistory: l.PromoHistory, Note: l.Note,
			DiscountID: l.DiscountID, DiscountKind: l.DiscountKind, Amount: l.Amount, Paid: money.Units(paid)}
	}
	if v := h["lock"]; v != "" {
		s.Lock = new(lock)
		if err := json.Unmarshal([]byte(v), s.Lock); err != nil {
			return stmtState{}, fmt.Errorf("lock: %w", err)
		}
	}
	return s, nil
}

func parseInt(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

func linePaidField(i int) string { return "lp:" + strconv.Itoa(i) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// readStatement reads statement id of account. ErrNotFound if missing.
func readStatement(ctx context.Context, rdb redis.UniversalClient, account, id string) (stmtState, error) {
	h, err := rdb.HGetAll(ctx, abs(account, stmtKey(id))).Result()
	if err != nil {
		return stmtState{}, fmt.Errorf("statement %s: %w", id, err)
	}
	if len(h) == 0 {
		return stmtState{}, fmt.Errorf("statement %s: %w", id, ErrNotFound)
	}
	s, err := decodeStatement(h)
	if err != nil {
		return stmtState{}, fmt.Errorf("statement %s: %w", id, err)
	}
	return s, nil
}

// statementAccount finds the account of statement id through the shard
// indexes (one pipelined HGET per shard).
func statementAccount(ctx context.Context, rdb redis.UniversalClient, id string) (string, error) {
	cmds := make([]*redis.StringCmd, outbox.Shards)
	_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range cmds {
			cmds[i] = p.HGet(ctx, outbox.Tag(i)+":"+stmtIndexKey(), id)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("statement %s: %w", id, err)
	}
	for _, c := range cmds {
		if v, err := c.Result(); err == nil {
			_, account, _ := strings.Cut(v, " ")
			return account, nil
		}
	}
	return "", fmt.Errorf("statement %s: %w", id, ErrNotFound)
}

// indexEntry is one statement in an account's index.
type indexEntry struct {
	ID     string
	Status Status
	Issued int64 // unix ns
}

// accountStatements lists account's statements from its index, oldest
// issue first (then id).
func accountStatements(ctx context.Context, rdb redis.UniversalClient, account string) ([]indexEntry, error) {
	h, err := rdb.HGetAll(ctx, abs(account, acctStmtsKey(account))).Result()
	if err != nil {
		return nil, fmt.Errorf("statements of %s: %w", account, err)
	}
	out := make([]indexEntry, 0, len(h))
	for id, v := range h {
		st, ns, _ := strings.Cut(v, " ")
		n, err := strconv.ParseInt(ns, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("statements of %s: %s: %w", account, id, err)
		}
		out = append(out, indexEntry{ID: id, Status: Status(st), Issued: n})
	}
	slices.SortFunc(out, func(a, b indexEntry) int {
		if c := cmp.Compare(a.Issued, b.Issued); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}
