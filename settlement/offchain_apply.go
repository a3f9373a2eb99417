package settlement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/outbox"
	"github.com/depositd/depositd/settlement/ledger"
)

// RecordCredit records c (EnteredAt, Status and the decision fields are set
// here). At or below the approval threshold it is applied at once: a
// ledger step of kind "credit.offchain" moves Amount from sys:offchain into
// cash with a credit.recorded event, and the account is settled. Above it,
// it waits in pending_approval for ApproveCredit by another operator.
//
// Idempotent on c.ID: recording the same credit again returns the stored
// one; the same id with other content is ErrExists. ErrNotFound if the
// account is missing. A settlement failure after applying is reported in
// the returned credit's SettleError, not as an error: the money is in.
func (s *Service) RecordCredit(ctx context.Context, c OffchainCredit) (OffchainCredit, error) {
	c.Status, c.ApprovedBy, c.RejectedBy, c.Reason, c.DecidedAt, c.EntryID, c.SettleError = "", "", "", "", time.Time{}, "", ""
	c.EnteredAt = time.Time{}
	if err := c.Validate(); err != nil {
		return OffchainCredit{}, err
	}
	if _, err := s.account(ctx, c.Account); err != nil {
		return OffchainCredit{}, err
	}
	c.NeedsSecond = c.Amount > s.cfg.OffchainApprovalAbove
	if err := s.bindCredit(ctx, c); err != nil {
		return OffchainCredit{}, err
	}
	fp, err := creditFingerprint(c)
	if err != nil {
		return OffchainCredit{}, err
	}
	c.EnteredAt = s.now().UTC()
	body, err := json.Marshal(c)
	if err != nil {
		return OffchainCredit{}, fmt.Errorf("credit %s: %w", c.ID, err)
	}
	k := offCreditKey(c.ID)
	_, err = s.step(ctx, "credit.record", ledger.Txn{
		Key: offRecordTxKey(c.ID), Fingerprint: fp, Account: ledger.AccountID(c.Account), Kind: "credit.offchain.record",
		Guards: []ledger.Guard{{Key: k, Field: "status", Equals: ""}},
		Sets: []ledger.Set{
			{Key: k, Field: "doc", Value: string(body)},
			{Key: k, Field: "status", Value: string(CreditPending)},
			{Key: offCreditIndexKey(), Field: c.ID, Value: string(CreditPending) + " " + c.Account},
		},
		Meta: map[string]string{"credit": c.ID, "amount": c.Amount.String(), "proof_ref": c.ProofRef, "entered_by": c.EnteredBy},
	})
	switch {
	case errors.Is(err, ledger.ErrFingerprint):
		return OffchainCredit{}, fmt.Errorf("credit %s: %w", c.ID, ErrExists)
	case errors.Is(err, ledger.ErrConflict):
		// Recorded earlier (a retry whose first reply was lost, or a
		// decision already taken): the stored record answers.
	case err != nil:
		return OffchainCredit{}, fmt.Errorf("credit %s: %w", c.ID, err)
	}
	got, err := s.Credit(ctx, c.ID)
	if err != nil {
		return OffchainCredit{}, err
	}
	switch {
	case got.Status == CreditApplied:
		return s.settle(ctx, got), nil
	case got.Status != CreditPending || got.NeedsSecond:
		return got, nil
	}
	return s.applyCredit(ctx, got, "")
}

// creditFingerprint covers what the caller supplied, so a retry of the same
// request matches and another request under the same id does not.
func creditFingerprint(c OffchainCredit) (string, error) {
	in := c
	in.EnteredAt, in.NeedsSecond = time.Time{}, false
	b, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("credit %s: %w", c.ID, err)
	}
	return fingerprint("v1", string(b)), nil
}

