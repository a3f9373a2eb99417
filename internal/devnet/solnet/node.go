// Package solnet is a local Solana JSON-RPC node for tests and `depositd
// dev`: HTTP servers answering getSlot, getBlocks, getBlock (accounts mode,
// signatures, none and full jsonParsed), getAccountInfo,
// getSignatureStatuses, getHealth and getVersion with the shapes agave
// returns, over a simulated ledger that executes SPL Token and Token-2022
// balances. It produces slots with skips, ATA creations, failed
// transactions, owner changes, nested ATAs and forks above the finalized
// slot. Fault injection per listener (HTTP errors, JSON-RPC errors, null
// blocks, lag) drives failover tests. It listens on loopback only.
package solnet

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
)

// Options configures a Node. Zero values take the documented defaults.
type Options struct {
	// FinalLag is how many slots the finalized slot trails the confirmed
	// one (default 32).
	FinalLag uint64
	// Genesis is the blockTime of slot 0 (default 2026-01-01T00:00:00Z);
	// each slot adds SlotTime (default 400ms).
	Genesis  time.Time
	SlotTime time.Duration
	// Endpoints is the number of listeners sharing the ledger (default 1).
	Endpoints int
	// OnCall, when set, runs before every served call with the listener's
	// index and the method: tests act (fork, mine) at an exact point of a
	// client's sequence. It must not call back into the same request.
	OnCall func(endpoint int, method string)
}

func (o Options) withDefaults() Options {
	if o.FinalLag == 0 {
		o.FinalLag = 32
	}
	if o.Genesis.IsZero() {
		o.Genesis = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if o.SlotTime == 0 {
		o.SlotTime = 400 * time.Millisecond
	}
	if o.Endpoints == 0 {
		o.Endpoints = 1
	}
	return o
}

// Fault is an injected misbehaviour of one listener.
type Fault struct {
	// Methods limits the fault to these JSON-RPC methods (empty: all).
	Methods []string
	// Calls is how many matching calls the fault affects (0: until cleared).
	Calls int
	// HTTPStatus answers with this status and a non-JSON body.
	HTTPStatus int
	// Code answers with this JSON-RPC error code (e.g. -32004, -32007).
	Code int
	// NullBlock answers getBlock with a null result.
	NullBlock bool
	// Lag makes the listener see the ledger as it was Lag slots ago: lower
	// getSlot answers and -32004 for newer blocks.
	Lag uint64
}

// Node is one local Solana ledger served on one or more loopback
// listeners. All methods are safe for concurrent use.
type Node struct {
	opts Options

	mu     sync.Mutex
	chain  *chain
	faults []*Fault
	calls  []map[string]int

	servers []*http.Server
	urls    []string
	done    chan struct{}
}

// Start listens on opts.Endpoints loopback ports and serves until ctx ends
// or Close is called. The ledger starts with the genesis slot 0.
func Start(ctx context.Context, opts Options) (*Node, error) {
	opts = opts.withDefaults()
	n := &Node{opts: opts, chain: newChain(opts.FinalLag), done: make(chan struct{})}
	for i := range opts.Endpoints {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			n.Close()
			return nil, fmt.Errorf("solnet listen: %w", err)
		}
		srv := &http.Server{Handler: n.handler(i), ReadHeaderTimeout: 5 * time.Second}
		n.servers = append(n.servers, srv)
		n.urls = append(n.urls, "http://"+ln.Addr().String())
		n.faults = append(n.faults, nil)
		n.calls = append(n.calls, map[string]int{})
		go func() { _ = srv.Serve(ln) }()
	}
	go func() {
		select {
		case <-ctx.Done():
			n.Close()
		case <-n.done:
		}
	}()
	return n, nil
}

// Close stops every listener. It is idempotent.
func (n *Node) Close() error {
	n.mu.Lock()
	select {
	case <-n.done:
		n.mu.Unlock()
		return nil
	default:
		close(n.done)
	}
	n.mu.Unlock()
	var errs []error
	for _, s := range n.servers {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// URL is the first listener's JSON-RPC URL.
func (n *Node) URL() string { return n.urls[0] }

// URLs lists every listener's JSON-RPC URL.
func (n *Node) URLs() []string { return append([]string(nil), n.urls...) }

// SetFault installs a copy of f on listener i, replacing any earlier
// fault; nil clears it.
func (n *Node) SetFault(i int, f *Fault) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if f != nil {
		cp := *f
		f = &cp
	}
	n.faults[i] = f
}

// Calls returns how many calls of each method listener i has served
// (faulted ones included).
func (n *Node) Calls(i int) map[string]int {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make(map[string]int, len(n.calls[i]))
	for k, v := range n.calls[i] {
		out[k] = v
	}
	return out
}

// NewWallet returns a fresh wallet key (funded with SOL on first use).
func (n *Node) NewWallet() solana.PublicKey {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.chain.newKey("wallet")
}

// CreateMint creates a mint under program (Token or Token-2022) with a
// fresh address, effective at once (no transaction).
func (n *Node) CreateMint(program solana.PublicKey, decimals uint8) (solana.PublicKey, error) {
	n.mu.Lock()
	mint := n.chain.newKey("mint")
	n.mu.Unlock()
	return mint, n.CreateMintAt(mint, program, decimals)
}

// CreateMintAt creates a mint at a given address (e.g. mainnet USDC's, so a
// production config works against the node), effective at once.
func (n *Node) CreateMintAt(mint, program solana.PublicKey, decimals uint8) error {
	if !program.Equals(solana.TokenProgramID) && !program.Equals(solana.Token2022ProgramID) {
		return fmt.Errorf("create mint: program %s is neither Token nor Token-2022", program)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.chain.mints[mint] != nil {
		return fmt.Errorf("create mint: %s exists", mint)
	}
	n.chain.mints[mint] = &mintState{program: program, decimals: decimals, authority: n.chain.newKey("mint authority")}
	return nil
}

// Slot reports the newest produced (confirmed) slot and the finalized one.
func (n *Node) Slot() (confirmed, finalized uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.chain.confirmed(), n.chain.finalized()
}

// Mine produces the next slot with every submitted transaction and returns
// its number.
func (n *Node) Mine() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.chain.mine().slot
}

// Skip makes the next k slots produce no block.
func (n *Node) Skip(k uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.chain.skip(k)
}

// Fork replaces the newest depth produced slots (which must lie above the
// finalized slot) by depth+1 empty slots on a new branch, at the same slot
// numbers and one more; their transactions are reverted. Submitted but
// unmined transactions make it fail.
func (n *Node) Fork(depth int) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.chain.fork(depth)
}

// SetFinalLag sets how many slots the finalized slot trails the confirmed one.
func (n *Node) SetFinalLag(k uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.chain.finalLag = k
}

// Block reports the blockhash of a produced slot on the current branch.
func (n *Node) Block(slot uint64) (hash string, ok bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	b := n.chain.blocks[slot]
	if b == nil {
		return "", false
	}
	return b.hash, true
}

// Run mines one slot per tick (every submitted transaction included) until
// ctx ends, which it returns as nil: `depositd dev` drives it with a
// 400ms ticker, tests with their own channel.
func (n *Node) Run(ctx context.Context, tick <-chan time.Time) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
			n.Mine()
		}
	}
}
