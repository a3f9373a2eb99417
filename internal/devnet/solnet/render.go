package solnet

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/mr-tron/base58"
)

type blockConfig struct {
	Encoding                       string  `json:"encoding"`
	TransactionDetails             string  `json:"transactionDetails"`
	Rewards                        *bool   `json:"rewards"`
	MaxSupportedTransactionVersion *uint8  `json:"maxSupportedTransactionVersion"`
	Commitment                     *string `json:"commitment"`
}

// findBlock resolves a getBlock request under the node's lock; the
// rendering (renderBlock) reads only immutable data and runs outside it.
func (v view) findBlock(params []json.RawMessage) (*blk, blockConfig, *rpcErr) {
	var slot uint64
	if len(params) == 0 || json.Unmarshal(params[0], &slot) != nil {
		return nil, blockConfig{}, errf(-32602, "Invalid params: slot")
	}
	cfg := blockConfig{Encoding: "json", TransactionDetails: "full"}
	if len(params) > 1 {
		if err := json.Unmarshal(params[1], &cfg); err != nil {
			return nil, cfg, errf(-32602, "Invalid params: %v", err)
		}
	}
	c, e := commitment(params, 1)
	if e != nil {
		return nil, cfg, e
	}
	if c == "processed" {
		return nil, cfg, errf(-32602, "Method does not support commitment below `confirmed`")
	}
	if slot > v.slotAt(c) {
		return nil, cfg, errf(-32004, "Block not available for slot %d", slot)
	}
	b := v.c.blocks[slot]
	if b == nil {
		return nil, cfg, errf(-32007, "Slot %d was skipped, or missing due to ledger jump to recent snapshot", slot)
	}
	switch cfg.TransactionDetails {
	case "none", "signatures", "accounts":
	case "full":
		if cfg.Encoding != "jsonParsed" {
			return nil, cfg, errf(-32602, "Invalid params: solnet serves full transactions as jsonParsed only, not %q", cfg.Encoding)
		}
	default:
		return nil, cfg, errf(-32602, "Invalid params: unknown variant `%s`, expected one of `full`, `accounts`, `signatures`, `none`", cfg.TransactionDetails)
	}
	return b, cfg, nil
}

// renderBlock renders a produced slot as getBlock answers it. Blocks and
// their transactions never change once mined.
func renderBlock(b *blk, cfg blockConfig, opts *Options) map[string]any {
	out := map[string]any{
		"blockHeight":       b.height,
		"blockTime":         opts.Genesis.Add(time.Duration(b.slot) * opts.SlotTime).Unix(),
		"blockhash":         b.hash,
		"parentSlot":        b.parent,
		"previousBlockhash": b.parentHash,
	}
	if cfg.Rewards == nil || *cfg.Rewards {
		out["rewards"] = []any{}
	}
	version := cfg.MaxSupportedTransactionVersion != nil
	switch cfg.TransactionDetails {
	case "signatures":
		sigs := make([]string, len(b.txs))
		for i, t := range b.txs {
			sigs[i] = t.sig.String()
		}
		out["signatures"] = sigs
	case "accounts", "full":
		txs := make([]any, len(b.txs))
		for i, t := range b.txs {
			txs[i] = renderTx(t, b, cfg.TransactionDetails == "full", version)
		}
		out["transactions"] = txs
	}
	return out
}

// renderTx renders one transaction: full (jsonParsed message,
// instructions, logs) or accounts mode (keys and balances only, as agave's
// build_simple_ui_transaction_status_meta).
func renderTx(t *tx, b *blk, full, version bool) map[string]any {
	keys := make([]any, len(t.keys))
	for i, k := range t.keys {
		keys[i] = map[string]any{"pubkey": k.key.String(), "signer": k.signer, "source": "transaction", "writable": k.writable}
	}
	meta := map[string]any{
		"err":               t.err,
		"fee":               t.fee,
		"preBalances":       t.preLamports,
		"postBalances":      t.postLamports,
		"preTokenBalances":  renderBalances(t.pre),
		"postTokenBalances": renderBalances(t.post),
		"status":            status(t),
	}
	out := map[string]any{"meta": meta}
	sigs := []string{t.sig.String()}
	if full {
		meta["computeUnitsConsumed"] = 4000 * len(t.ixs)
		meta["innerInstructions"] = []any{}
		meta["logMessages"] = t.logs
		meta["rewards"] = []any{}
		out["transaction"] = map[string]any{
			"message":    map[string]any{"accountKeys": keys, "instructions": t.ixs, "recentBlockhash": b.parentHash},
			"signatures": sigs,
		}
	} else {
		out["transaction"] = map[string]any{"accountKeys": keys, "signatures": sigs}
	}
	if version {
		out["version"] = "legacy"
	}
	return out
}

