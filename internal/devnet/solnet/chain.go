package solnet

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/gagliardetto/solana-go"
)

// tokenAccount is one SPL token account.
type tokenAccount struct {
	mint, owner, program solana.PublicKey
	amount               uint64
}

// mintState is one SPL mint.
type mintState struct {
	program   solana.PublicKey
	decimals  uint8
	supply    uint64
	authority solana.PublicKey
}

// tokenBal is one pre- or post-token balance of a transaction.
type tokenBal struct {
	index                int
	mint, owner, program solana.PublicKey
	amount               uint64
	decimals             uint8
}

// accountKey is one entry of a transaction's account list.
type accountKey struct {
	key              solana.PublicKey
	signer, writable bool
}

// tx is one executed transaction with everything getBlock reports.
type tx struct {
	sig          solana.Signature
	keys         []accountKey
	pre, post    []tokenBal
	preLamports  []uint64
	postLamports []uint64
	fee          uint64
	err          any // nil on success, the TransactionError JSON otherwise
	ixs          []instruction
	logs         []string
	// created lists token accounts this tx created (deleted on revert).
	created []solana.PublicKey
}

// blk is one produced slot.
type blk struct {
	slot, parent     uint64
	height           uint64
	hash, parentHash string
	txs              []*tx
}

// chain is the ledger state. It is guarded by Node.mu.
type chain struct {
	blocks   map[uint64]*blk
	produced []uint64 // ascending
	next     uint64   // the next slot number
	finalLag uint64
	forks    uint64
	pending  []*tx
	sigs     map[solana.Signature]uint64 // signature → slot
	accounts map[solana.PublicKey]*tokenAccount
	mints    map[solana.PublicKey]*mintState
	lamports map[solana.PublicKey]uint64
	seq      uint64 // key and signature counter
}

func newChain(finalLag uint64) *chain {
	c := &chain{
		blocks:   map[uint64]*blk{},
		finalLag: finalLag,
		sigs:     map[solana.Signature]uint64{},
		accounts: map[solana.PublicKey]*tokenAccount{},
		mints:    map[solana.PublicKey]*mintState{},
		lamports: map[solana.PublicKey]uint64{},
	}
	genesis := &blk{slot: 0, hash: c.hash(0, "", nil), parentHash: solana.Hash{}.String()}
	genesis.parentHash = genesis.hash
	c.blocks[0] = genesis
	c.produced = []uint64{0}
	c.next = 1
	return c
}

// newKey returns a fresh deterministic key.
func (c *chain) newKey(tag string) solana.PublicKey {
	c.seq++
	sum := sha256.Sum256(fmt.Appendf(nil, "solnet key %s %d", tag, c.seq))
	return solana.PublicKeyFromBytes(sum[:])
}

func (c *chain) newSig() solana.Signature {
	c.seq++
	var s solana.Signature
	a := sha256.Sum256(fmt.Appendf(nil, "solnet sig a %d", c.seq))
	b := sha256.Sum256(fmt.Appendf(nil, "solnet sig b %d", c.seq))
	copy(s[:32], a[:])
	copy(s[32:], b[:])
	return s
}

func (c *chain) hash(slot uint64, parent string, txs []*tx) string {
	h := sha256.New()
	var buf [16]byte
	binary.BigEndian.PutUint64(buf[:8], slot)
	binary.BigEndian.PutUint64(buf[8:], c.forks)
	h.Write(buf[:])
	h.Write([]byte(parent))
	for _, t := range txs {
		h.Write(t.sig[:])
	}
	return solana.HashFromBytes(h.Sum(nil)).String()
}

func (c *chain) tip() *blk { return c.blocks[c.produced[len(c.produced)-1]] }

// confirmed is the newest produced slot; processed and confirmed are the
// same on a single-leader chain.
func (c *chain) confirmed() uint64 { return c.tip().slot }

// finalized is the newest produced slot at least finalLag slots below the
// confirmed one (genesis at worst).
func (c *chain) finalized() uint64 {
	tip := c.confirmed()
	for i := len(c.produced) - 1; i >= 0; i-- {
		if s := c.produced[i]; s+c.finalLag <= tip {
			return s
		}
	}
	return 0
}

// mine produces the next slot with every pending transaction.
func (c *chain) mine() *blk {
	parent := c.tip()
	b := &blk{slot: c.next, parent: parent.slot, height: parent.height + 1, parentHash: parent.hash, txs: c.pending}
	b.hash = c.hash(b.slot, parent.hash, b.txs)
	c.pending = nil
	c.blocks[b.slot] = b
	c.produced = append(c.produced, b.slot)
	c.next++
	for _, t := range b.txs {
		c.sigs[t.sig] = b.slot
	}
	return b
}

// fork drops the newest depth produced slots (all above the finalized
// slot), reverting their transactions, and produces depth+1 empty slots at
// the same and the next slot numbers on a new branch.
func (c *chain) fork(depth int) error {
	if depth <= 0 || depth >= len(c.produced) {
		return fmt.Errorf("fork depth %d: want 1..%d", depth, len(c.produced)-1)
	}
	if len(c.pending) > 0 {
		return errors.New("fork: mine or drop the pending transactions first")
	}
	first := c.produced[len(c.produced)-depth]
	if first <= c.finalized() {
		return fmt.Errorf("fork depth %d reaches slot %d at or below finalized %d", depth, first, c.finalized())
	}
	for i := len(c.produced) - 1; i >= len(c.produced)-depth; i-- {
		b := c.blocks[c.produced[i]]
		for j := len(b.txs) - 1; j >= 0; j-- {
			c.revert(b.txs[j])
		}
		delete(c.blocks, b.slot)
	}
	c.produced = c.produced[:len(c.produced)-depth]
	c.forks++
	c.next = first
	for range depth + 1 {
		c.mine()
	}
	return nil
}

// revert undoes an executed transaction: balances and owners back to its
// pre entries, accounts it created removed.
func (c *chain) revert(t *tx) {
	for _, p := range t.pre {
		if a := c.accounts[t.keys[p.index].key]; a != nil {
			a.amount, a.owner = p.amount, p.owner
		}
	}
	for _, k := range t.created {
		delete(c.accounts, k)
	}
	for i, k := range t.keys {
		c.lamports[k.key] = t.preLamports[i]
	}
	for _, p := range t.post {
		if m := c.mints[p.mint]; m != nil {
			m.supply -= p.amount
		}
	}
	for _, p := range t.pre {
		if m := c.mints[p.mint]; m != nil {
			m.supply += p.amount
		}
	}
	delete(c.sigs, t.sig)
}

// skip advances the slot counter by n slots that produce no block.
func (c *chain) skip(n uint64) { c.next += n }

// slotsIn lists the produced slots of [from, to].
func (c *chain) slotsIn(from, to uint64) []uint64 {
	i := sort.Search(len(c.produced), func(i int) bool { return c.produced[i] >= from })
	var out []uint64
	for ; i < len(c.produced) && c.produced[i] <= to; i++ {
		out = append(out, c.produced[i])
	}
	return out
}
