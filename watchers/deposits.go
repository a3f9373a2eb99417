package watchers

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/outbox"
)

// Deposit records live in the account's shard so that a status move, its
// indexes and its outbox event are one atomic script on one Cluster slot:
//
//	{sNN}:deposit:<id>                   hash: the Deposit fields, seq, status
//	{sNN}:deposits                       zset id → first-seen seq (all)
//	{sNN}:deposits:chain:<chain>         zset id → seq
//	{sNN}:deposits:account:<account>     zset id → seq
//	{sNN}:deposits:status:<status>       zset id → seq (current status only)
//	{sNN}:deposits:pending:<chain>       zset id → block, status seen only
//	{sNN}:outbox                         deposit.seen/orphaned/reversed events
//	deposits:seq                         global first-seen sequence
//
// ("dep:" under the shard tag is the ledger's idempotency key, hence
// "deposit:" here.)
const seqKey = "deposits:seq"

// Status is a deposit's lifecycle state.
type Status string

// Deposit statuses. Moves are monotonic except seen→orphaned→seen
// (re-inclusion) and credited→reversed.
const (
	StatusSeen     Status = "seen"
	StatusCredited Status = "credited"
	StatusOrphaned Status = "orphaned"
	StatusReversed Status = "reversed"
)

var statuses = []Status{StatusSeen, StatusCredited, StatusOrphaned, StatusReversed}

// ErrNoDeposit is returned by Get for an unknown id.
var ErrNoDeposit = errors.New("deposit not found")

// Deposit is one deposit as the API shows it.
type Deposit struct {
	ID            string     `json:"id"`
	Chain         string     `json:"chain"`
	Token         string     `json:"token"`
	Contract      string     `json:"contract"`
	Tx            string     `json:"tx"`
	Index         uint32     `json:"index"`
	Block         uint64     `json:"block"`
	BlockHash     string     `json:"block_hash"`
	From          string     `json:"from"`
	To            string     `json:"to"`
	Account       string     `json:"account"`
	Amount        string     `json:"amount"`     // token units, decimal string
	RawAmount     string     `json:"raw_amount"` // base units, integer string
	Status        Status     `json:"status"`
	Confirmations uint64     `json:"confirmations"`
	Required      uint64     `json:"required"`
	SeenAt        time.Time  `json:"seen_at"`
	CreditedAt    *time.Time `json:"credited_at,omitempty"`
}

// Deposits is the Redis store of deposit records behind GET /v1/deposits.
// Writes are idempotent: replaying the same block changes nothing and
// announces nothing. Safe for concurrent use.
type Deposits struct {
	rdb redis.UniversalClient
}

// NewDeposits returns the store over rdb (standalone, Sentinel or Cluster).
func NewDeposits(rdb redis.UniversalClient) *Deposits { return &Deposits{rdb: rdb} }

//go:embed deposits.lua
var depositLua string

var depositScript = redis.NewScript(fenceLua + depositLua)

// op is a status move requested of the script.
type op string

const (
	opSeen    op = "seen"    // record or re-include as seen, event deposit.seen
	opConf    op = "conf"    // update confirmations of a seen record in that block
	opOrphan  op = "orphan"  // seen → orphaned, or credited → reversed, for that block
	opCredit  op = "credit"  // → credited (no event: the ledger announces it)
	opReverse op = "reverse" // credited → reversed for that block, event deposit.reversed
)

// write applies one move. It returns the resulting change: "" when nothing
// changed, else the new status (or "conf").
// token is the writer's fencing token (see fence.go).
func (s *Deposits) write(ctx context.Context, token int64, o op, d Deposit, now time.Time) (string, error) {
	var seq int64
	if o == opSeen || o == opCredit {
		n, err := s.rdb.Incr(ctx, seqKey).Result()
		if err != nil {
			return "", fmt.Errorf("deposit %s: sequence: %w", d.ID, err)
		}
		seq = n
	}
	keys, args, err := writeArgs(token, o, d, seq, now)
	if err != nil {
		return "", err
	}
	res, err := depositScript.Run(ctx, s.rdb, keys, args...).Text()
	if err = staleErr(err); err != nil {
		return "", fmt.Errorf("deposit %s %s: %w", d.ID, o, err)
	}
	return res, nil
}

