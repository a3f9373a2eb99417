package tronnet

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/fbsobreira/gotron-sdk/pkg/proto/api"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
	"google.golang.org/protobuf/proto"
)

// block is one immutable block: its two wire forms and its receipts.
type block struct {
	number uint64
	id     []byte
	header *api.BlockExtention // block_header and blockid only (GetBlock detail=false)
	full   *api.BlockExtention // with transactions
	infos  []*core.TransactionInfo
	undo   []balanceChange // applied by this block, reverted by a fork
}

func (b *block) idHex() string { return hex.EncodeToString(b.id) }

// executed is one transaction with its receipt, ready for a block.
type executed struct {
	tx   *core.Transaction
	info *core.TransactionInfo
	undo []balanceChange
}

// build makes the block after parent (genesis when nil) from executed txs.
// The id follows java-tron's BlockId: sha256 of the raw header with the
// first 8 bytes replaced by the big-endian height.
func (n *Node) build(parent *block, txs []executed) *block {
	num := uint64(0)
	parentID := make([]byte, 32)
	if parent != nil {
		num = parent.number + 1
		parentID = parent.id
	}
	ts := n.opts.Genesis.Add(n.opts.BlockTime * time.Duration(num)).UnixMilli()
	witness := sha256.Sum256(binary.BigEndian.AppendUint64([]byte("witness"), n.forks))
	raw := &core.BlockHeaderRaw{
		Timestamp:      ts,
		TxTrieRoot:     txTrieRoot(txs),
		ParentHash:     parentID,
		Number:         int64(num),
		WitnessAddress: append([]byte{0x41}, witness[:20]...),
		Version:        32,
	}
	rawBytes, err := proto.MarshalOptions{Deterministic: true}.Marshal(raw)
	if err != nil {
		panic(fmt.Sprintf("tronnet: marshal header: %v", err)) // a well-formed message always marshals
	}
	id := sha256.Sum256(rawBytes)
	binary.BigEndian.PutUint64(id[:8], num)
	hdr := &core.BlockHeader{RawData: raw, WitnessSignature: make([]byte, 65)}
	b := &block{number: num, id: id[:],
		header: &api.BlockExtention{BlockHeader: hdr, Blockid: id[:]},
		full:   &api.BlockExtention{BlockHeader: hdr, Blockid: id[:]},
	}
	for _, e := range txs {
		e.info.BlockNumber = int64(num)
		e.info.BlockTimeStamp = ts
		b.full.Transactions = append(b.full.Transactions, &api.TransactionExtention{Transaction: e.tx, Txid: e.info.Id,
			Result: &api.Return{Result: true}})
		b.infos = append(b.infos, e.info)
		b.undo = append(b.undo, e.undo...)
	}
	return b
}

// txTrieRoot is java-tron's transaction merkle root: leaves are sha256 of
// each serialized transaction, pairs hash upwards, an odd node is carried
// up unchanged; an empty block has the zero root.
func txTrieRoot(txs []executed) []byte {
	if len(txs) == 0 {
		return make([]byte, 32)
	}
	level := make([][32]byte, len(txs))
	for i, e := range txs {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(e.tx)
		if err != nil {
			panic(fmt.Sprintf("tronnet: marshal tx: %v", err))
		}
		level[i] = sha256.Sum256(b)
	}
	for len(level) > 1 {
		var next [][32]byte
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
				continue
			}
			next = append(next, sha256.Sum256(append(level[i][:], level[i+1][:]...)))
		}
		level = next
	}
	return level[0][:]
}

// Mine executes every pending transaction in order into a new block and
// returns its height and hex id.
func (n *Node) Mine() (uint64, string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	b := n.mine(n.pending)
	n.pending = nil
	return b.number, b.idHex()
}

func (n *Node) mine(pending []pendingTx) *block {
	parent := n.chain[len(n.chain)-1]
	txs := make([]executed, 0, len(pending))
	for _, p := range pending {
		txs = append(txs, n.execute(p))
	}
	b := n.build(parent, txs)
	n.chain = append(n.chain, b)
	n.advanceSolid()
	return b
}

// Fork replaces the newest depth blocks with depth+1 empty blocks produced
// by another witness, as a longer competing fork wins in java-tron. The
// replaced blocks' transactions are dropped (orphaned) and their balance
// changes reverted; pending transactions stay pending. A fork reaching a
// solidified block is an error: the solid height never rolls back.
func (n *Node) Fork(depth int) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if depth < 1 {
		return fmt.Errorf("fork depth %d: want at least 1", depth)
	}
	if h := n.head(); uint64(depth) > h-n.solid {
		return fmt.Errorf("fork depth %d: head %d, solidified %d", depth, h, n.solid)
	}
	for range depth {
		b := n.chain[len(n.chain)-1]
		for i := len(b.undo) - 1; i >= 0; i-- {
			b.undo[i].revert()
		}
		n.chain = n.chain[:len(n.chain)-1]
	}
	n.forks++
	for range depth + 1 {
		n.mine(nil)
	}
	return nil
}
