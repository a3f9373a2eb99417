// Package ledger is the single place money moves in depositd. Every balance
// change is one atomic, idempotent, balanced step (a Txn) run inside a Lua
// script on Redis. A step reads and checks everything before its first
// write, because Redis does not roll a script back; in order, it checks
// the idempotency record (same key and fingerprint: a replay, nothing is
// written; another fingerprint: ErrFingerprint), that the account exists,
// its guards, then that every book stays within int64 and its floor.
// Entries are append-only; a correction is a new, reversing entry. Amounts
// are int64 units of 1e-8 USD (money.Units), computed with exact integer
// arithmetic in the script and written as exact decimal strings.
//
// Steps are sent pipelined: the steps of one shard share a script call (up
// to 64 per call), so CreditBatch needs two round trips for any number of
// deposits. A call reads each account, the shard's system books and the
// idempotency records it needs once, and writes each of those hashes once
// at its end (earlier when a guard must read them, or when a step raises an
// error); per step it only appends the entry and the outbox events. Deposit credits additionally bind the deposit id to its account
// in a global key before the step, so one on-chain transfer is credited to
// one account only, whatever shard it lives in.
//
// # Key schema
//
// T is the hash tag of the account's shard, outbox.TagOf(account), e.g.
// "{s07}". Every key one step touches carries T, so a step is a single-slot
// script on Redis Cluster too.
//
//	T:acct:<A>   hash    the account: its books ("cash", "credit",
//	                     "coupon:<id>", "coupon_locked:<id>", ...) as int64
//	                     units, and metadata fields that start with "_":
//	                     _name, _master, _created (RFC 3339, UTC),
//	                     _limit (credit limit, units), _ver (version,
//	                     +1 per applied step), _last (ms time of the last entry)
//	T:ent:<A>    stream  the account's entries, append-only, never trimmed.
//	                     Stream id "<ms>-<seq>": ms is the entry's time, made
//	                     non-decreasing per account. Fields: id (entry id),
//	                     key (idempotency key), kind, p (postings, JSON),
//	                     m (meta, JSON), ev (space-separated "<event id>@<outbox stream id>")
//	T:sys        hash    the shard's system books ("sys:deposits:<chain>:<token>", ...)
//	T:idem       hash    idempotency records, kept forever: field = key, value =
//	                     "<entry id>|<account>|<entry stream id>|<fingerprint>"
//	T:outbox     stream  the shard's outbox (outbox.Stream), written in the same step
//	accounts     set     every account id (global, no tag)
//	depacct:<id> string  the account a deposit id is bound to (global, SET NX)
//	replfence    string  counter written before WAIT (WithWaitReplicas)
//
// A Txn's Guards may read any key of the shard; its Sets may write any key of
// the shard except the ledger's own (acct:, ent:, sys, idem, outbox).
//
// # Durability
//
// The ledger needs Redis >= 7.0 (SET NX GET, XADD <ms>-*). It is only as
// durable as the server: run Redis with
// appendonly yes, appendfsync always (or, on Redis >= 7.2, use WithWaitAOF)
// and maxmemory-policy noeviction. CheckPersistence reports what is missing.
// Under Sentinel, replication is asynchronous: WithWaitReplicas makes every
// acknowledged step survive a failover.
package ledger

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/outbox"
)

// Sentinel errors callers branch on; returned errors wrap them.
var (
	ErrNotFound     = errors.New("not found")
	ErrExists       = errors.New("already exists")
	ErrFingerprint  = errors.New("idempotency key reused with a different fingerprint")
	ErrConflict     = errors.New("guard failed: concurrent change")
	ErrInsufficient = errors.New("insufficient funds")
)

// Global keys (no shard tag).
const (
	accountsKey   = "accounts"
	depAcctPrefix = "depacct:"
)

// Metadata fields of the account hash. Book names never start with "_".
const (
	fieldName    = "_name"
	fieldMaster  = "_master"
	fieldCreated = "_created"
	fieldLimit   = "_limit"
	fieldVersion = "_ver"
	fieldLast    = "_last"
)

var (
	//go:embed apply.lua
	applySrc string
	//go:embed open.lua
	openSrc string
)

// AccountID is a customer billing account id: 1 to 64 of [A-Za-z0-9_.-].
type AccountID string

// ParseAccountID validates s as an account id.
func ParseAccountID(s string) (AccountID, error) {
	if len(s) == 0 || len(s) > 64 {
		return "", fmt.Errorf("account id %q: length must be 1..64", s)
	}
	for i := 0; i < len(s); i++ {
		if !idChar(s[i]) {
			return "", fmt.Errorf("account id %q: character %q not allowed (use A-Z a-z 0-9 _ . -)", s, s[i])
		}
	}
	return AccountID(s), nil
}

func idChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// Account is a customer billing account with its balances.
type Account struct {
	ID          AccountID
	Name        string
	Master      AccountID // "" if none
	CreatedAt   time.Time
	Cash        money.Units
	CreditLimit money.Units
	CreditUsed  money.Units            // -credit book when it is negative, else 0
	Books       map[string]money.Units // every book of the account
	Version     int64                  // +1 for every applied step touching the account
}

// Ledger moves money on Redis. It is safe for concurrent use.
type Ledger struct {
	rdb         redis.UniversalClient
	now         func() time.Time
	apply       *redis.Script
	open        *redis.Script
	waitAOF     bool
	replicas    int           // WAIT for this many replicas after each write; 0: no WAIT
	replTimeout time.Duration // WAIT's timeout
}

// New returns a ledger on rdb; now is its clock (time.Now in production).
func New(rdb redis.UniversalClient, now func() time.Time) *Ledger {
	return &Ledger{rdb: rdb, now: now, apply: redis.NewScript(applySrc), open: redis.NewScript(openSrc)}
}

// WithWaitAOF returns a copy of l that, after each write, waits with
// WAITAOF 1 0 0 until the server has fsynced it to its AOF. Use it on
// Redis >= 7.2 with appendonly yes when appendfsync is not "always"
// (CheckPersistence says when). It needs a single-node or Sentinel client:
// WAITAOF must run on the connection that wrote.
func (l *Ledger) WithWaitAOF() *Ledger {
	c := *l
	c.waitAOF = true
	return &c
}

// WithWaitReplicas returns a copy of l that acknowledges a write only once
// n replicas have it: after each pipeline of steps it writes the fence key
// and runs WAIT n timeout on the same connection. When fewer replicas
// confirm within timeout the call fails with an unknown outcome (retry:
// every step is idempotent). With Sentinel and n >= 1, a failover to a
// replica that confirmed cannot lose an acknowledged step. It needs a
// single-node or Sentinel client: WAIT must run on the connection that
// wrote.
func (l *Ledger) WithWaitReplicas(n int, timeout time.Duration) *Ledger {
	c := *l
	c.replicas, c.replTimeout = n, timeout
	return &c
}

func tagOf(id AccountID) string      { return outbox.TagOf(string(id)) }
func acctKey(id AccountID) string    { return tagOf(id) + ":acct:" + string(id) }
func entriesKey(id AccountID) string { return tagOf(id) + ":ent:" + string(id) }
func sysKey(tag string) string       { return tag + ":sys" }
func idemKey(tag string) string      { return tag + ":idem" }

// CreateAccount stores a new account with zero balances and the opening
// entry (kind "account.open"). Balances other than the credit limit must be
// zero: money only arrives through entries. A Master, when set, must exist.
// Errors: ErrExists if the id is taken, ErrNotFound for a missing master.
func (l *Ledger) CreateAccount(ctx context.Context, a Account) error {
	if _, err := ParseAccountID(string(a.ID)); err != nil {
		return err
	}
	if err := checkOpening(a); err != nil {
		return fmt.Errorf("account %s: %w", a.ID, err)
	}
	if a.Master != "" {
		if _, err := ParseAccountID(string(a.Master)); err != nil {
			return fmt.Errorf("account %s: master: %w", a.ID, err)
		}
		if a.Master == a.ID {
			return fmt.Errorf("account %s: cannot be its own master", a.ID)
		}
		n, err := l.rdb.Exists(ctx, acctKey(a.Master)).Result()
		if err != nil {
			return fmt.Errorf("account %s: master %s: %w", a.ID, a.Master, err)
		}
		if n == 0 {
			return fmt.Errorf("account %s: master %s: %w", a.ID, a.Master, ErrNotFound)
		}
	}
	now := l.now().UTC()
	created := a.CreatedAt.UTC()
	if a.CreatedAt.IsZero() {
		created = now
	}
	meta, err := jsonMeta(map[string]string{
		"name": a.Name, "master": string(a.Master), "credit_limit": a.CreditLimit.String(),
	})
	if err != nil {
		return err
	}
	key := "open:" + string(a.ID)
	keys := []string{acctKey(a.ID), entriesKey(a.ID)}
	args := []any{a.Name, string(a.Master), created.Format(time.RFC3339Nano), int64(a.CreditLimit),
		now.UnixMilli(), entryIDFor(a.ID, key), key, meta}
	cmd, err := l.runScript(ctx, l.open, keys, args)
	if err != nil {
		return fmt.Errorf("create account %s: %w", a.ID, err)
	}
	// The global index is written after the account so it never lists an
	// account that does not exist; SADD is idempotent, so a retry after a
	// crash between the two repairs it (Verify reports the gap meanwhile).
	if err := l.rdb.SAdd(ctx, accountsKey, string(a.ID)).Err(); err != nil {
		return fmt.Errorf("create account %s: index: %w", a.ID, err)
	}
	if s, _ := cmd.Text(); s == "exists" {
		return fmt.Errorf("account %s: %w", a.ID, ErrExists)
	}
	return nil
}

