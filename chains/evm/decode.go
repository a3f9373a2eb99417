package evm

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/depositd/depositd/chains"
)

// TransferTopic is keccak256("Transfer(address,address,uint256)").
var TransferTopic = common.HexToHash("0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")

// DropReason says why a log returned by eth_getLogs was not turned into a
// Transfer. Dropped logs are counted, never credited.
type DropReason string

const (
	// DropZeroAmount is a Transfer of 0 (address-poisoning spam).
	DropZeroAmount DropReason = "zero_amount"
	// DropUnknownContract is a log whose emitter is not a configured token
	// (a look-alike contract, or a node ignoring the address filter).
	DropUnknownContract DropReason = "unknown_contract"
	// DropNotTransfer is a log whose first topic is not the Transfer event.
	DropNotTransfer DropReason = "not_transfer"
	// DropMalformed is a Transfer-topic log without exactly 3 topics and 32
	// data bytes (e.g. an ERC-721 Transfer).
	DropMalformed DropReason = "malformed"
	// DropRemoved is a log flagged removed (reorged out).
	DropRemoved DropReason = "removed"
)

// rpcLog is the JSON form of a log; pointer fields tell a missing field from
// a zero one, since every field here is required.
type rpcLog struct {
	Address     *common.Address `json:"address"`
	Topics      []common.Hash   `json:"topics"`
	Data        *hexutil.Bytes  `json:"data"`
	BlockNumber *hexutil.Uint64 `json:"blockNumber"`
	BlockHash   *common.Hash    `json:"blockHash"`
	TxHash      *common.Hash    `json:"transactionHash"`
	Index       *hexutil.Uint64 `json:"logIndex"`
	Removed     bool            `json:"removed"`
}

// decodedLog is one log of a response: either a transfer or a drop reason.
type decodedLog struct {
	Transfer  chains.Transfer
	Drop      DropReason
	Token     string // symbol when the emitter is configured
	Block     uint64
	BlockHash common.Hash
}

// decodeLog parses one JSON log. A log that is not valid JSON or lacks a
// positional field (block number and hash, tx hash, log index) is an error:
// such a response cannot be trusted. A well-formed log that is not a
// transfer of a configured token comes back with Drop set.
func decodeLog(chain string, tokens map[common.Address]Token, raw json.RawMessage) (decodedLog, error) {
	var l rpcLog
	if err := json.Unmarshal(raw, &l); err != nil {
		return decodedLog{}, fmt.Errorf("log: %w", err)
	}
	return checkLog(chain, tokens, nil, &l)
}

// checkLog validates one log already decoded from JSON (eth_getLogs answers
// decode straight into []rpcLog: one pass over the body) and turns it into a
// transfer or a drop reason, as decodeLog says. cs (may be nil) caches the
// addresses' checksummed text.
func checkLog(chain string, tokens map[common.Address]Token, cs *checksums, l *rpcLog) (decodedLog, error) {
	switch {
	case l.Address == nil:
		return decodedLog{}, errors.New("log: no address")
	case l.Data == nil:
		return decodedLog{}, errors.New("log: no data")
	case l.BlockNumber == nil:
		return decodedLog{}, errors.New("log: no blockNumber")
	case l.BlockHash == nil || *l.BlockHash == (common.Hash{}):
		return decodedLog{}, errors.New("log: no blockHash")
	case l.TxHash == nil || *l.TxHash == (common.Hash{}):
		return decodedLog{}, errors.New("log: no transactionHash")
	case l.Index == nil:
		return decodedLog{}, errors.New("log: no logIndex")
	case uint64(*l.Index) > 1<<32-1:
		return decodedLog{}, fmt.Errorf("log: logIndex %d out of range", uint64(*l.Index))
	}
	d := decodedLog{Block: uint64(*l.BlockNumber), BlockHash: *l.BlockHash}
	tok, ok := tokens[*l.Address]
	if ok {
		d.Token = tok.Symbol
	}
	switch {
	case !ok:
		d.Drop = DropUnknownContract
	case l.Removed:
		d.Drop = DropRemoved
	case len(l.Topics) == 0 || l.Topics[0] != TransferTopic:
		d.Drop = DropNotTransfer
	case len(l.Topics) != 3 || len(*l.Data) != 32 || !addressWord(l.Topics[1]) || !addressWord(l.Topics[2]):
		d.Drop = DropMalformed
	}
	if d.Drop != "" {
		return d, nil
	}
	amount := new(big.Int).SetBytes(*l.Data)
	if amount.Sign() == 0 {
		d.Drop = DropZeroAmount
		return d, nil
	}
	from := common.BytesToAddress(l.Topics[1][12:])
	to := common.BytesToAddress(l.Topics[2][12:])
	d.Transfer = chains.Transfer{
		Chain:     chain,
		Token:     tok.Symbol,
		Contract:  cs.hex(tok.Contract),
		TxID:      l.TxHash.Hex(),
		Index:     uint32(*l.Index),
		Block:     d.Block,
		BlockHash: d.BlockHash.Hex(),
		From:      cs.hex(from),
		FromKey:   AddrKey(from),
		To:        cs.hex(to),
		ToKey:     AddrKey(to),
		Amount:    amount,
		Decimals:  tok.Decimals,
	}
	return d, nil
}

// checksumsMax bounds the checksum cache; a full cache starts over.
const checksumsMax = 1 << 14

// checksums caches the EIP-55 text of recently seen addresses: each costs a
// keccak-256, and transfers keep repeating contracts, senders and
// recipients. Safe for concurrent use; a nil cache computes every time.
type checksums struct {
	mu sync.Mutex
	m  map[common.Address]string
}

func (c *checksums) hex(a common.Address) string {
	if c == nil {
		return a.Hex()
	}
	c.mu.Lock()
	s, ok := c.m[a]
	c.mu.Unlock()
	if ok {
		return s
	}
	s = a.Hex()
	c.mu.Lock()
	if c.m == nil || len(c.m) >= checksumsMax {
		c.m = make(map[common.Address]string, 256)
	}
	c.m[a] = s
	c.mu.Unlock()
	return s
}

// addressWord reports whether a topic is a left-padded 20-byte address.
func addressWord(h common.Hash) bool {
	for _, b := range h[:12] {
		if b != 0 {
			return false
		}
	}
	return true
}

// AddrKey is the matching key of an EVM address: its 20 bytes left-aligned.
func AddrKey(a common.Address) chains.AddrKey {
	var k chains.AddrKey
	copy(k[:], a[:])
	return k
}
