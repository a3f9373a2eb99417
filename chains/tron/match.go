package tron

import (
	"encoding/hex"
	"fmt"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/address"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
)

// token is a configured TRC-20 contract keyed by its 20 account bytes.
type token struct {
	Token
	contract string // canonical base58 T-address
}

// matcher turns the TransactionInfo list of one block into the transfers
// of the configured tokens. It holds no state besides the token table.
type matcher struct {
	chain  string
	tokens map[[20]byte]token
}

func newMatcher(chain string, tokens []Token) (*matcher, error) {
	m := &matcher{chain: chain, tokens: make(map[[20]byte]token, len(tokens))}
	for _, t := range tokens {
		norm, key, err := address.ParseTron(t.Contract)
		if err != nil {
			return nil, fmt.Errorf("tokens[%s].contract: %w", t.Symbol, err)
		}
		var k [20]byte
		copy(k[:], key[:20])
		if _, dup := m.tokens[k]; dup {
			return nil, fmt.Errorf("tokens[%s].contract: %s configured twice", t.Symbol, norm)
		}
		m.tokens[k] = token{Token: t, contract: norm}
	}
	return m, nil
}

// credited reports whether a transaction's effects happened: the transaction
// as a whole (TransactionInfo.result) and its VM execution (receipt.result)
// both succeeded. java-tron keeps logs in some failure branches, so a log is
// never proof on its own.
func credited(ti *core.TransactionInfo) bool {
	return ti.GetResult() == core.TransactionInfo_SUCESS &&
		ti.GetReceipt().GetResult() == core.Transaction_Result_SUCCESS
}

// block decodes the infos of block n, whose id is hash. Index is the log's
// position within its transaction, so the deposit id is tron:txid:index.
// Infos that name another block, lack a 32-byte id or repeat an id are an
// error: the node answered for something other than the block asked for.
func (m *matcher) block(infos []*core.TransactionInfo, n uint64, hash string) ([]chains.Transfer, error) {
	var out []chains.Transfer
	seen := make(map[[32]byte]struct{}, len(infos))
	for i, ti := range infos {
		if ti == nil {
			return nil, fmt.Errorf("block %d: info %d is empty", n, i)
		}
		if ti.GetBlockNumber() != int64(n) {
			return nil, fmt.Errorf("block %d: info %d names block %d", n, i, ti.GetBlockNumber())
		}
		var id [32]byte
		if len(ti.GetId()) != len(id) {
			return nil, fmt.Errorf("block %d: info %d: txid of %d bytes", n, i, len(ti.GetId()))
		}
		copy(id[:], ti.GetId())
		if _, dup := seen[id]; dup {
			return nil, fmt.Errorf("block %d: txid %x listed twice", n, id)
		}
		seen[id] = struct{}{}
		if !credited(ti) {
			continue
		}
		for li, lg := range ti.GetLog() {
			lt, ok := DecodeTransferLog(lg)
			if !ok || lt.Amount.Sign() == 0 {
				continue
			}
			tok, ok := m.tokens[lt.Contract]
			if !ok {
				continue
			}
			out = append(out, chains.Transfer{
				Chain:     m.chain,
				Token:     tok.Symbol,
				Contract:  tok.contract,
				TxID:      hex.EncodeToString(id[:]),
				Index:     uint32(li),
				Block:     n,
				BlockHash: hash,
				From:      address.TronFromEVMBytes(lt.From[:]),
				FromKey:   key(lt.From),
				To:        address.TronFromEVMBytes(lt.To[:]),
				ToKey:     key(lt.To),
				Amount:    lt.Amount,
				Decimals:  tok.Decimals,
			})
		}
	}
	return out, nil
}

func key(a [20]byte) chains.AddrKey {
	var k chains.AddrKey
	copy(k[:], a[:])
	return k
}
