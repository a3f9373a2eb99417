package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ledgerOwned reports whether a key (relative to the tag) belongs to the
// ledger, which Sets may not write.
func ledgerOwned(key string) bool {
	switch key {
	case "sys", "idem", "outbox":
		return true
	}
	return strings.HasPrefix(key, "acct:") || strings.HasPrefix(key, "ent:")
}

func validateTxn(t Txn) error {
	if t.Key == "" || len(t.Key) > 512 {
		return errors.New("key: length must be 1..512")
	}
	if t.Fingerprint == "" || len(t.Fingerprint) > 1024 {
		return errors.New("fingerprint: length must be 1..1024")
	}
	if _, err := ParseAccountID(string(t.Account)); err != nil {
		return err
	}
	if !validKind(t.Kind) {
		return fmt.Errorf("kind %q: want 1..64 of a-z 0-9 . _", t.Kind)
	}
	for _, p := range t.Postings {
		if err := validBook(p.Book); err != nil {
			return err
		}
		if p.Floor > FloorCreditLimit {
			return fmt.Errorf("book %s: unknown floor %d", p.Book, p.Floor)
		}
		if p.Floor == FloorCreditLimit && isSysBook(p.Book) {
			return fmt.Errorf("book %s: a system book has no credit limit", p.Book)
		}
	}
	for _, g := range t.Guards {
		if err := validRelKey(g.Key); err != nil {
			return fmt.Errorf("guard: %w", err)
		}
		if g.Field == "" {
			return fmt.Errorf("guard %s: empty field", g.Key)
		}
	}
	for _, s := range t.Sets {
		if err := validRelKey(s.Key); err != nil {
			return fmt.Errorf("set: %w", err)
		}
		if ledgerOwned(s.Key) {
			return fmt.Errorf("set %s: key belongs to the ledger", s.Key)
		}
		if s.Field == "" {
			return fmt.Errorf("set %s: empty field", s.Key)
		}
	}
	for _, e := range t.Events {
		if err := validEventID(e.ID); err != nil {
			return err
		}
		if e.Type == "" {
			return fmt.Errorf("event %s: empty type", e.ID)
		}
		if d := bytes.TrimSpace(e.Data); len(d) == 0 || d[0] != '{' || !json.Valid(d) {
			return fmt.Errorf("event %s: data must be a JSON object", e.ID)
		}
	}
	for k := range t.Meta {
		if k == "" {
			return errors.New("meta: empty key")
		}
	}
	return nil
}

func validKind(k string) bool {
	if k == "" || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// validBook accepts names like "cash", "coupon:c1", "sys:deposits:bsc:USDT":
// 1..128 of [A-Za-z0-9_.:-], not starting with "_" (account metadata).
func validBook(b string) error {
	if b == "" || len(b) > 128 || b[0] == '_' || b[0] == ':' {
		return fmt.Errorf("book %q: want 1..128 of A-Z a-z 0-9 _ . : -, not starting with _ or :", b)
	}
	for i := 0; i < len(b); i++ {
		if !idChar(b[i]) && b[i] != ':' {
			return fmt.Errorf("book %q: character %q not allowed", b, b[i])
		}
	}
	return nil
}

func isSysBook(b string) bool { return strings.HasPrefix(b, "sys:") }

func validRelKey(k string) error {
	if k == "" || len(k) > 512 || strings.ContainsAny(k, "{}") {
		return fmt.Errorf("key %q: want 1..512 bytes without braces (the shard tag is added)", k)
	}
	return nil
}

func validEventID(id string) error {
	if id == "" || len(id) > 128 {
		return fmt.Errorf("event id %q: length must be 1..128", id)
	}
	for i := 0; i < len(id); i++ {
		if !idChar(id[i]) && id[i] != ':' {
			return fmt.Errorf("event id %q: character %q not allowed", id, id[i])
		}
	}
	return nil
}
