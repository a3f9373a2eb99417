// Package chainstest holds test helpers for chain sources: Chain, an
// in-memory deterministic chain implementing chains.Source (blocks with
// transfers, forks, skipped numbers, injected errors), and RunConformance,
// the suite every chain adapter runs against its local node.
package chainstest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"sync"

	"github.com/depositd/depositd/chains"
)

// Source methods, as named to a Hook.
const (
	MethodHeads     = "Heads"
	MethodHeaders   = "Headers"
	MethodTransfers = "Transfers"
)

// Hook runs before every Source call (outside the chain's lock, so it may
// mine or fork); a non-nil error is returned by the call instead of data.
type Hook func(method string, from, to uint64) error

type block struct {
	header    chains.Header
	transfers []chains.Transfer
}

// Chain is an in-memory chain. The zero value is not usable; use New. All
// methods are safe for concurrent use.
type Chain struct {
	name string

	mu         sync.Mutex
	blocks     []block // canonical, ascending numbers (gaps = skipped slots)
	branch     int     // bumps at every Fork so new hashes differ
	skip       uint64  // numbers to skip before the next block
	finalDepth uint64
	safeDepth  uint64
	final      *uint64 // explicit final marker, overrides finalDepth
	hook       Hook
	calls      map[string]int
}

// New returns a chain with genesis block 0 whose final marker trails the
// latest block by finalDepth blocks (numbers, not produced blocks).
func New(name string, finalDepth uint64) *Chain {
	c := &Chain{name: name, finalDepth: finalDepth, safeDepth: finalDepth / 2, calls: map[string]int{}}
	c.blocks = []block{{header: chains.Header{Number: 0, Hash: c.hash(0, "", nil), Parent: ""}}}
	return c
}

// Addr returns a deterministic test address and its key for a label.
func Addr(label string) (string, chains.AddrKey) {
	sum := sha256.Sum256([]byte(label))
	var k chains.AddrKey
	copy(k[:20], sum[:20])
	return "0x" + hex.EncodeToString(sum[:20]), k
}

// Payment describes a transfer to include in the next block.
type Payment struct {
	Token    string
	From     string
	To       string
	Amount   int64
	Decimals int32
}

// SetHook installs h (nil removes it).
func (c *Chain) SetHook(h Hook) {
	c.mu.Lock()
	c.hook = h
	c.mu.Unlock()
}

// SetFinal pins the final marker at n (it never exceeds the latest block).
func (c *Chain) SetFinal(n uint64) {
	c.mu.Lock()
	c.final = &n
	c.mu.Unlock()
}

// Skip makes the next block's number n higher than it would be (a Solana
// skipped slot run).
func (c *Chain) Skip(n uint64) {
	c.mu.Lock()
	c.skip += n
	c.mu.Unlock()
}

// Mine appends a block holding the payments, each in its own transaction
// at transfer index 0, and returns the new header.
func (c *Chain) Mine(pays ...Payment) chains.Header {
	c.mu.Lock()
	defer c.mu.Unlock()
	tip := c.blocks[len(c.blocks)-1].header
	n := tip.Number + 1 + c.skip
	c.skip = 0
	var ts []chains.Transfer
	for i, p := range pays {
		ts = append(ts, c.transfer(n, fmt.Sprintf("b%d-%d-%d", c.branch, n, i), 0, p))
	}
	return c.append(n, tip.Hash, ts)
}

// MineTx appends a block with one transaction carrying all payments, at
// transfer indexes 0, 1, 2... (one transaction, several deposits).
func (c *Chain) MineTx(txid string, pays ...Payment) chains.Header {
	c.mu.Lock()
	defer c.mu.Unlock()
	tip := c.blocks[len(c.blocks)-1].header
	n := tip.Number + 1 + c.skip
	c.skip = 0
	var ts []chains.Transfer
	for i, p := range pays {
		ts = append(ts, c.transfer(n, txid, uint32(i), p))
	}
	return c.append(n, tip.Hash, ts)
}

// Include appends a block carrying the given transfers unchanged except for
// Chain, Block and BlockHash — used to re-include an orphaned transaction.
func (c *Chain) Include(ts ...chains.Transfer) chains.Header {
	c.mu.Lock()
	defer c.mu.Unlock()
	tip := c.blocks[len(c.blocks)-1].header
	n := tip.Number + 1 + c.skip
	c.skip = 0
	out := make([]chains.Transfer, len(ts))
	for i, t := range ts {
		t.Chain, t.Block = c.name, n
		t.Amount = new(big.Int).Set(t.Amount)
		out[i] = t
	}
	return c.append(n, tip.Hash, out)
}

func (c *Chain) transfer(n uint64, txid string, idx uint32, p Payment) chains.Transfer {
	to, toKey := Addr(p.To)
	from, fromKey := Addr(p.From)
	return chains.Transfer{
		Chain: c.name, Token: p.Token, Contract: "contract-" + p.Token, TxID: txid, Index: idx, Block: n,
		From: from, FromKey: fromKey, To: to, ToKey: toKey, Amount: big.NewInt(p.Amount), Decimals: p.Decimals,
	}
}

func (c *Chain) append(n uint64, parent string, ts []chains.Transfer) chains.Header {
	h := chains.Header{Number: n, Hash: c.hash(n, parent, ts), Parent: parent, Time: int64(n)}
	for i := range ts {
		ts[i].BlockHash = h.Hash
	}
	c.blocks = append(c.blocks, block{header: h, transfers: ts})
	return h
}

func (c *Chain) hash(n uint64, parent string, ts []chains.Transfer) string {
	s := sha256.New()
	fmt.Fprintf(s, "%s|%d|%d|%s", c.name, c.branch, n, parent)
	for _, t := range ts {
		fmt.Fprintf(s, "|%s", t.ID())
	}
	return "0x" + hex.EncodeToString(s.Sum(nil))
}

// Fork drops every block above height so that the next Mine builds a new
// branch on top of it, with different hashes. It returns the transfers that
// left the canonical chain.
func (c *Chain) Fork(height uint64) []chains.Transfer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.branch++
	var dropped []chains.Transfer
	i := len(c.blocks)
	for i > 1 && c.blocks[i-1].header.Number > height {
		i--
		dropped = append(append([]chains.Transfer(nil), c.blocks[i].transfers...), dropped...)
	}
	c.blocks = c.blocks[:i]
	return dropped
}

// Latest is the number of the newest block.
func (c *Chain) Latest() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.blocks[len(c.blocks)-1].header.Number
}

// FinalTransfers returns every transfer in canonical blocks at or below the
// final marker: what a watcher must have credited (before its own filters).
func (c *Chain) FinalTransfers() []chains.Transfer {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.heads().Final
	var out []chains.Transfer
	for _, b := range c.blocks {
		if b.header.Number <= f {
			out = append(out, b.transfers...)
		}
	}
	return out
}

// Calls returns how many times a Source method was called.
func (c *Chain) Calls(method string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[method]
}

func (c *Chain) heads() chains.Heads {
	latest := c.blocks[len(c.blocks)-1].header.Number
	below := func(d uint64) uint64 {
		if latest < d {
			return 0
		}
		return latest - d
	}
	h := chains.Heads{Latest: latest, Safe: below(c.safeDepth), Final: below(c.finalDepth)}
	if c.final != nil {
		h.Final = min(*c.final, latest)
	}
	h.Safe = max(h.Safe, h.Final)
	return h
}

func (c *Chain) before(method string, from, to uint64) error {
	c.mu.Lock()
	c.calls[method]++
	h := c.hook
	c.mu.Unlock()
	if h != nil {
		return h(method, from, to)
	}
	return nil
}
