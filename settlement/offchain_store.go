package settlement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/outbox"
	"github.com/depositd/depositd/settlement/ledger"
)

// Credit returns the off-chain credit with id, its decision fields filled
// from the record. ErrNotFound if missing.
func (s *Service) Credit(ctx context.Context, id string) (OffchainCredit, error) {
	account, err := s.rdb.Get(ctx, offBindKey(id)).Result()
	if errors.Is(err, redis.Nil) {
		return OffchainCredit{}, fmt.Errorf("credit %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return OffchainCredit{}, fmt.Errorf("credit %s: %w", id, err)
	}
	return s.readCredit(ctx, account, id)
}

func (s *Service) readCredit(ctx context.Context, account, id string) (OffchainCredit, error) {
	h, err := s.rdb.HGetAll(ctx, abs(account, offCreditKey(id))).Result()
	if err != nil {
		return OffchainCredit{}, fmt.Errorf("credit %s: %w", id, err)
	}
	if h["doc"] == "" {
		// Bound but its record step never ran (a crash in between).
		return OffchainCredit{}, fmt.Errorf("credit %s: %w", id, ErrNotFound)
	}
	var c OffchainCredit
	if err := json.Unmarshal([]byte(h["doc"]), &c); err != nil {
		return OffchainCredit{}, fmt.Errorf("credit %s: %w", id, err)
	}
	c.Status = CreditStatus(h["status"])
	c.ApprovedBy, c.RejectedBy, c.Reason = h["approved_by"], h["rejected_by"], h["reason"]
	if v := h["decided_at"]; v != "" {
		if c.DecidedAt, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return OffchainCredit{}, fmt.Errorf("credit %s: decided_at: %w", id, err)
		}
	}
	if c.Status == CreditApplied {
		c.EntryID = ledger.EntryIDFor(ledger.AccountID(account), offApplyTxKey(id))
	}
	return c, nil
}

// CreditFilter selects off-chain credits; empty fields match everything.
type CreditFilter struct {
	Status  CreditStatus
	Account string
}

// Credits returns the off-chain credits matching f, oldest entry first
// (then id).
func (s *Service) Credits(ctx context.Context, f CreditFilter) ([]OffchainCredit, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, invalid(fmt.Errorf("status %q: want pending_approval, applied or rejected", f.Status))
	}
	shards := make([]int, 0, outbox.Shards)
	if f.Account != "" {
		shards = append(shards, outbox.ShardOf(f.Account))
	} else {
		for i := range outbox.Shards {
			shards = append(shards, i)
		}
	}
	cmds := make([]*redis.MapStringStringCmd, len(shards))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, sh := range shards {
			cmds[i] = p.HGetAll(ctx, outbox.Tag(sh)+":"+offCreditIndexKey())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("credits: %w", err)
	}
	var out []OffchainCredit
	for _, c := range cmds {
		for id, v := range c.Val() {
			st, account, _ := strings.Cut(v, " ")
			if (f.Account != "" && account != f.Account) || (f.Status != "" && CreditStatus(st) != f.Status) {
				continue
			}
			cr, err := s.readCredit(ctx, account, id)
			if err != nil {
				return nil, err
			}
			out = append(out, cr)
		}
	}
	slices.SortFunc(out, func(a, b OffchainCredit) int {
		if c := a.EnteredAt.Compare(b.EnteredAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}
