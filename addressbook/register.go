package addressbook

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/address"
	"github.com/gagliardetto/solana-go"
	"github.com/redis/go-redis/v9"
)

// registerScript claims one address for one account. Every read and check
// comes before the first write (Redis scripts do not roll back).
//
//	KEYS: addr:<f>:<a>, acctaddr:<account>, addrlog
//	      [derive:<f>:<fp>:next, derive:<f>:<fp>:index]  when derived
//	      (each under the {addrbook} tag)
//	ARGV: account, family, address, derivation index ("" when registered),
//	      then the addrlog field/value pairs
//
// Replies {"ok", stream id} | {"dup", owner} | {"taken", address} |
// {"stale", next index}. A derived address found registered already
// ("dup") still advances the counter so the next attempt moves on.
var registerScript = redis.NewScript(`
local derived = #KEYS == 5
local nxt
if derived then
  nxt = tonumber(redis.call('GET', KEYS[4]) or '0')
  if nxt ~= tonumber(ARGV[4]) then return {'stale', tostring(nxt)} end
end
local owner = redis.call('GET', KEYS[1])
if owner then
  if derived then redis.call('SET', KEYS[4], nxt + 1) end
  return {'dup', owner}
end
local cur = redis.call('HGET', KEYS[2], ARGV[2])
if cur then return {'taken', cur} end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
if derived then
  redis.call('SET', KEYS[4], nxt + 1)
  redis.call('HSET', KEYS[5], ARGV[4], ARGV[1])
end
local id = redis.call('XADD', KEYS[3], '*', unpack(ARGV, 5))
return {'ok', id}
`)

// Registration is one address to register for one account.
type Registration struct {
	Account string
	Family  chains.Family
	Address string
}

// Result is the outcome of one Registration in RegisterMany: the stored
// Entry, or Err (errors.Is address.ErrInvalid, ErrInvalidAccount,
// ErrDuplicate or ErrFamilyTaken for a rejected item; anything else is a
// Redis failure and may be retried).
type Result struct {
	Entry Entry
	Err   error
}

// Register validates and normalises addr, derives the Solana wallet's token
// accounts, and claims the address for account atomically. Errors: the
// address package's ErrInvalid (bad address, or a Solana key that is off the
// ed25519 curve and so cannot be a wallet), ErrInvalidAccount, ErrDuplicate
// (naming the owner — also when the owner is account itself),
// ErrFamilyTaken, ErrUnconfirmed (Options.WaitReplicas), or a wrapped
// Redis error. Not idempotent: a repeat of a
// successful call is ErrDuplicate.
func (b *Book) Register(ctx context.Context, account string, f chains.Family, addr string) (Entry, error) {
	r := b.RegisterMany(ctx, []Registration{{Account: account, Family: f, Address: addr}})
	return r[0].Entry, r[0].Err
}

// bulkChunk bounds one pipeline round trip.
const bulkChunk = 1000

// RegisterMany registers many addresses in pipelined round trips and
// returns one Result per input, in input order. Items are independent: one
// rejected item does not stop the others, and of two items claiming the
// same address the earlier one wins.
func (b *Book) RegisterMany(ctx context.Context, regs []Registration) []Result {
	out := make([]Result, len(regs))
	var todo []int
	for i, r := range regs {
		e, err := b.prepare(r)
		out[i] = Result{Entry: e, Err: err}
		if err == nil {
			todo = append(todo, i)
		}
	}
	claimed := todo
	for len(todo) > 0 {
		n := min(len(todo), bulkChunk)
		b.claim(ctx, out, todo[:n])
		todo = todo[n:]
	}
	if len(claimed) == 0 {
		return out
	}
	if err := b.confirm(ctx); err != nil {
		for _, i := range claimed {
			if out[i].Err == nil {
				out[i].Err = fmt.Errorf("register %s %s: %w", out[i].Entry.Family, out[i].Entry.Address, err)
			}
		}
	}
	return out
}

// prepare validates one registration and builds its entry.
func (b *Book) prepare(r Registration) (Entry, error) {
	if err := checkAccount(r.Account); err != nil {
		return Entry{}, err
	}
	norm, key, err := address.Parse(r.Family, r.Address)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{Account: r.Account, Family: r.Family, Address: norm, Key: key}
	if r.Family == chains.FamilySolana {
		if !solana.PublicKey(key).IsOnCurve() {
			return Entry{}, &address.Error{Kind: "solana", Reason: "key is off the ed25519 curve (a token account or program address), register the owner wallet"}
		}
		if e.ATAs, err = deriveATAs(key, b.mints); err != nil {
			return Entry{}, err
		}
	}
	return e, nil
}

// claim runs the register script for out[idx...] in one pipeline. A script
// missing from the server's cache (after a restart) is loaded and the
// affected items are sent again: a NOSCRIPT reply has no side effects.
func (b *Book) claim(ctx context.Context, out []Result, idx []int) {
	for attempt := 0; attempt < 2 && len(idx) > 0; attempt++ {
		pipe := b.rdb.Pipeline()
		cmds := make([]*redis.Cmd, len(idx))
		for j, i := range idx {
			e := out[i].Entry
			args := append([]any{e.Account, string(e.Family), e.Address, ""}, e.fields()...)
			cmds[j] = registerScript.EvalSha(ctx, pipe, []string{addrKey(e.Family, e.Address), acctKey(e.Account), LogStream}, args...)
		}
		_, _ = pipe.Exec(ctx) // per-command errors are read below
		var retry []int
		for j, i := range idx {
			err := cmds[j].Err()
			if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") && attempt == 0 {
				retry = append(retry, i)
				continue
			}
			out[i].Err = interpret(out[i].Entry, cmds[j], err)
		}
		if len(retry) > 0 {
			if err := registerScript.Load(ctx, b.rdb).Err(); err != nil {
				for _, i := range retry {
					out[i].Err = fmt.Errorf("load register script: %w", err)
				}
				return
			}
		}
		idx = retry
	}
}

// interpret maps a register script reply to the caller's error.
func interpret(e Entry, cmd *redis.Cmd, err error) error {
	if err != nil {
		return fmt.Errorf("register %s %s: %w", e.Family, e.Address, err)
	}
	status, val, err := reply(cmd)
	if err != nil {
		return fmt.Errorf("register %s %s: %w", e.Family, e.Address, err)
	}
	switch status {
	case "ok":
		return nil
	case "dup":
		return &DuplicateError{Family: e.Family, Address: e.Address, Owner: val}
	case "taken":
		return &FamilyTakenError{Account: e.Account, Family: e.Family, Address: val}
	}
	return fmt.Errorf("register %s %s: unexpected script reply %q", e.Family, e.Address, status)
}

// reply decodes the script's {status, value} pair.
func reply(cmd *redis.Cmd) (status, val string, err error) {
	s, err := cmd.StringSlice()
	if err != nil {
		return "", "", err
	}
	if len(s) != 2 {
		return "", "", errors.New("script reply: want 2 elements, got " + strconv.Itoa(len(s)) + ": " + strings.Join(s, ","))
	}
	return s[0], s[1], nil
}