// bindCredit binds the id to its account on a global key, so one id names
// one credit whatever shard its account lives in.
func (s *Service) bindCredit(ctx context.Context, c OffchainCredit) error {
	prev, err := s.rdb.SetArgs(ctx, offBindKey(c.ID), c.Account, redis.SetArgs{Mode: "NX", Get: true}).Result()
	switch {
	case errors.Is(err, redis.Nil):
		return nil
	case err != nil:
		return fmt.Errorf("credit %s: bind: %w", c.ID, err)
	case prev != c.Account:
		return fmt.Errorf("credit %s: recorded for account %s: %w", c.ID, prev, ErrExists)
	}
	return nil
}

// ApproveCredit applies a pending credit on the approval of operator, who
// must not be the one who entered it (ErrSameOperator). Approving an
// applied credit again returns it unchanged; a rejected one is ErrState.
// ErrNotFound for an unknown id.
func (s *Service) ApproveCredit(ctx context.Context, id, operator string) (OffchainCredit, error) {
	if operator == "" {
		return OffchainCredit{}, invalid(fmt.Errorf("credit %s: approving operator is required", id))
	}
	c, err := s.Credit(ctx, id)
	if err != nil {
		return OffchainCredit{}, err
	}
	if operator == c.EnteredBy {
		return OffchainCredit{}, fmt.Errorf("credit %s: entered by %s: %w", id, operator, ErrSameOperator)
	}
	switch c.Status {
	case CreditApplied:
		return s.settle(ctx, c), nil
	case CreditRejected:
		return OffchainCredit{}, fmt.Errorf("credit %s: rejected by %s: %w", id, c.RejectedBy, ErrState)
	}
	return s.applyCredit(ctx, c, operator)
}

// RejectCredit rejects a pending credit; nothing reaches the ledger's
// books. Any write operator may reject, the one who entered it included
// (withdrawing an entry). Rejecting again returns it unchanged; an applied
// credit is ErrState: correct it with a new, reversing entry instead.
func (s *Service) RejectCredit(ctx context.Context, id, operator, reason string) (OffchainCredit, error) {
	if operator == "" {
		return OffchainCredit{}, invalid(fmt.Errorf("credit %s: rejecting operator is required", id))
	}
	if len(reason) > maxText {
		return OffchainCredit{}, invalid(fmt.Errorf("credit %s: reason longer than %d bytes", id, maxText))
	}
	c, err := s.Credit(ctx, id)
	if err != nil {
		return OffchainCredit{}, err
	}
	switch c.Status {
	case CreditRejected:
		return c, nil
	case CreditApplied:
		return OffchainCredit{}, fmt.Errorf("credit %s: already applied: %w", id, ErrState)
	}
	now := s.now().UTC().Format(time.RFC3339Nano)
	k := offCreditKey(id)
	_, err = s.step(ctx, "credit.reject", ledger.Txn{
		Key: offRejectTxKey(id), Fingerprint: fingerprint(operator, reason), Account: ledger.AccountID(c.Account),
		Kind:   "credit.offchain.reject",
		Guards: []ledger.Guard{{Key: k, Field: "status", Equals: string(CreditPending)}},
		Sets: []ledger.Set{
			{Key: k, Field: "status", Value: string(CreditRejected)},
			{Key: k, Field: "rejected_by", Value: operator},
			{Key: k, Field: "reason", Value: reason},
			{Key: k, Field: "decided_at", Value: now},
			{Key: offCreditIndexKey(), Field: id, Value: string(CreditRejected) + " " + c.Account},
		},
		Meta: map[string]string{"credit": id, "rejected_by": operator, "reason": reason},
	})
	if err != nil && !errors.Is(err, ledger.ErrConflict) && !errors.Is(err, ledger.ErrFingerprint) {
		return OffchainCredit{}, fmt.Errorf("credit %s: %w", id, err)
	}
	got, gerr := s.Credit(ctx, id)
	if gerr != nil {
		return OffchainCredit{}, gerr
	}
	if got.Status != CreditRejected {
		return OffchainCredit{}, fmt.Errorf("credit %s: %s meanwhile: %w", id, got.Status, ErrState)
	}
	return got, nil
}

// applyCredit moves the money in one ledger step guarded on the pending
// status, then settles the account.
func (s *Service) applyCredit(ctx context.Context, c OffchainCredit, approver string) (OffchainCredit, error) {
	key := offApplyTxKey(c.ID)
	now := s.now().UTC()
	data, err := json.Marshal(creditEvent(c, approver))
	if err != nil {
		return OffchainCredit{}, fmt.Errorf("credit %s: event: %w", c.ID, err)
	}
	k := offCreditKey(c.ID)
	_, err = s.step(ctx, "credit.apply", ledger.Txn{
		Key: key, Fingerprint: fingerprint(c.Account, c.Amount.String(), approver), Account: ledger.AccountID(c.Account),
		Kind:   "credit.offchain",
		Guards: []ledger.Guard{{Key: k, Field: "status", Equals: string(CreditPending)}},
		Postings: []ledger.Posting{
			{Book: bookCash, Delta: c.Amount},
			{Book: sysOffchain, Delta: -c.Amount},
		},
		Sets: []ledger.Set{
			{Key: k, Field: "status", Value: string(CreditApplied)},
			{Key: k, Field: "approved_by", Value: approver},
			{Key: k, Field: "decided_at", Value: now.Format(time.RFC3339Nano)},
			{Key: offCreditIndexKey(), Field: c.ID, Value: string(CreditApplied) + " " + c.Account},
		},
		Events: []outbox.Event{{ID: ledger.EventID(key, outbox.CreditRecorded), Type: outbox.CreditRecorded, CreatedAt: now, Data: data}},
		Meta: map[string]string{
			"credit": c.ID, "usd": c.Amount.String(), "proof_ref": c.ProofRef, "method": c.Method, "asset": c.Asset,
			"asset_amount": assetAmount(c), "entered_by": c.EnteredBy, "approved_by": approver,
		},
	})
	switch {
	case errors.Is(err, ledger.ErrConflict), errors.Is(err, ledger.ErrFingerprint):
		// Decided meanwhile by another operator: report what stands.
		got, gerr := s.Credit(ctx, c.ID)
		if gerr != nil {
			return OffchainCredit{}, gerr
		}
		if got.Status != CreditApplied {
			return OffchainCredit{}, fmt.Errorf("credit %s: %s meanwhile: %w", c.ID, got.Status, ErrState)
		}
		return s.settle(ctx, got), nil
	case err != nil:
		return OffchainCredit{}, fmt.Errorf("credit %s: %w", c.ID, err)
	}
	got, err := s.Credit(ctx, c.ID)
	if err != nil {
		return OffchainCredit{}, err
	}
	return s.settle(ctx, got), nil
}

// settle settles the account of an applied credit. It runs on replays too
// (settling is idempotent), so a crash between applying and settling is
// repaired by retrying the request. A failure is reported in SettleError:
// the money is in, and the next run pays with it.
func (s *Service) settle(ctx context.Context, c OffchainCredit) OffchainCredit {
	if _, err := s.SettleAccount(ctx, c.Account); err != nil {
		s.cfg.Logger.Warn("off-chain credit applied, settlement failed", "credit", c.ID, "account", c.Account, "err", err)
		c.SettleError = err.Error()
	}
	return c
}

// creditEvent is the credit.recorded payload.
func creditEvent(c OffchainCredit, approver string) map[string]any {
	return map[string]any{
		"id": c.ID, "account": c.Account, "usd": c.Amount.String(), "proof_ref": c.ProofRef,
		"method": c.Method, "asset": c.Asset, "asset_amount": assetAmount(c), "note": c.Note,
		"entered_by": c.EnteredBy, "approved_by": approver,
		"entry_id": ledger.EntryIDFor(ledger.AccountID(c.Account), offApplyTxKey(c.ID)),
	}
}

func assetAmount(c OffchainCredit) string {
	if c.AssetAmount.IsZero() {
		return ""
	}
	return c.AssetAmount.String()
}
