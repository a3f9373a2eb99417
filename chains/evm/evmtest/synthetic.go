package evmtest

import (
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// transferTopic is keccak256("Transfer(address,address,uint256)").
var transferTopic = crypto.Keccak256Hash([]byte("Transfer(address,address,uint256)"))

// BlockHash is the hash Synthetic gives block n.
func BlockHash(n uint64) common.Hash {
	return crypto.Keccak256Hash([]byte(fmt.Sprintf("block %d", n)))
}

// Synthetic fills n with blocks 0..blocks (linked by parent hash, 12 s
// apart) and perBlock Transfer logs of token in each block from 1 on, log i
// of block b carrying amount b*1000+i+1 to the address b*1000+i. Heads are
// set to latest = safe = final = blocks.
func Synthetic(n *Node, token common.Address, blocks uint64, perBlock int) error {
	for b := uint64(0); b <= blocks; b++ {
		parent := common.Hash{}
		if b > 0 {
			parent = BlockHash(b - 1)
		}
		raw, err := json.Marshal(map[string]any{
			"number":     hexutil.Uint64(b),
			"hash":       BlockHash(b),
			"parentHash": parent,
			"timestamp":  hexutil.Uint64(1_700_000_000 + 12*b),
		})
		if err != nil {
			return err
		}
		if err := n.AddBlock(raw); err != nil {
			return err
		}
		if b == 0 {
			continue
		}
		logs := make([]json.RawMessage, 0, perBlock)
		for i := range perBlock {
			id := b*1000 + uint64(i)
			raw, err := json.Marshal(map[string]any{
				"address":          token,
				"topics":           []common.Hash{transferTopic, common.BytesToHash(common.Address{0xfe}.Bytes()), common.BigToHash(new(big.Int).SetUint64(id))},
				"data":             hexutil.Bytes(common.BigToHash(new(big.Int).SetUint64(id + 1)).Bytes()),
				"blockNumber":      hexutil.Uint64(b),
				"blockHash":        BlockHash(b),
				"transactionHash":  crypto.Keccak256Hash([]byte(fmt.Sprintf("tx %d", id))),
				"transactionIndex": hexutil.Uint64(i),
				"logIndex":         hexutil.Uint64(i),
				"removed":          false,
			})
			if err != nil {
				return err
			}
			logs = append(logs, raw)
		}
		if err := n.AddLogs(logs...); err != nil {
			return err
		}
	}
	n.SetHeads(blocks, blocks, blocks)
	return nil
}