// writeMany applies move o to every deposit of ds in one pipeline (one
// round trip, plus one per deposit whose script the server had to load),
// numbering new records in the order of ds. It returns each write's result
// as write does; on error some of the moves may have been applied (each is
// idempotent).
func (s *Deposits) writeMany(ctx context.Context, token int64, o op, ds []Deposit, now time.Time) ([]string, error) {
	var last int64
	if o == opSeen || o == opCredit {
		n, err := s.rdb.IncrBy(ctx, seqKey, int64(len(ds))).Result()
		if err != nil {
			return nil, fmt.Errorf("deposits: sequence: %w", err)
		}
		last = n
	}
	keys, args := make([][]string, len(ds)), make([][]any, len(ds))
	for i, d := range ds {
		var seq int64
		if last > 0 {
			seq = last - int64(len(ds)-1-i)
		}
		var err error
		if keys[i], args[i], err = writeArgs(token, o, d, seq, now); err != nil {
			return nil, err
		}
	}
	cmds := make([]*redis.Cmd, len(ds))
	_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range ds {
			cmds[i] = depositScript.EvalSha(ctx, p, keys[i], args[i]...)
		}
		return nil
	})
	out := make([]string, len(ds))
	for i, c := range cmds {
		res, err := c.Text()
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			res, err = depositScript.Run(ctx, s.rdb, keys[i], args[i]...).Text()
		}
		if err = staleErr(err); err != nil {
			return nil, fmt.Errorf("deposit %s %s: %w", ds[i].ID, o, err)
		}
		out[i] = res
	}
	return out, nil
}

// writeArgs builds the script's keys and arguments for move o of d.
func writeArgs(token int64, o op, d Deposit, seq int64, now time.Time) ([]string, []any, error) {
	tag := outbox.TagOf(d.Account)
	keys := []string{
		tag + ":deposit:" + d.ID,
		tag + ":deposits",
		tag + ":deposits:chain:" + d.Chain,
		tag + ":deposits:account:" + d.Account,
	}
	for _, st := range statuses {
		keys = append(keys, tag+":deposits:status:"+string(st))
	}
	shard := outbox.ShardOf(d.Account)
	keys = append(keys, tag+":deposits:pending:"+d.Chain, outbox.Stream(shard), shardFence(shard, d.Chain))
	main, alt := string(d.Status), string(StatusReversed)
	mainData, err := eventData(d, d.Status)
	if err != nil {
		return nil, nil, err
	}
	altData, err := eventData(d, StatusReversed)
	if err != nil {
		return nil, nil, err
	}
	stamp := now.UTC().Format(time.RFC3339Nano)
	args := []any{
		string(o), d.ID, seq, stamp, d.BlockHash, d.Block, d.Confirmations, d.Required,
		eventID(main, d), mainData, eventID(alt, d), altData, stamp, token,
	}
	args = append(args,
		"id", d.ID, "chain", d.Chain, "token", d.Token, "contract", d.Contract, "tx", d.Tx,
		"index", d.Index, "block", d.Block, "block_hash", d.BlockHash, "from", d.From, "to", d.To,
		"account", d.Account, "amount", d.Amount, "raw_amount", d.RawAmount,
		"confirmations", d.Confirmations, "required", d.Required)
	if d.CreditedAt != nil {
		args = append(args, "credited_at", d.CreditedAt.UTC().Format(time.RFC3339Nano))
	}
	return keys, args, nil
}

func eventType(st string) string {
	switch Status(st) {
	case StatusSeen:
		return outbox.DepositSeen
	case StatusOrphaned:
		return outbox.DepositOrphaned
	case StatusReversed:
		return outbox.DepositReversed
	}
	return outbox.DepositCredited
}

