package tron

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"

	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
)

// TransferTopic is keccak256("Transfer(address,address,uint256)"), topic 0 of
// every TRC-20 Transfer event.
var TransferTopic = [32]byte{
	0xdd, 0xf2, 0x52, 0xad, 0x1b, 0xe2, 0xc8, 0x9b, 0x69, 0xc2, 0xb0, 0x68, 0xfc, 0x37, 0x8d, 0xaa,
	0x95, 0x2b, 0xa7, 0xf1, 0x63, 0xc4, 0xa1, 0x16, 0x28, 0xf5, 0x5a, 0x4d, 0xf5, 0x23, 0xb3, 0xef,
}

// Method selectors of the TRC-20 calls DecodeTransferCall understands.
var (
	SelectorTransfer     = [4]byte{0xa9, 0x05, 0x9c, 0xbb} // transfer(address,uint256)
	SelectorTransferFrom = [4]byte{0x23, 0xb8, 0x72, 0xdd} // transferFrom(address,address,uint256)
)

// tronPrefix is the first byte of a 21-byte Tron address.
const tronPrefix = 0x41

// ErrNotTransfer is returned by DecodeTransferCall for a transaction that is
// not a TRC-20 transfer or transferFrom call.
var ErrNotTransfer = errors.New("not a trc20 transfer call")

// LogTransfer is one decoded TRC-20 Transfer event. Addresses are the 20
// account bytes, without the 0x41 prefix.
type LogTransfer struct {
	Contract [20]byte
	From     [20]byte
	To       [20]byte
	Amount   *big.Int
}

// DecodeTransferLog decodes lg as Transfer(address indexed, address indexed,
// uint256). It reports false for every log of another shape: another event,
// anonymous or non-standard encodings (value indexed, missing topics), or a
// malformed address. The emitting contract is returned, not checked: callers
// match it against their configured contracts. It never panics.
func DecodeTransferLog(lg *core.TransactionInfo_Log) (LogTransfer, bool) {
	var t LogTransfer
	if lg == nil {
		return t, false
	}
	contract, ok := account20(lg.GetAddress())
	if !ok {
		return t, false
	}
	topics := lg.GetTopics()
	if len(topics) != 3 || !bytes.Equal(topics[0], TransferTopic[:]) ||
		len(topics[1]) != 32 || len(topics[2]) != 32 || len(lg.GetData()) != 32 {
		return t, false
	}
	t.Contract = contract
	copy(t.From[:], topics[1][12:])
	copy(t.To[:], topics[2][12:])
	t.Amount = new(big.Int).SetBytes(lg.GetData())
	return t, true
}

// account20 accepts the 20-byte log form of an address, and tolerates the
// 21-byte form with the 0x41 prefix that some gateways return.
func account20(b []byte) ([20]byte, bool) {
	var a [20]byte
	switch {
	case len(b) == 20:
		copy(a[:], b)
	case len(b) == 21 && b[0] == tronPrefix:
		copy(a[:], b[1:])
	default:
		return a, false
	}
	return a, true
}

// Call is a TRC-20 transfer or transferFrom decoded from the calldata of a
// TriggerSmartContract transaction. Calldata says nothing about success and
// misses contract-initiated transfers: it is for building and executing
// transactions and for a degraded fallback, never for crediting.
type Call struct {
	Contract [20]byte // the called token contract
	Owner    [20]byte // the transaction's signer
	From     [20]byte // Owner for transfer, the first argument for transferFrom
	To       [20]byte
	Amount   *big.Int
	Selector [4]byte
}

// DecodeTransferCall decodes the single contract of tx as a TRC-20 transfer
// (a9059cbb) or transferFrom (23b872dd). A transaction of another type or
// selector is ErrNotTransfer; a transfer call with malformed arguments is
// another error. Address words may carry the 0x41 prefix in their 12th byte
// (wallets encode it so); the account is always the last 20 bytes.
func DecodeTransferCall(tx *core.Transaction) (Call, error) {
	var c Call
	contracts := tx.GetRawData().GetContract()
	if len(contracts) != 1 || contracts[0].GetType() != core.Transaction_Contract_TriggerSmartContract {
		return c, ErrNotTransfer
	}
	var tsc core.TriggerSmartContract
	if err := contracts[0].GetParameter().UnmarshalTo(&tsc); err != nil {
		return c, fmt.Errorf("trigger parameter: %w", err)
	}
	owner, ok := address21(tsc.GetOwnerAddress())
	if !ok {
		return c, fmt.Errorf("owner address: %d bytes, want 21 with prefix 0x41", len(tsc.GetOwnerAddress()))
	}
	contract, ok := address21(tsc.GetContractAddress())
	if !ok {
		return c, fmt.Errorf("contract address: %d bytes, want 21 with prefix 0x41", len(tsc.GetContractAddress()))
	}
	data := tsc.GetData()
	if len(data) < 4 {
		return c, ErrNotTransfer
	}
	c.Contract, c.Owner = contract, owner
	copy(c.Selector[:], data[:4])
	args := data[4:]
	switch c.Selector {
	case SelectorTransfer:
		if len(args) != 64 {
			return c, fmt.Errorf("transfer: %d argument bytes, want 64", len(args))
		}
		c.From = owner
		if c.To, ok = wordAddress(args[:32]); !ok {
			return c, errors.New("transfer: recipient word is not an address")
		}
		c.Amount = new(big.Int).SetBytes(args[32:64])
	case SelectorTransferFrom:
		if len(args) != 96 {
			return c, fmt.Errorf("transferFrom: %d argument bytes, want 96", len(args))
		}
		if c.From, ok = wordAddress(args[:32]); !ok {
			return c, errors.New("transferFrom: sender word is not an address")
		}
		if c.To, ok = wordAddress(args[32:64]); !ok {
			return c, errors.New("transferFrom: recipient word is not an address")
		}
		c.Amount = new(big.Int).SetBytes(args[64:96])
	default:
		return c, ErrNotTransfer
	}
	return c, nil
}

// address21 takes the account bytes of a 21-byte 0x41-prefixed address.
func address21(b []byte) ([20]byte, bool) {
	var a [20]byte
	if len(b) != 21 || b[0] != tronPrefix {
		return a, false
	}
	copy(a[:], b[1:])
	return a, true
}

// wordAddress takes the account from a 32-byte ABI address word: eleven zero
// bytes, then 0x00 or the 0x41 prefix, then 20 account bytes.
func wordAddress(w []byte) ([20]byte, bool) {
	var a [20]byte
	for _, b := range w[:11] {
		if b != 0 {
			return a, false
		}
	}
	if w[11] != 0 && w[11] != tronPrefix {
		return a, false
	}
	copy(a[:], w[12:32])
	return a, true
}
