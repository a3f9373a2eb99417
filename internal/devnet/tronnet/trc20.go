package tronnet

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"

	"github.com/depositd/depositd/chains/address"
	"github.com/depositd/depositd/chains/tron"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/api"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// trc20 is a deployed token: a standard TRC-20 ledger plus an open mint.
type trc20 struct {
	addr     [20]byte
	symbol   string
	decimals int32
	balances map[[20]byte]*big.Int
}

func (t *trc20) balance(a [20]byte) *big.Int {
	if b, ok := t.balances[a]; ok {
		return b
	}
	return new(big.Int)
}

func (t *trc20) add(a [20]byte, d *big.Int) {
	t.balances[a] = new(big.Int).Add(t.balance(a), d)
}

// balanceChange is one applied balance delta, kept to revert a forked block.
type balanceChange struct {
	tok   *trc20
	acct  [20]byte
	delta *big.Int
}

func (c balanceChange) revert() { c.tok.add(c.acct, new(big.Int).Neg(c.delta)) }

// pendingTx waits for Mine. fail != DEFAULT includes it as failed with that
// result, its Transfer log kept.
type pendingTx struct {
	tx   *core.Transaction
	id   []byte // sha256 of the raw data
	fail core.Transaction_ResultContractResult
}

var (
	selectorMint      = [4]byte{0x40, 0xc1, 0x0f, 0x19} // mint(address,uint256)
	selectorDecimals  = [4]byte{0x31, 0x3c, 0xe5, 0x67}
	selectorSymbol    = [4]byte{0x95, 0xd8, 0x9b, 0x41}
	selectorName      = [4]byte{0x06, 0xfd, 0xde, 0x03}
	selectorBalanceOf = [4]byte{0x70, 0xa0, 0x82, 0x31}
)