// eventID is deterministic in (type, deposit, block) so a re-run that does
// write again writes the same id and receivers dedupe on webhook-id.
func eventID(st string, d Deposit) string {
	sum := sha256.Sum256([]byte(eventType(st) + "|" + d.ID + "|" + d.BlockHash))
	return "evt_" + hex.EncodeToString(sum[:16])
}

func eventData(d Deposit, st Status) (string, error) {
	d.Status = st
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("deposit %s: event data: %w", d.ID, err)
	}
	return string(b), nil
}

// depositOf builds the record of a match.
func depositOf(m Match, st Status, confs, required uint64, now time.Time) Deposit {
	t := m.Transfer
	raw := t.Amount
	if raw == nil {
		raw = new(big.Int)
	}
	return Deposit{
		ID: t.ID(), Chain: t.Chain, Token: t.Token, Contract: t.Contract, Tx: t.TxID, Index: t.Index,
		Block: t.Block, BlockHash: t.BlockHash, From: t.From, To: t.To, Account: m.Account,
		Amount: money.FormatToken(raw, t.Decimals), RawAmount: raw.String(), Status: st,
		Confirmations: confs, Required: required, SeenAt: now.UTC(),
	}
}

// Get returns the deposit with id, or ErrNoDeposit.
func (s *Deposits) Get(ctx context.Context, id string) (Deposit, error) {
	cmds := make([]*redis.MapStringStringCmd, outbox.Shards)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range cmds {
			cmds[i] = p.HGetAll(ctx, outbox.Tag(i)+":deposit:"+id)
		}
		return nil
	})
	if err != nil {
		return Deposit{}, fmt.Errorf("deposit %s: %w", id, err)
	}
	for _, c := range cmds {
		if m := c.Val(); len(m) > 0 {
			d, _, err := parseDeposit(m)
			return d, err
		}
	}
	return Deposit{}, fmt.Errorf("deposit %s: %w", id, ErrNoDeposit)
}

// parseDeposit decodes a record hash; it also returns the first-seen seq.
func parseDeposit(m map[string]string) (Deposit, int64, error) {
	d := Deposit{
		ID: m["id"], Chain: m["chain"], Token: m["token"], Contract: m["contract"], Tx: m["tx"],
		BlockHash: m["block_hash"], From: m["from"], To: m["to"], Account: m["account"],
		Amount: m["amount"], RawAmount: m["raw_amount"], Status: Status(m["status"]),
	}
	var errs []error
	u := func(k string) uint64 {
		v, err := strconv.ParseUint(m[k], 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
		}
		return v
	}
	d.Index = uint32(u("index"))
	d.Block = u("block")
	d.Confirmations = u("confirmations")
	d.Required = u("required")
	seq := int64(u("seq"))
	ts := func(k string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, m[k])
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
		}
		return v
	}
	d.SeenAt = ts("seen_at")
	if _, ok := m["credited_at"]; ok {
		at := ts("credited_at")
		d.CreditedAt = &at
	}
	if err := errors.Join(errs...); err != nil {
		return Deposit{}, 0, fmt.Errorf("deposit record %q: %w", d.ID, err)
	}
	return d, seq, nil
}

// pendingUpTo returns the seen deposits of chain in blocks ≤ block.
func (s *Deposits) pendingUpTo(ctx context.Context, chain string, block uint64) ([]Deposit, error) {
	cmds := make([]*redis.StringSliceCmd, outbox.Shards)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range cmds {
			cmds[i] = p.ZRangeByScore(ctx, outbox.Tag(i)+":deposits:pending:"+chain,
				&redis.ZRangeBy{Min: "-inf", Max: strconv.FormatUint(block, 10)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pending deposits of %s ≤ %d: %w", chain, block, err)
	}
	var out []Deposit
	for _, c := range cmds {
		for _, id := range c.Val() {
			d, err := s.Get(ctx, id)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
	}
	return out, nil
}
