package solana

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	jsoniter "github.com/json-iterator/go"
)

// wireJSON is the decoder of every node answer and fixture: solana-go's rpc
// client decodes with the same configuration.
var wireJSON = jsoniter.ConfigCompatibleWithStandardLibrary

// txn is one transaction reduced to what the delta rule needs. Both wire
// shapes (a getBlock transaction in accounts or full jsonParsed mode, and a
// getTransaction answer in json encoding) are decoded into it, so the real
// fixtures exercise the same delta code as live blocks. Keys stay in their
// base58 text: only the few a credit names are decoded (see parseKey).
type txn struct {
	sig    string
	failed bool
	keys   []string // every account key, lookup-table keys included
	pre    []balance
	post   []balance
}

// balance is one pre- or post-token balance entry. owner and program are
// optional on the wire (absent in old blocks): "" is "unknown", never a
// match.
type balance struct {
	index   uint16
	mint    string
	owner   string
	program string
	amount  uint64
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
	key    string
	parsed bool
}

func (k *wireKey) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return wireJSON.Unmarshal(b, &k.key)
	}
	var obj struct {
		Pubkey *string `json:"pubkey"`
	}
	if err := wireJSON.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("account key: %w", err)
	}
	if obj.Pubkey == nil {
		return errors.New("account key: no pubkey")
	}
	k.key, k.parsed = *obj.Pubkey, true
	return nil
}

type wireBalance struct {
	AccountIndex  *uint16 `json:"accountIndex"`
	Mint          string  `json:"mint"`
	Owner         string  `json:"owner"`
	ProgramID     string  `json:"programId"`
	UITokenAmount *struct {
		// Amount is the exact integer; uiAmount is a float and never read.
		Amount string `json:"amount"`
	} `json:"uiTokenAmount"`
}

type wireMeta struct {
	Err             jsoniter.RawMessage `json:"err"`
	Pre             []wireBalance       `json:"preTokenBalances"`
	Post            []wireBalance       `json:"postTokenBalances"`
	LoadedAddresses *struct {
		Writable []string `json:"writable"`
		Readonly []string `json:"readonly"`
	} `json:"loadedAddresses"`
}

// wireTx covers accounts mode (transaction.accountKeys) and full mode
// (transaction.message.accountKeys), parsed or not.
type wireTx struct {
	Transaction struct {
		// Accounts mode always lists keys as objects.
		AccountKeys []struct {
			Pubkey string `json:"pubkey"`
		} `json:"accountKeys"`
		Signatures []string `json:"signatures"`
		Message    *struct {
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
// transactionDetails "none"). A null or empty result is errNoBlock.
func decodeBlock(raw []byte) (block, error) {
	var w *wireBlock
	if len(raw) == 0 {
		return block{}, errNoBlock
	}
	if err := wireJSON.Unmarshal(raw, &w); err != nil {
		return block{}, fmt.Errorf("decode block: %w", err)
	}
	return w.block()
}

// block converts a decoded getBlock result; a nil one (null) is errNoBlock.
func (w *wireBlock) block() (block, error) {
	if w == nil {
		return block{}, errNoBlock
	}
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
	if err := wireJSON.Unmarshal(raw, &w); err != nil {
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
	if len(w.Transaction.Signatures) == 0 || w.Transaction.Signatures[0] == "" {
		return txn{}, errors.New("no signature")
	}
	t := txn{sig: w.Transaction.Signatures[0]}
	if w.Meta == nil {
		// Without meta the outcome is unknown: refuse rather than guess.
		return txn{}, fmt.Errorf("tx %.88s: no meta", t.sig)
	}
	plain := false
	if w.Transaction.Message != nil && len(w.Transaction.Message.AccountKeys) > 0 {
		keys := w.Transaction.Message.AccountKeys
		t.keys = make([]string, 0, len(keys))
		for _, k := range keys {
			t.keys = append(t.keys, k.key)
			plain = plain || !k.parsed
		}
	} else {
		keys := w.Transaction.AccountKeys
		t.keys = make([]string, 0, len(keys))
		for _, k := range keys {
			if k.Pubkey == "" {
				return txn{}, fmt.Errorf("tx %.88s: account key without pubkey", t.sig)
			}
			t.keys = append(t.keys, k.Pubkey)
		}
	}
	// In json encoding, indexes past the static keys point into the
	// addresses loaded from lookup tables, writable first; parsed keys
	// already include them.
	if plain && w.Meta.LoadedAddresses != nil {
		t.keys = append(t.keys, w.Meta.LoadedAddresses.Writable...)
		t.keys = append(t.keys, w.Meta.LoadedAddresses.Readonly...)
	}
	e := strings.TrimSpace(string(w.Meta.Err))
	t.failed = e != "" && e != "null"
	var err error
	if t.pre, err = balances(w.Meta.Pre, len(t.keys)); err != nil {
		return txn{}, fmt.Errorf("tx %.88s: preTokenBalances: %w", t.sig, err)
	}
	if t.post, err = balances(w.Meta.Post, len(t.keys)); err != nil {
		return txn{}, fmt.Errorf("tx %.88s: postTokenBalances: %w", t.sig, err)
	}
	return t, nil
}

func balances(in []wireBalance, nkeys int) ([]balance, error) {
	out := make([]balance, 0, len(in))
	for i, tb := range in {
		switch {
		case tb.AccountIndex == nil:
			return nil, fmt.Errorf("entry %d: no accountIndex", i)
		case int(*tb.AccountIndex) >= nkeys:
			return nil, fmt.Errorf("entry %d: accountIndex %d out of %d keys", i, *tb.AccountIndex, nkeys)
		case tb.UITokenAmount == nil:
			return nil, fmt.Errorf("entry %d: no uiTokenAmount", i)
		case tb.Mint == "":
			return nil, fmt.Errorf("entry %d: no mint", i)
		}
		amount, err := strconv.ParseUint(tb.UITokenAmount.Amount, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("entry %d: amount %q: %w", i, tb.UITokenAmount.Amount, err)
		}
		out = append(out, balance{index: *tb.AccountIndex, mint: tb.Mint, owner: tb.Owner, program: tb.ProgramID, amount: amount})
	}
	return out, nil
}