func renderBalances(bs []tokenBal) []any {
	out := make([]any, len(bs))
	for i, b := range bs {
		out[i] = map[string]any{
			"accountIndex":  b.index,
			"mint":          b.mint.String(),
			"owner":         b.owner.String(),
			"programId":     b.program.String(),
			"uiTokenAmount": uiAmount(b.amount, b.decimals),
		}
	}
	return out
}

// uiAmount renders an amount as UiTokenAmount: the exact integer string,
// the trimmed decimal string and the (lossy) float, null at zero.
func uiAmount(amount uint64, decimals uint8) map[string]any {
	s := strconv.FormatUint(amount, 10)
	if decimals > 0 {
		if len(s) <= int(decimals) {
			s = strings.Repeat("0", int(decimals)-len(s)+1) + s
		}
		s = strings.TrimRight(s[:len(s)-int(decimals)]+"."+s[len(s)-int(decimals):], "0")
		s = strings.TrimSuffix(s, ".")
	}
	var ui any
	if amount > 0 {
		f, _ := strconv.ParseFloat(s, 64)
		ui = f
	}
	return map[string]any{"amount": strconv.FormatUint(amount, 10), "decimals": decimals, "uiAmount": ui, "uiAmountString": s}
}

func (v view) getAccountInfo(params []json.RawMessage) (any, *rpcErr) {
	var addr string
	if len(params) == 0 || json.Unmarshal(params[0], &addr) != nil {
		return nil, errf(-32602, "Invalid params: pubkey")
	}
	key, err := solana.PublicKeyFromBase58(addr)
	if err != nil {
		return nil, errf(-32602, "Invalid param: %v", err)
	}
	cfg := struct {
		Encoding string `json:"encoding"`
	}{Encoding: "base58"}
	if len(params) > 1 {
		if err := json.Unmarshal(params[1], &cfg); err != nil {
			return nil, errf(-32602, "Invalid params: %v", err)
		}
	}
	c, e := commitment(params, 1)
	if e != nil {
		return nil, e
	}
	ctx := map[string]any{"apiVersion": "2.2.20", "slot": v.slotAt(c)}
	var (
		owner    solana.PublicKey
		data     []byte
		parsed   map[string]any
		lamports uint64
	)
	switch m, a := v.c.mints[key], v.c.accounts[key]; {
	case m != nil:
		owner, lamports, data = m.program, 1461600, mintData(m)
		parsed = map[string]any{"program": programName(m.program), "space": len(data), "parsed": map[string]any{"type": "mint", "info": map[string]any{
			"decimals": m.decimals, "freezeAuthority": nil, "isInitialized": true, "mintAuthority": m.authority.String(), "supply": strconv.FormatUint(m.supply, 10)}}}
	case a != nil:
		owner, lamports, data = a.program, rentExempt, accountData(a)
		parsed = map[string]any{"program": programName(a.program), "space": len(data), "parsed": map[string]any{"type": "account", "info": map[string]any{
			"isNative": false, "mint": a.mint.String(), "owner": a.owner.String(), "state": "initialized",
			"tokenAmount": uiAmount(a.amount, v.c.mints[a.mint].decimals)}}}
	default:
		l, ok := v.c.lamports[key]
		if !ok {
			return map[string]any{"context": ctx, "value": nil}, nil
		}
		owner, lamports = solana.SystemProgramID, l
	}
	value := map[string]any{"executable": false, "lamports": lamports, "owner": owner.String(),
		"rentEpoch": uint64(18446744073709551615), "space": len(data)}
	switch {
	case cfg.Encoding == "jsonParsed" && parsed != nil:
		value["data"] = parsed
	case cfg.Encoding == "base64" || cfg.Encoding == "jsonParsed":
		value["data"] = []string{base64.StdEncoding.EncodeToString(data), "base64"}
	case cfg.Encoding == "base58" || cfg.Encoding == "binary":
		value["data"] = []string{base58.Encode(data), "base58"}
	default:
		return nil, errf(-32602, "Invalid params: unsupported encoding %q", cfg.Encoding)
	}
	return map[string]any{"context": ctx, "value": value}, nil
}

// mintData is the 82-byte SPL mint layout.
func mintData(m *mintState) []byte {
	d := make([]byte, 82)
	binary.LittleEndian.PutUint32(d[0:], 1)
	copy(d[4:36], m.authority[:])
	binary.LittleEndian.PutUint64(d[36:], m.supply)
	d[44] = m.decimals
	d[45] = 1
	return d
}

// accountData is the 165-byte SPL token account layout; Token-2022
// accounts add the account type and the ImmutableOwner extension.
func accountData(a *tokenAccount) []byte {
	d := make([]byte, 165)
	copy(d[0:32], a.mint[:])
	copy(d[32:64], a.owner[:])
	binary.LittleEndian.PutUint64(d[64:], a.amount)
	d[108] = 1 // initialized
	if a.program.Equals(solana.Token2022ProgramID) {
		d = append(d, 2, 7, 0, 0, 0) // AccountType::Account, ImmutableOwner (type 7, length 0)
	}
	return d
}
