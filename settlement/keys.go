package settlement

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"

	"github.com/depositd/depositd/outbox"
)

// Redis layout. Every key of an account lives under its shard's hash tag
// (outbox.TagOf(account)) so that one ledger step touches one Cluster slot.
// The names below are relative to the tag ("stmt:<id>" is the key
// "{sNN}:stmt:<id>"), the form ledger Guards and Sets take.
//
//	stmt:<id>              hash   statement: doc (priced JSON), status, version, seq,
//	                              payments, coupons, cash, credit, lock, lp:<i> (line paid)
//	stmts                  hash   statement id -> "<status> <account>" (shard index)
//	stmts:<account>        hash   statement id -> "<status> <issued unix ns>"
//	cpn:<account>:<id>     hash   coupon: doc (JSON: amount, expiry, scope)
//	cpns:<account>         hash   coupon id -> "1"
//	discounts:<account>    hash   discount id -> JSON
//	settle:<account>       hash   repay_seq (arrears repayments), thresholds (JSON)
//	payrec:<account>       hash   "<stmt>:<n>" or "repay:<n>" -> payment record JSON
//
// Coupon money itself is on the ledger: books coupon:<id> and
// coupon_locked:<id> of the account.
func stmtKey(id string) string            { return "stmt:" + id }
func stmtIndexKey() string                { return "stmts" }
func acctStmtsKey(account string) string  { return "stmts:" + account }
func couponKey(account, id string) string { return "cpn:" + account + ":" + id }
func couponsKey(account string) string    { return "cpns:" + account }
func discountsKey(account string) string  { return "discounts:" + account }
func settleKey(account string) string     { return "settle:" + account }
func payRecKey(account string) string     { return "payrec:" + account }

// abs turns a tag-relative key into the Redis key of account's shard.
func abs(account, rel string) string { return outbox.TagOf(account) + ":" + rel }

// Ledger books of an account.
const (
	bookCash   = "cash"
	bookCredit = "credit"
	// sysCoupons is where coupon money comes from when a coupon is granted.
	sysCoupons = "sys:coupons"
	// sysBilling receives every statement payment (owed to the cloud).
	sysBilling = "sys:billing"
)

func couponBook(id string) string       { return "coupon:" + id }
func couponLockedBook(id string) string { return "coupon_locked:" + id }

// Idempotency keys of the ledger steps; each derives from the statement id
// and payment number (or the account and repayment number), so a re-run
// after a crash reproduces the same keys.
func issueTxKey(stmt string) string           { return "stmt:" + stmt + ":issue" }
func lockTxKey(stmt string, n int) string     { return "pay:" + stmt + ":" + strconv.Itoa(n) + ":lock" }
func payTxKey(stmt string, n int) string      { return "pay:" + stmt + ":" + strconv.Itoa(n) }
func unlockTxKey(stmt string, n int) string   { return "pay:" + stmt + ":" + strconv.Itoa(n) + ":unlock" }
func overdueTxKey(stmt string) string         { return "stmt:" + stmt + ":overdue" }
func repayTxKey(account string, n int) string { return "repay:" + account + ":" + strconv.Itoa(n) }
func couponTxKey(account, id string) string   { return "coupon:" + account + ":" + id }
func creditTxKey(account string, v int) string {
	return "creditlimit:" + account + ":" + strconv.Itoa(v)
}

// eventID derives a stable event id from the step's idempotency key, so a
// re-run writes the same id (outbox contract).
func eventID(txKey, typ string, extra string) string {
	h := sha256.Sum256([]byte(txKey + "\x00" + typ + "\x00" + extra))
	return "evt_" + hex.EncodeToString(h[:12])
}

// fingerprint hashes the parts of a step that must match on a replay.
func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
