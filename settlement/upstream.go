package settlement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/depositd/depositd/outbox"
	"github.com/depositd/depositd/settlement/ledger"
)

// ReportUpstreamChange records that the cloud's bill for the issued
// statement id now reads as upstream (same id, other lines or amounts):
// one ledger step with no postings, kind "statement.upstream_changed", and
// a statement.upstream_changed outbox event naming both amounts. The issued
// statement is not touched; an operator decides (a correcting statement, a
// coupon, a refund). Idempotent per distinct upstream content: the same
// change reported again writes nothing. ErrNotFound for an unknown id.
func (s *Service) ReportUpstreamChange(ctx context.Context, id string, upstream Statement) error {
	st, err := s.Statement(ctx, id)
	if err != nil {
		return err
	}
	fp, err := issueFingerprint(upstream)
	if err != nil {
		return err
	}
	key := "stmt:" + id + ":upstream:" + fp
	data, err := json.Marshal(map[string]any{
		"statement": id, "account": st.Account, "month": st.Month,
		"issued_official": st.Official().String(), "upstream_official": upstream.Official().String(),
		"issued_lines": len(st.Lines), "upstream_lines": len(upstream.Lines),
	})
	if err != nil {
		return fmt.Errorf("statement %s: event: %w", id, err)
	}
	_, err = s.step(ctx, "upstream", ledger.Txn{
		Key: key, Fingerprint: fp, Account: ledger.AccountID(st.Account), Kind: "statement.upstream_changed",
		Events: []outbox.Event{{ID: ledger.EventID(key, outbox.StatementUpstreamChanged), Type: outbox.StatementUpstreamChanged, CreatedAt: s.now(), Data: data}},
		Meta:   map[string]string{"statement": id, "issued_official": st.Official().String(), "upstream_official": upstream.Official().String()},
	})
	if err != nil && !errors.Is(err, ledger.ErrFingerprint) {
		return fmt.Errorf("statement %s: upstream change: %w", id, err)
	}
	return nil
}
