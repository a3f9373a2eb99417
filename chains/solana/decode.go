package solana

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"
)

// txn is one transaction reduced to what the delta rule needs. Both wire
// shapes (a getBlock transaction in accounts or full jsonParsed mode, and a
// getTransaction answer in json encoding) are decoded into it, so the real
// fixtures exercise the same delta code as live blocks.
type txn struct {
	sig    string
	failed bool
	keys   []solana.PublicKey // every account key, lookup-table keys included
	pre    []balance
	post   []balance
}

// balance is one pre- or post-token balance entry. owner and program are
// optional on the wire (absent in old blocks); absence is "unknown", never a
// match.
type balance struct {
	index      uint16
	mint       solana.PublicKey
	owner      solana.PublicKey
	hasOwner   bool
	program    solana.PublicKey
	hasProgram bool
	amount     uint64
}

// block is one produced slot as getBlock reports it.
type block struct {
	hash     string
	parent   string
	parentAt uint64
	time     int64
	txs      []txn
}

// wireKey is an account key given either as a plain base58 string (json
// encoding) or as an object {"pubkey": …} (jsonParsed and accounts mode).
type wireKey struct {
	key    solana.PublicKey
	parsed bool
}

func (k *wireKey) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return k.key.UnmarshalJSON(b)
	}
	var obj struct {
		Pubkey *solana.PublicKey `json:"pubkey"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("account key: %w", err)
	}
	if obj.Pubkey == nil {
		return errors.New("account key: no pubkey")
	}
	k.key, k.parsed = *obj.Pubkey, true
	return nil
}

type wireMeta struct {
	Err             json.RawMessage    `json:"err"`
	Pre             []rpc.TokenBalance `json:"preTokenBalances"`
	Post            []rpc.TokenBalance `json:"postTokenBalances"`
	LoadedAddresses *wireLoaded        `json:"loadedAddresses"`
}

type wireLoaded struct {
	Writable []solana.PublicKey `json:"writable"`
	Readonly []solana.PublicKey `json:"readonly"`
}

// wireTx covers accounts mode (transaction.accountKeys) and full mode
// (transaction.message.accountKeys), parsed or not.
type wireTx struct {
	Transaction struct {
		AccountKeys []wireKey `json:"accountKeys"`
		Signatures  []string  `json:"signatures"`
		Message     *struct {
			AccountKeys []wireKey `json:"accountKeys"`
		} `json:"message"`
	} `json:"transaction"`
	Meta *wireMeta `json:"meta"`
}

type wireBlock struct {
	Blockhash         string   `json:"blockhash"`
	PreviousBlockhash string   `json:"previousBlockhash"`
	ParentSlot        uint64   `json:"parentSlot"`
	BlockTime         *int64   `json:"blockTime"`
	Transactions      []wireTx `json:"transactions"`
}

// decodeBlock decodes a getBlock result (accounts mode, full jsonParsed or
// transactionDetails "none"). A null result is errNoBlock.
func decodeBlock(raw []byte) (block, error) {
	var w *wireBlock
	if err := json.Unmarshal(raw, &w); err != nil {
		return block{}, fmt.Errorf("decode block: %w", err)
	}
	if w == nil {
		return block{}, errNoBlock
	}
	return w.block()
}

func (w *wireBlock) block() (block, error) {
	if w.Blockhash == "" || w.PreviousBlockhash == "" {
		return block{}, errors.New("decode block: blockhash or previousBlockhash missing")
	}
	b := block{hash: w.Blockhash, parent: w.PreviousBlockhash, parentAt: w.ParentSlot, txs: make([]txn, 0, len(w.Transactions))}
	if w.BlockTime != nil {
		b.time = *w.BlockTime
	}
	for i := range w.Transactions {
		t, err := w.Transactions[i].txn()
		if err != nil {
			return block{}, fmt.Errorf("decode block: tx %d: %w", i, err)
		}
		b.txs = append(b.txs, t)
	}
	return b, nil
}

// decodeTransaction decodes a getTransaction result in json or jsonParsed
// encoding.
func decodeTransaction(raw []byte) (txn, error) {
	var w *wireTx
	if err := json.Unmarshal(raw, &w); err != nil {
		return txn{}, fmt.Errorf("decode transaction: %w", err)
	}
	if w == nil {
		return txn{}, errors.New("decode transaction: null")
	}
	t, err := w.txn()
	if err != nil {
		return txn{}, fmt.Errorf("decode transaction: %w", err)
	}
	return t, nil
}

func (w *wireTx) txn() (txn, error) {
	if len(w.Transaction.Signatures) == 0 {
		return txn{}, errors.New("no signature")
	}
	sig, err := solana.SignatureFromBase58(w.Transaction.Signatures[0])
	if err != nil {
		return txn{}, fmt.Errorf("signature: %w", err)
	}
	if w.Meta == nil {
		// Without meta the outcome is unknown: refuse rather than guess.
		return txn{}, fmt.Errorf("tx %s: no meta", sig)
	}
	keys := w.Transaction.AccountKeys
	if w.Transaction.Message != nil && len(w.Transaction.Message.AccountKeys) > 0 {
		keys = w.Transaction.Message.AccountKeys
	}
	t := txn{sig: sig.String(), keys: make([]solana.PublicKey, 0, len(keys))}
	plain := false
	for _, k := range keys {
		t.keys = append(t.keys, k.key)
		plain = plain || !k.parsed
	}
	// In json encoding, indexes past the static keys point into the
	// addresses loaded from lookup tables, writable first; parsed keys
	// already include them.
	if plain && w.Meta.LoadedAddresses != nil {
		t.keys = append(t.keys, w.Meta.LoadedAddresses.Writable...)
		t.keys = append(t.keys, w.Meta.LoadedAddresses.Readonly...)
	}
	t.failed = len(w.Meta.Err) > 0 && string(w.Meta.Err) != "null"
	if t.pre, err = balances(w.Meta.Pre, len(t.keys)); err != nil {
		return txn{}, fmt.Errorf("tx %s: preTokenBalances: %w", t.sig, err)
	}
	if t.post, err = balances(w.Meta.Post, len(t.keys)); err != nil {
		return txn{}, fmt.Errorf("tx %s: postTokenBalances: %w", t.sig, err)
	}
	return t, nil
}

func balances(in []rpc.TokenBalance, nkeys int) ([]balance, error) {
	out := make([]balance, 0, len(in))
	for i, tb := range in {
		if int(tb.AccountIndex) >= nkeys {
			return nil, fmt.Errorf("entry %d: accountIndex %d out of %d keys", i, tb.AccountIndex, nkeys)
		}
		if tb.UiTokenAmount == nil {
			return nil, fmt.Errorf("entry %d: no uiTokenAmount", i)
		}
		// The integer string is exact; uiAmount is a float and never used.
		amount, err := strconv.ParseUint(tb.UiTokenAmount.Amount, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("entry %d: amount %q: %w", i, tb.UiTokenAmount.Amount, err)
		}
		b := balance{index: tb.AccountIndex, mint: tb.Mint, amount: amount}
		if tb.Owner != nil {
			b.owner, b.hasOwner = *tb.Owner, true
		}
		if tb.ProgramId != nil {
			b.program, b.hasProgram = *tb.ProgramId, true
		}
		out = append(out, b)
	}
	return out, nil
}
