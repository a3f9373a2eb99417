package chaos

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/gagliardetto/solana-go"

	"github.com/depositd/depositd/chains/address"
	"github.com/depositd/depositd/chains/evm/evmtest"
	"github.com/depositd/depositd/internal/devnet/evmnet"
	"github.com/depositd/depositd/internal/devnet/solnet"
	"github.com/depositd/depositd/internal/devnet/tronnet"
)

// Chain parameters of the campaign. Every reorg stays above the chain's
// final block: EVM forks never reach below the "finalized" tag (the last
// multiple of 32), Tron forks stay above the solidified block, Solana forks
// above the finalized slot.
const (
	tronSolidLag   = 6
	solFinalLag    = 16
	evmDecimals    = 6
	bscDecimals    = 18
	maxEVMReorg    = 3
	maxTronReorg   = 4
	maxSolanaReorg = 6
)

// evmNet is one local EVM chain with its token, its sender and its proxy.
// Sends, Commit and Fork take mu: the simulated backend cannot fork while
// transactions are pending.
type evmNet struct {
	name     string
	chain    *evmnet.Chain
	token    common.Address
	decimals int
	block    time.Duration
	proxy    *rpcProxy
	lag      *evmtest.Proxy // behind proxy: serves a lagging head on demand

	mu sync.Mutex
}

type tronNet struct {
	node   *tronnet.Node
	usdt   string
	sender string
	block  time.Duration
	mu     sync.Mutex
}

type solNet struct {
	node   *solnet.Node
	mint   solana.PublicKey
	sender solana.PublicKey
	slot   time.Duration
	proxy  *rpcProxy
	mu     sync.Mutex // serialises sends, Mine and Fork (Fork refuses unmined transactions)
}

// nets are the four local chains.
type nets struct {
	evm  []*evmNet
	tron *tronNet
	sol  *solNet
}