func checkOpening(a Account) error {
	if a.Cash != 0 || a.CreditUsed != 0 {
		return errors.New("opening balances must be zero; post money as entries")
	}
	for b, v := range a.Books {
		if v != 0 {
			return fmt.Errorf("opening book %s must be zero; post money as entries", b)
		}
	}
	if a.CreditLimit < 0 {
		return fmt.Errorf("credit limit %s: must be >= 0", a.CreditLimit)
	}
	if len(a.Name) > 256 {
		return errors.New("name longer than 256 bytes")
	}
	return nil
}

// Account returns the account with all its books. ErrNotFound if missing.
func (l *Ledger) Account(ctx context.Context, id AccountID) (Account, error) {
	if _, err := ParseAccountID(string(id)); err != nil {
		return Account{}, err
	}
	h, err := l.rdb.HGetAll(ctx, acctKey(id)).Result()
	if err != nil {
		return Account{}, fmt.Errorf("account %s: %w", id, err)
	}
	if len(h) == 0 {
		return Account{}, fmt.Errorf("account %s: %w", id, ErrNotFound)
	}
	a, err := decodeAccount(id, h)
	if err != nil {
		return Account{}, fmt.Errorf("account %s: %w", id, err)
	}
	return a, nil
}

func decodeAccount(id AccountID, h map[string]string) (Account, error) {
	a := Account{ID: id, Name: h[fieldName], Master: AccountID(h[fieldMaster]), Books: map[string]money.Units{}}
	var err error
	if a.CreatedAt, err = time.Parse(time.RFC3339Nano, h[fieldCreated]); err != nil {
		return Account{}, fmt.Errorf("created: %w", err)
	}
	if a.Version, err = strconv.ParseInt(h[fieldVersion], 10, 64); err != nil {
		return Account{}, fmt.Errorf("version: %w", err)
	}
	limit, err := strconv.ParseInt(h[fieldLimit], 10, 64)
	if err != nil {
		return Account{}, fmt.Errorf("credit limit: %w", err)
	}
	a.CreditLimit = money.Units(limit)
	for f, v := range h {
		if strings.HasPrefix(f, "_") {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return Account{}, fmt.Errorf("book %s: %w", f, err)
		}
		a.Books[f] = money.Units(n)
	}
	a.Cash = a.Books["cash"]
	if c := a.Books["credit"]; c < 0 {
		a.CreditUsed = -c
	}
	return a, nil
}

// Accounts returns every account id, sorted.
func (l *Ledger) Accounts(ctx context.Context) ([]AccountID, error) {
	ids, err := l.rdb.SMembers(ctx, accountsKey).Result()
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	sort.Strings(ids)
	out := make([]AccountID, len(ids))
	for i, s := range ids {
		out[i] = AccountID(s)
	}
	return out, nil
}

// SetCreditLimit sets the account's credit limit in one ledger step with an
// audit entry (kind "credit.limit", no postings). It refuses (ErrInsufficient)
// a limit below the credit already used, and retries a few times when the
// account changes concurrently (then ErrConflict). ErrNotFound if missing.
func (l *Ledger) SetCreditLimit(ctx context.Context, id AccountID, limit money.Units) error {
	if _, err := ParseAccountID(string(id)); err != nil {
		return err
	}
	if limit < 0 {
		return fmt.Errorf("credit limit %s: must be >= 0", limit)
	}
	const attempts = 8
	for i := 0; i < attempts; i++ {
		cur, err := l.rdb.HMGet(ctx, acctKey(id), fieldVersion, fieldLimit).Result()
		if err != nil {
			return fmt.Errorf("credit limit %s: %w", id, err)
		}
		ver, _ := cur[0].(string)
		if ver == "" {
			return fmt.Errorf("account %s: %w", id, ErrNotFound)
		}
		prev, _ := cur[1].(string)
		t := Txn{
			Key:         "limit:" + string(id) + ":" + ver,
			Fingerprint: "limit=" + strconv.FormatInt(int64(limit), 10),
			Account:     id,
			Kind:        "credit.limit",
			Guards:      []Guard{{Key: "acct:" + string(id), Field: fieldVersion, Equals: ver}},
			Meta:        map[string]string{"credit_limit": limit.String(), "previous": prev},
		}
		_, err = l.applyTxn(ctx, t, &limit)
		// Another step moved the version (guard), or another limit change
		// claimed this version's key first (fingerprint): read again.
		if errors.Is(err, ErrConflict) || errors.Is(err, ErrFingerprint) {
			continue
		}
		return err
	}
	return fmt.Errorf("credit limit %s: %d attempts: %w", id, attempts, ErrConflict)
}