// DeployTRC20 deploys a token and returns its base58 contract address.
func (n *Node) DeployTRC20(symbol string, decimals int32) (string, error) {
	if symbol == "" || decimals < 0 || decimals > 77 {
		return "", fmt.Errorf("token %q with %d decimals: want a symbol and 0..77 decimals", symbol, decimals)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	h := sha256.Sum256(fmt.Appendf(nil, "trc20:%s:%d", symbol, len(n.tokens)))
	var a [20]byte
	copy(a[:], h[:20])
	n.tokens[a] = &trc20{addr: a, symbol: symbol, decimals: decimals, balances: map[[20]byte]*big.Int{}}
	return address.TronFromEVMBytes(a[:]), nil
}

// Mint queues mint(to, amount) on token, emitting Transfer from the zero
// address, and returns the txid hex.
func (n *Node) Mint(token, to string, amount *big.Int) (string, error) {
	var zero [20]byte
	return n.submit(token, zero, to, amount, selectorMint, core.Transaction_Result_DEFAULT)
}

// Transfer queues transfer(to, amount) signed by from and returns the txid
// hex. At Mine it succeeds when from holds amount, and otherwise is
// included as REVERT without logs, as the TRC-20 require() does.
func (n *Node) Transfer(token, from, to string, amount *big.Int) (string, error) {
	f, err := account(from)
	if err != nil {
		return "", err
	}
	return n.submit(token, f, to, amount, tron.SelectorTransfer, core.Transaction_Result_DEFAULT)
}

// FailedTransfer queues a transfer that is included as failed with result
// (REVERT, OUT_OF_ENERGY, OUT_OF_TIME, …): TransactionInfo.result FAILED,
// receipt.result = result, no balance change, and yet its Transfer log
// present, as java-tron's exception branches leave it.
func (n *Node) FailedTransfer(token, from, to string, amount *big.Int, result core.Transaction_ResultContractResult) (string, error) {
	if result == core.Transaction_Result_DEFAULT || result == core.Transaction_Result_SUCCESS {
		return "", fmt.Errorf("failed transfer with result %s", result)
	}
	f, err := account(from)
	if err != nil {
		return "", err
	}
	return n.submit(token, f, to, amount, tron.SelectorTransfer, result)
}

// BalanceOf returns owner's balance of token.
func (n *Node) BalanceOf(token, owner string) (*big.Int, error) {
	t, err := account(token)
	if err != nil {
		return nil, err
	}
	o, err := account(owner)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	tok, ok := n.tokens[t]
	if !ok {
		return nil, fmt.Errorf("token %s not deployed", token)
	}
	return new(big.Int).Set(tok.balance(o)), nil
}

func account(s string) ([20]byte, error) {
	var a [20]byte
	_, k, err := address.ParseTron(s)
	if err != nil {
		return a, err
	}
	copy(a[:], k[:20])
	return a, nil
}

func word(b []byte) []byte { return append(make([]byte, 32-len(b)), b...) }

// addressWord encodes an account as wallets do: 0x41 in the 12th byte.
func addressWord(a [20]byte) []byte { return word(append([]byte{0x41}, a[:]...)) }

func (n *Node) submit(token string, from [20]byte, to string, amount *big.Int, sel [4]byte, fail core.Transaction_ResultContractResult) (string, error) {
	t, err := account(token)
	if err != nil {
		return "", fmt.Errorf("token: %w", err)
	}
	dst, err := account(to)
	if err != nil {
		return "", fmt.Errorf("to: %w", err)
	}
	if amount == nil || amount.Sign() < 0 || amount.BitLen() > 256 {
		return "", fmt.Errorf("amount %v: want 0..2^256-1", amount)
	}
	data := bytes.Join([][]byte{sel[:], addressWord(dst), word(amount.Bytes())}, nil)
	param, err := anypb.New(&core.TriggerSmartContract{
		OwnerAddress: append([]byte{0x41}, from[:]...), ContractAddress: append([]byte{0x41}, t[:]...), Data: data})
	if err != nil {
		return "", fmt.Errorf("trigger parameter: %w", err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.tokens[t]; !ok {
		return "", fmt.Errorf("token %s not deployed", token)
	}
	head := n.chain[len(n.chain)-1]
	ts := head.header.GetBlockHeader().GetRawData().GetTimestamp() + int64(len(n.pending)) + 1
	raw := &core.TransactionRaw{
		RefBlockBytes: head.id[6:8],
		RefBlockHash:  head.id[8:16],
		Expiration:    ts + 60_000,
		Timestamp:     ts,
		FeeLimit:      100_000_000,
		Contract: []*core.Transaction_Contract{{
			Type: core.Transaction_Contract_TriggerSmartContract, Parameter: param}},
	}
	rawBytes, err := proto.MarshalOptions{Deterministic: true}.Marshal(raw)
	if err != nil {
		return "", fmt.Errorf("raw data: %w", err)
	}
	id := sha256.Sum256(rawBytes)
	n.pending = append(n.pending, pendingTx{tx: &core.Transaction{RawData: raw}, id: id[:], fail: fail})
	return hex.EncodeToString(id[:]), nil
}

// execute runs one pending transaction against the token ledgers, reading
// it back from its calldata as the VM would.
func (n *Node) execute(p pendingTx) executed {
	call, err := decodeCall(p.tx)
	if err != nil {
		panic(fmt.Sprintf("tronnet: own transaction does not decode: %v", err)) // submit builds only decodable calls
	}
	tok := n.tokens[call.Contract]
	info := &core.TransactionInfo{Id: p.id, Fee: 345_000, ContractAddress: append([]byte{0x41}, call.Contract[:]...),
		Receipt: &core.ResourceReceipt{EnergyUsage: 14_631, EnergyUsageTotal: 14_631, NetUsage: 345}}
	transferLog := &core.TransactionInfo_Log{Address: call.Contract[:],
		Topics: [][]byte{tron.TransferTopic[:], word(call.From[:]), word(call.To[:])}, Data: word(call.Amount.Bytes())}
	result := core.Transaction_Result_SUCCESS
	var undo []balanceChange
	switch {
	case p.fail != core.Transaction_Result_DEFAULT:
		result = p.fail
		info.Log = []*core.TransactionInfo_Log{transferLog}
		info.ResMessage = []byte(p.fail.String())
	case call.Selector != selectorMint && tok.balance(call.From).Cmp(call.Amount) < 0:
		result = core.Transaction_Result_REVERT
		info.ResMessage = []byte("REVERT opcode executed")
	default:
		if call.Selector != selectorMint {
			undo = append(undo, balanceChange{tok, call.From, new(big.Int).Neg(call.Amount)})
		}
		undo = append(undo, balanceChange{tok, call.To, new(big.Int).Set(call.Amount)})
		for _, c := range undo {
			tok.add(c.acct, c.delta)
		}
		info.Log = []*core.TransactionInfo_Log{transferLog}
		info.ContractResult = [][]byte{word([]byte{1})}
	}
	info.Receipt.Result = result
	if result != core.Transaction_Result_SUCCESS {
		info.Result = core.TransactionInfo_FAILED
	}
	tx := proto.Clone(p.tx).(*core.Transaction)
	tx.Ret = []*core.Transaction_Result{{ContractRet: result}}
	return executed{tx: tx, info: info, undo: undo}
}

// decodeCall decodes transfer through the adapter's decoder and the node's
// own mint(address,uint256).
func decodeCall(tx *core.Transaction) (tron.Call, error) {
	c, err := tron.DecodeTransferCall(tx)
	if !errors.Is(err, tron.ErrNotTransfer) {
		return c, err
	}
	if len(tx.GetRawData().GetContract()) != 1 {
		return c, err
	}
	var tsc core.TriggerSmartContract
	if err := tx.GetRawData().GetContract()[0].GetParameter().UnmarshalTo(&tsc); err != nil {
		return c, err
	}
	d := tsc.GetData()
	if len(d) != 68 || !bytes.Equal(d[:4], selectorMint[:]) {
		return c, err
	}
	copy(c.Contract[:], tsc.GetContractAddress()[1:])
	copy(c.To[:], d[16:36])
	c.Amount = new(big.Int).SetBytes(d[36:68])
	c.Selector = selectorMint
	return c, nil
}

// constant answers TriggerConstantContract for decimals(), symbol(), name()
// and balanceOf(address) like java-tron: an unknown contract is a
// CONTRACT_VALIDATE_ERROR, an unknown method a REVERT.
func (n *Node) constant(ct *core.TriggerSmartContract) *api.TransactionExtention {
	n.mu.Lock()
	defer n.mu.Unlock()
	var a [20]byte
	if c := ct.GetContractAddress(); len(c) == 21 {
		copy(a[:], c[1:])
	}
	tok, ok := n.tokens[a]
	if !ok {
		return &api.TransactionExtention{Result: &api.Return{Code: api.Return_CONTRACT_VALIDATE_ERROR,
			Message: []byte("No contract or not a valid smart contract")}}
	}
	ret := func(out []byte, r core.Transaction_ResultContractResult) *api.TransactionExtention {
		return &api.TransactionExtention{Result: &api.Return{Result: true}, ConstantResult: [][]byte{out},
			Transaction: &core.Transaction{Ret: []*core.Transaction_Result{{ContractRet: r}}}}
	}
	d := ct.GetData()
	var sel [4]byte
	if len(d) >= 4 {
		copy(sel[:], d)
	}
	switch {
	case sel == selectorDecimals:
		return ret(word(big.NewInt(int64(tok.decimals)).Bytes()), core.Transaction_Result_SUCCESS)
	case sel == selectorSymbol || sel == selectorName:
		s := []byte(tok.symbol)
		padded := append(s, make([]byte, (32-len(s)%32)%32)...)
		return ret(bytes.Join([][]byte{word([]byte{32}), word(big.NewInt(int64(len(s))).Bytes()), padded}, nil), core.Transaction_Result_SUCCESS)
	case sel == selectorBalanceOf && len(d) == 36:
		var o [20]byte
		copy(o[:], d[16:36])
		return ret(word(tok.balance(o).Bytes()), core.Transaction_Result_SUCCESS)
	default:
		return ret(nil, core.Transaction_Result_REVERT)
	}
}