func startNets(ctx context.Context, seed uint64) (*nets, error) {
	n := &nets{}
	specs := []struct {
		name     string
		block    time.Duration
		decimals int
	}{{"ethereum", 400 * time.Millisecond, evmDecimals}, {"bsc", 250 * time.Millisecond, bscDecimals}}
	for i, s := range specs {
		c, err := evmnet.New(evmnet.WithAccounts(2))
		if err != nil {
			n.close()
			return nil, fmt.Errorf("chain %s: %w", s.name, err)
		}
		e := &evmNet{name: s.name, chain: c, decimals: s.decimals, block: s.block}
		n.evm = append(n.evm, e)
		if e.token, err = c.DeployToken("USDT", uint8(s.decimals)); err != nil {
			n.close()
			return nil, err
		}
		if _, err := c.Mint(e.token, c.Accounts()[0].Address, pow10(15+s.decimals)); err != nil {
			n.close()
			return nil, err
		}
		if err := c.CommitBlocks(2); err != nil {
			n.close()
			return nil, err
		}
		e.lag = evmtest.StartProxy(c.URL())
		if e.proxy, err = startProxy(s.name, e.lag.URL(), seed+uint64(i)); err != nil {
			n.close()
			return nil, err
		}
	}
	tn, err := tronnet.Start(ctx, tronnet.Options{SolidLag: tronSolidLag, BlockTime: time.Second, Genesis: time.Now()})
	if err != nil {
		n.close()
		return nil, fmt.Errorf("chain tron: %w", err)
	}
	n.tron = &tronNet{node: tn, block: 500 * time.Millisecond, sender: tronAddress("sender")}
	if n.tron.usdt, err = tn.DeployTRC20("USDT", 6); err != nil {
		n.close()
		return nil, err
	}
	if _, err := tn.Mint(n.tron.usdt, n.tron.sender, pow10(21)); err != nil {
		n.close()
		return nil, err
	}
	tn.Mine()
	sn, err := solnet.Start(ctx, solnet.Options{FinalLag: solFinalLag, SlotTime: 300 * time.Millisecond})
	if err != nil {
		n.close()
		return nil, fmt.Errorf("chain solana: %w", err)
	}
	n.sol = &solNet{node: sn, slot: 300 * time.Millisecond, sender: sn.NewWallet()}
	if n.sol.mint, err = sn.CreateMint(solana.TokenProgramID, 6); err != nil {
		n.close()
		return nil, err
	}
	if _, err := sn.MintTo(n.sol.mint, n.sol.sender, 1e15); err != nil {
		n.close()
		return nil, err
	}
	sn.Mine()
	if n.sol.proxy, err = startProxy("solana", sn.URL(), seed+7); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

func (n *nets) close() {
	for _, e := range n.evm {
		if e.proxy != nil {
			e.proxy.close()
		}
		if e.lag != nil {
			e.lag.Close()
		}
		_ = e.chain.Close()
	}
	if n.tron != nil {
		_ = n.tron.node.Close()
	}
	if n.sol != nil {
		if n.sol.proxy != nil {
			n.sol.proxy.close()
		}
		_ = n.sol.node.Close()
	}
}

// mine produces a block on every chain at its block time until ctx ends.
func (n *nets) mine(ctx context.Context) error {
	errs := make(chan error, len(n.evm)+2)
	var wg sync.WaitGroup
	loop := func(every time.Duration, step func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(every)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if err := step(); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	for _, e := range n.evm {
		loop(e.block, e.commit)
	}
	loop(n.tron.block, func() error { n.tron.mu.Lock(); defer n.tron.mu.Unlock(); n.tron.node.Mine(); return nil })
	loop(n.sol.slot, func() error { n.sol.mu.Lock(); defer n.sol.mu.Unlock(); n.sol.node.Mine(); return nil })
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

func (e *evmNet) commit() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.chain.Commit(); err != nil {
		return fmt.Errorf("chain %s: %w", e.name, err)
	}
	return nil
}

// reorg replaces the newest depth blocks (fewer when the finalized tag is
// closer to the head; none when it is the head) by a longer branch whose
// first block differs. It reports the depth used.
func (e *evmNet) reorg(ctx context.Context, depth int) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	// The simulated backend refuses to fork with transactions pending:
	// include them first, so the fork drops real deposits.
	if _, err := e.chain.Commit(); err != nil {
		return 0, err
	}
	head, _, err := e.chain.Head(ctx)
	if err != nil {
		return 0, err
	}
	final := uint64(0)
	if head > 0 {
		final = (head - 1) / 32 * 32
		if head%32 == 0 {
			final = head
		}
	}
	depth = min(depth, int(head-final))
	if depth < 1 {
		return 0, nil
	}
	parent, err := e.chain.Client().HeaderByNumber(ctx, new(big.Int).SetUint64(head-uint64(depth)))
	if err != nil {
		return 0, err
	}
	if err := e.chain.Fork(parent.Hash()); err != nil {
		return 0, err
	}
	// A fresh transaction to an unwatched address makes the new branch
	// differ from the old one even where it re-mines the same transactions.
	if _, err := e.chain.Transfer(e.token, e.chain.Accounts()[1], common.BigToAddress(big.NewInt(0xfee)), big.NewInt(0)); err != nil {
		return 0, err
	}
	if err := e.chain.CommitBlocks(depth + 1); err != nil {
		return 0, err
	}
	return depth, nil
}

// reorg of Tron: the newest depth blocks (kept above the solidified block)
// are replaced by depth+1 empty ones; their transfers are gone.
func (t *tronNet) reorg(depth int) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.node.Mine() // include what was sent, so the fork drops real deposits
	depth = min(depth, int(t.node.Head()-t.node.Solid())-1)
	if depth < 1 {
		return 0, nil
	}
	return depth, t.node.Fork(depth)
}

// reorg of Solana: as Tron, above the finalized slot.
func (s *solNet) reorg(depth int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.node.Mine()
	confirmed, final := s.node.Slot()
	depth = min(depth, int(confirmed-final)-1)
	if depth < 1 {
		return 0, nil
	}
	return depth, s.node.Fork(depth)
}

// tronAddress is a fixed Tron address per label (nobody holds its key).
func tronAddress(label string) string {
	h := sha256.Sum256([]byte("depositd-chaos:tron:" + label))
	return address.TronFromEVMBytes(h[:20])
}

// evmAddress is a fixed watch-only EVM address per label.
func evmAddress(label string) common.Address {
	h := sha256.Sum256([]byte("depositd-chaos:evm:" + label))
	return common.BytesToAddress(h[:20])
}

// solWallet is a fixed Solana wallet (an ed25519 key, on the curve as the
// address book requires) per label.
func solWallet(label string) solana.PublicKey {
	seed := sha256.Sum256([]byte("depositd-chaos:solana:" + label))
	return solana.PublicKeyFromBytes(ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey))
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }
