package settlement

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/settlement/ledger"
)

// An off-chain credit is money an operator records that did not arrive
// through a watched chain (seed 000: BTC paid by exchange internal
// transfer). It names a proof reference (the exchange's transfer id) and
// who entered it; above Config.OffchainApprovalAbove a second, different
// operator must approve it before it reaches the ledger.
//
// Redis layout (relative to the account's shard tag, next to keys.go):
//
//	offcredit:<id>   hash   doc (JSON, the request), status, approved_by,
//	                        rejected_by, reason, decided_at, entry
//	offcredits       hash   id -> "<status> <account>" (shard index)
//	offcreditacct:<id> string (global) the account an id is bound to
//
// Each state change is one ledger step guarded on the status it leaves, so
// two operators deciding at once cannot both win, and a replay after a
// crash is absorbed by the step's idempotency key.

// CreditStatus is the state of an off-chain credit.
type CreditStatus string

// Off-chain credit states: pending_approval → applied | rejected; a credit
// at or below the approval threshold is applied when recorded.
const (
	CreditPending  CreditStatus = "pending_approval"
	CreditApplied  CreditStatus = "applied"
	CreditRejected CreditStatus = "rejected"
)

// Valid reports whether c is a known state.
func (c CreditStatus) Valid() bool {
	return c == CreditPending || c == CreditApplied || c == CreditRejected
}

// ErrState is returned when an off-chain credit is not in a state that
// allows the change (approving a rejected credit, rejecting an applied one).
var ErrState = errors.New("not allowed in this state")

// ErrSameOperator is returned when the operator who entered an off-chain
// credit tries to approve it.
var ErrSameOperator = errors.New("approval needs a second, different operator")

// OffchainCredit is one operator-recorded credit.
type OffchainCredit struct {
	ID          string          `json:"id"`
	Account     string          `json:"account"`
	Amount      money.Units     `json:"amount"`                 // USD credited to cash
	Asset       string          `json:"asset,omitempty"`        // what was received, e.g. "BTC"
	AssetAmount decimal.Decimal `json:"asset_amount,omitzero"`  // in Asset units
	Method      string          `json:"method,omitempty"`       // e.g. "exchange_transfer"
	ProofRef    string          `json:"proof_ref"`              // exchange transfer id, receipt number, ...
	Note        string          `json:"note,omitempty"`         // free text
	EnteredBy   string          `json:"entered_by"`             // operator (API token name)
	EnteredAt   time.Time       `json:"entered_at"`             // set when recorded
	NeedsSecond bool            `json:"needs_approval"`         // above the approval threshold
	Status      CreditStatus    `json:"status"`                 // filled from the record
	ApprovedBy  string          `json:"approved_by,omitempty"`  // applied by whom ("" below the threshold)
	RejectedBy  string          `json:"rejected_by,omitempty"`  // rejected by whom
	Reason      string          `json:"reason,omitempty"`       // rejection reason
	DecidedAt   time.Time       `json:"decided_at,omitzero"`    // approval or rejection time
	EntryID     string          `json:"entry_id,omitempty"`     // ledger entry, once applied
	SettleError string          `json:"settle_error,omitempty"` // settlement after applying failed (retried by the next run)
}

const maxText = 256

// Validate checks the outside-supplied fields of a credit to be recorded.
func (c OffchainCredit) Validate() error {
	if err := validID("credit", c.ID); err != nil {
		return err
	}
	if _, err := ledger.ParseAccountID(c.Account); err != nil {
		return invalid(err)
	}
	if c.Amount <= 0 {
		return invalid(fmt.Errorf("credit %s: amount %s: must be positive", c.ID, c.Amount))
	}
	if strings.TrimSpace(c.ProofRef) == "" {
		return invalid(fmt.Errorf("credit %s: proof_ref is required", c.ID))
	}
	if c.EnteredBy == "" {
		return invalid(fmt.Errorf("credit %s: entered_by is required", c.ID))
	}
	if c.AssetAmount.Sign() < 0 {
		return invalid(fmt.Errorf("credit %s: asset_amount %s: must not be negative", c.ID, c.AssetAmount))
	}
	if c.AssetAmount.Sign() > 0 && c.Asset == "" {
		return invalid(fmt.Errorf("credit %s: asset_amount needs asset", c.ID))
	}
	for name, v := range map[string]string{"asset": c.Asset, "method": c.Method, "proof_ref": c.ProofRef, "note": c.Note} {
		if len(v) > maxText {
			return invalid(fmt.Errorf("credit %s: %s longer than %d bytes", c.ID, name, maxText))
		}
	}
	return nil
}

func offCreditKey(id string) string { return "offcredit:" + id }
func offCreditIndexKey() string     { return "offcredits" }
func offBindKey(id string) string   { return "offcreditacct:" + id }

// sysOffchain is where off-chain money comes from on the ledger.
const sysOffchain = "sys:offchain"

func offRecordTxKey(id string) string { return "offchain:" + id + ":record" }
func offApplyTxKey(id string) string  { return "offchain:" + id }
func offRejectTxKey(id string) string { return "offchain:" + id + ":reject" }
