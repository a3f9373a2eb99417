package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/outbox"
)

// Deposit is one final on-chain transfer to an account's deposit address.
type Deposit struct {
	ID        string // "chain:tx:index", as chains.Transfer.ID
	Account   AccountID
	Chain     string
	Token     string
	Contract  string
	TxID      string
	Index     uint32
	Block     uint64
	BlockHash string
	To        string
	Raw       *big.Int // base units, > 0
	Decimals  int32
	Rate      decimal.Decimal // USD per whole token, > 0
}

// Credit is the outcome of crediting a deposit.
type Credit struct {
	EntryID string
	USD     money.Units     // credited, floored to 1e-8
	Dust    decimal.Decimal // USD received but not credited (below 1e-8)
	Applied bool            // false: credited earlier; USD and Dust are the stored ones
}

// CreditResult is one deposit's outcome in CreditBatch.
type CreditResult struct {
	Credit
	Err error
}

// Credit credits d to its account exactly once: postings cash +usd and
// "sys:deposits:<chain>:<token>" -usd, entry kind "deposit", idempotency key
// "dep:"+ID, and a deposit.credited outbox event with a deterministic id
// (EventID(key, type)). A dust-only deposit still records a zero entry.
// Crediting the same ID again returns Applied=false; the same ID with
// another amount, token or account is ErrFingerprint. ErrNotFound if the
// account does not exist. Safe to retry after any error.
func (l *Ledger) Credit(ctx context.Context, d Deposit) (Credit, error) {
	r := l.CreditBatch(ctx, []Deposit{d})
	return r[0].Credit, r[0].Err
}

// CreditBatch credits many deposits with two pipelined round trips; each
// result is what Credit would return for that deposit (a zero Credit when
// Err is set).
func (l *Ledger) CreditBatch(ctx context.Context, ds []Deposit) []CreditResult {
	out := l.creditBatch(ctx, ds)
	for i := range out {
		if out[i].Err != nil {
			out[i].Credit = Credit{}
		}
	}
	return out
}

func (l *Ledger) creditBatch(ctx context.Context, ds []Deposit) []CreditResult {
	out := make([]CreditResult, len(ds))
	steps := make([]step, 0, len(ds))
	idx := make([]int, 0, len(ds))
	for i, d := range ds {
		s, usd, dust, err := l.depositStep(d)
		if err != nil {
			out[i].Err = err
			continue
		}
		out[i].USD, out[i].Dust = usd, dust
		steps = append(steps, s)
		idx = append(idx, i)
	}
	if len(steps) == 0 {
		return out
	}
	if err := l.bindDeposits(ctx, ds, steps, idx, out); err != nil {
		setAll(out, idx, err)
		return out
	}
	var keep []step
	var keepIdx []int
	for j, i := range idx {
		if out[i].Err == nil {
			keep = append(keep, steps[j])
			keepIdx = append(keepIdx, i)
		}
	}
	if len(keep) == 0 {
		return out
	}
	res, err := l.runSteps(ctx, keep)
	if err != nil {
		setAll(out, keepIdx, err)
		return out
	}
	var dups []int
	sids := map[int]outcome{}
	for j, i := range keepIdx {
		out[i].Err = res[j].err
		out[i].EntryID, out[i].Applied = res[j].EntryID, res[j].Applied
		if res[j].err == nil && !res[j].Applied {
			dups = append(dups, i)
			sids[i] = res[j].outcome
		}
	}
	l.storedAmounts(ctx, dups, sids, out)
	return out
}

func setAll(out []CreditResult, idx []int, err error) {
	for _, i := range idx {
		out[i].Err = err
	}
}

// bindDeposits binds each deposit id to its account (SET NX GET on a
// global key) before the shard-local script runs: the shard's idempotency
// record cannot see a credit of the same id to an account in another shard.
// A binding is never removed, even if the credit then fails.
func (l *Ledger) bindDeposits(ctx context.Context, ds []Deposit, steps []step, idx []int, out []CreditResult) error {
	pipe := l.rdb.Pipeline()
	cmds := make([]*redis.StatusCmd, len(steps))
	for j, i := range idx {
		cmds[j] = pipe.SetArgs(ctx, depAcctPrefix+ds[i].ID, string(ds[i].Account), redis.SetArgs{Mode: "NX", Get: true})
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("bind deposits: %w", err)
	}
	for j, i := range idx {
		prev, err := cmds[j].Result()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			out[i].Err = fmt.Errorf("deposit %s: bind: %w", ds[i].ID, err)
		case prev != string(ds[i].Account):
			out[i].Err = fmt.Errorf("deposit %s: bound to account %s, not %s: %w", ds[i].ID, prev, ds[i].Account, ErrFingerprint)
		}
	}
	return nil
}

// storedAmounts fills USD and Dust of replayed deposits from their entries,
// so a replay under a changed rate reports what was actually credited.
func (l *Ledger) storedAmounts(ctx context.Context, dups []int, o map[int]outcome, out []CreditResult) {
	if len(dups) == 0 {
		return
	}
	pipe := l.rdb.Pipeline()
	cmds := make([]*redis.XMessageSliceCmd, len(dups))
	for j, i := range dups {
		cmds[j] = pipe.XRange(ctx, entriesKey(o[i].account), o[i].sid, o[i].sid)
	}
	_, _ = pipe.Exec(ctx) // per-command errors are handled below
	for j, i := range dups {
		msgs, err := cmds[j].Result()
		if err != nil || len(msgs) != 1 {
			out[i].Err = fmt.Errorf("deposit entry %s: missing (%v)", out[i].EntryID, err)
			continue
		}
		e, err := decodeEntry(o[i].account, msgs[0])
		if err != nil {
			out[i].Err = err
			continue
		}
		if out[i].USD, err = money.ParseUSD(e.Meta["usd"]); err != nil {
			out[i].Err = fmt.Errorf("deposit entry %s: %w", e.ID, err)
			continue
		}
		if out[i].Dust, err = decimal.NewFromString(e.Meta["dust"]); err != nil {
			out[i].Err = fmt.Errorf("deposit entry %s: dust: %w", e.ID, err)
		}
	}
}

// depositData is the deposit.credited event payload.
type depositData struct {
	ID        string    `json:"id"`
	Account   AccountID `json:"account"`
	Chain     string    `json:"chain"`
	Token     string    `json:"token"`
	Tx        string    `json:"tx"`
	Index     uint32    `json:"index"`
	Block     uint64    `json:"block"`
	To        string    `json:"to"`
	RawAmount string    `json:"raw_amount"`
	Amount    string    `json:"amount"`
	USD       string    `json:"usd"`
	Dust      string    `json:"dust"`
	EntryID   string    `json:"entry_id"`
}

func (l *Ledger) depositStep(d Deposit) (step, money.Units, decimal.Decimal, error) {
	if err := validateDeposit(d); err != nil {
		return step{}, 0, decimal.Zero, fmt.Errorf("deposit %s: %w", d.ID, err)
	}
	usd, dust, err := money.TokenToUSD(d.Raw, d.Decimals, d.Rate)
	if err != nil {
		return step{}, 0, decimal.Zero, fmt.Errorf("deposit %s: %w", d.ID, err)
	}
	key := "dep:" + d.ID
	raw := d.Raw.String()
	amount := money.FormatToken(d.Raw, d.Decimals)
	data, err := json.Marshal(depositData{
		ID: d.ID, Account: d.Account, Chain: d.Chain, Token: d.Token, Tx: d.TxID, Index: d.Index,
		Block: d.Block, To: d.To, RawAmount: raw, Amount: amount, USD: usd.String(),
		Dust: dust.String(), EntryID: entryIDFor(d.Account, key),
	})
	if err != nil {
		return step{}, 0, decimal.Zero, fmt.Errorf("deposit %s: event: %w", d.ID, err)
	}
	dec := strconv.Itoa(int(d.Decimals))
	t := Txn{
		Key:         key,
		Fingerprint: "v1|" + string(d.Account) + "|" + d.Chain + "|" + d.Token + "|" + d.Contract + "|" + raw + "|" + dec,
		Account:     d.Account,
		Kind:        "deposit",
		Postings: []Posting{
			{Book: "cash", Delta: usd},
			{Book: "sys:deposits:" + d.Chain + ":" + d.Token, Delta: -usd},
		},
		Events: []outbox.Event{{ID: EventID(key, outbox.DepositCredited), Type: outbox.DepositCredited, Data: data}},
		// The deposit id is the key without "dep:"; the token amount is
		// raw_amount at decimals. Meta travels with every credit, so it
		// holds no derivable fields.
		Meta: map[string]string{
			"chain": d.Chain, "token": d.Token, "contract": d.Contract, "tx": d.TxID,
			"index": strconv.FormatUint(uint64(d.Index), 10), "block": strconv.FormatUint(d.Block, 10),
			"block_hash": d.BlockHash, "to": d.To, "raw_amount": raw, "decimals": dec,
			"rate": d.Rate.String(), "usd": usd.String(), "dust": dust.String(),
		},
	}
	s, err := l.prepare(t, nil)
	return s, usd, dust, err
}

func validateDeposit(d Deposit) error {
	if _, err := ParseAccountID(string(d.Account)); err != nil {
		return err
	}
	for name, v := range map[string]string{"chain": d.Chain, "token": d.Token} {
		if v == "" || len(v) > 32 {
			return fmt.Errorf("%s %q: length must be 1..32", name, v)
		}
		for i := 0; i < len(v); i++ {
			if !idChar(v[i]) {
				return fmt.Errorf("%s %q: character %q not allowed", name, v, v[i])
			}
		}
	}
	if d.TxID == "" {
		return errors.New("empty tx id")
	}
	if want := d.Chain + ":" + d.TxID + ":" + strconv.FormatUint(uint64(d.Index), 10); d.ID != want {
		return fmt.Errorf("id must be chain:tx:index = %q", want)
	}
	if d.Raw == nil || d.Raw.Sign() <= 0 {
		return fmt.Errorf("raw amount %v: must be > 0", d.Raw)
	}
	if d.Rate.Sign() <= 0 {
		return fmt.Errorf("rate %s: must be > 0", d.Rate)
	}
	return nil
}
