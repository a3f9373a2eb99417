// Package evmnet runs a local EVM chain for tests and `depositd dev`:
// go-ethereum's simulated backend (ethclient/simulated) served over real
// HTTP JSON-RPC on a loopback port, with funded accounts and helpers to
// deploy the ERC-20 TestToken and move it around.
//
// Blocks are produced only by Commit. Tags, as go-ethereum's simulated
// beacon (eth/catalyst/simulated_beacon.go) reports them: "safe" is the
// head itself, and "finalized" is the last multiple of 32 (devEpochLength)
// at or below the head: for head n, n when n%32 == 0, else
// ((n-1)/32)*32. So finalized advances in steps of 32 blocks; use
// CommitBlocks to move it. Fork rewinds the head at once (SetCanonical), so
// after a fork "latest" drops to the fork point until new blocks are
// committed, and transactions of the dropped blocks return to the pool and
// are included again by the next Commit, as on a real reorg.
package evmnet

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
	"github.com/ethereum/go-ethereum/node"

	"github.com/depositd/depositd/contracts"
)

// ChainID is the chain id of every simulated chain.
const ChainID = 1337

// Tip is the priority fee of every transaction sent by the helpers: the
// simulated miner never includes a tip below 1 gwei.
var Tip = big.NewInt(1_000_000_000)

// feeCap is far above the simulated base fee (1 gwei and falling).
var feeCap = big.NewInt(100_000_000_000)

// Account is a funded externally owned account.
type Account struct {
	Key     *ecdsa.PrivateKey
	Address common.Address
}

// Chain is one running simulated chain. Its methods are safe for concurrent
// use; transactions are sent one at a time so nonces stay in order.
type Chain struct {
	backend  *simulated.Backend
	client   simulated.Client
	url      string
	accounts []Account
	token    abi.ABI
	signer   types.Signer

	mu      sync.Mutex
	pending []common.Hash
	nonces  map[common.Address]uint64 // next nonce per sender
}

// Option changes how New builds the chain.
type Option func(*options)

type options struct {
	accounts int
	gasLimit uint64
}

// WithAccounts sets the number of funded accounts (default 4).
func WithAccounts(n int) Option { return func(o *options) { o.accounts = n } }

// WithGasLimit sets the block gas limit (default 60M).
func WithGasLimit(g uint64) Option { return func(o *options) { o.gasLimit = g } }

// New starts a chain with funded accounts, serving JSON-RPC (eth, net, web3)
// over HTTP on a free 127.0.0.1 port. Close it when done.
func New(opts ...Option) (*Chain, error) {
	o := options{accounts: 4}
	for _, f := range opts {
		f(&o)
	}
	if o.accounts < 1 {
		return nil, errors.New("evmnet: at least one account")
	}
	parsed, err := abi.JSON(strings.NewReader(contracts.TestTokenABI))
	if err != nil {
		return nil, fmt.Errorf("evmnet: token abi: %w", err)
	}
	alloc := types.GenesisAlloc{}
	balance := new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(1e18))
	accounts := make([]Account, o.accounts)
	for i := range accounts {
		key, err := crypto.GenerateKey()
		if err != nil {
			return nil, fmt.Errorf("evmnet: key: %w", err)
		}
		accounts[i] = Account{Key: key, Address: crypto.PubkeyToAddress(key.PublicKey)}
		alloc[accounts[i].Address] = types.Account{Balance: balance}
	}
	var lastErr error
	// The simulated backend cannot report the port it bound, so pick a free
	// one; another process may take it in between, hence the retries.
	for range 5 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		backend, err := startBackend(alloc, port, o.gasLimit)
		if err != nil {
			lastErr = err
			continue
		}
		return &Chain{
			backend:  backend,
			client:   backend.Client(),
			url:      fmt.Sprintf("http://127.0.0.1:%d", port),
			accounts: accounts,
			token:    parsed,
			signer:   types.LatestSignerForChainID(big.NewInt(ChainID)),
			nonces:   map[common.Address]uint64{},
		}, nil
	}
	return nil, fmt.Errorf("evmnet: start: %w", lastErr)
}

// startBackend builds the simulated backend, turning its start panic (port
// taken) into an error.
func startBackend(alloc types.GenesisAlloc, port int, gasLimit uint64) (b *simulated.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("simulated backend on port %d: %v", port, r)
		}
	}()
	opts := []func(*node.Config, *ethconfig.Config){
		func(nc *node.Config, _ *ethconfig.Config) {
			nc.HTTPHost = "127.0.0.1"
			nc.HTTPPort = port
			nc.HTTPModules = []string{"eth", "net", "web3"}
		},
	}
	if gasLimit > 0 {
		opts = append(opts, simulated.WithBlockGasLimit(gasLimit))
	}
	return simulated.NewBackend(alloc, opts...), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("evmnet: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL is the HTTP JSON-RPC endpoint, http://127.0.0.1:PORT.
func (c *Chain) URL() string { return c.url }

// Accounts returns the funded accounts; the first deploys and mints.
func (c *Chain) Accounts() []Account { return c.accounts }

// Client is an in-process client of the chain, for test assertions.
func (c *Chain) Client() simulated.Client { return c.client }

// Close stops the chain and its HTTP server.
func (c *Chain) Close() error { return c.backend.Close() }

// Commit mines the pending transactions into a new block and returns its
// hash. It fails if any transaction sent since the last Commit reverted or
// was not included.
func (c *Chain) Commit() (common.Hash, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.awaitPool(); err != nil {
		return common.Hash{}, err
	}
	h := c.backend.Commit()
	sent := c.pending
	c.pending = nil
	for _, tx := range sent {
		r, err := c.client.TransactionReceipt(context.Background(), tx)
		if err != nil {
			return h, fmt.Errorf("evmnet: tx %s not mined: %w", tx.Hex(), err)
		}
		if r.Status != types.ReceiptStatusSuccessful {
			return h, fmt.Errorf("evmnet: tx %s reverted", tx.Hex())
		}
	}
	return h, nil
}

// awaitPool waits until the pool counts every transaction sent as pending:
// the pool promotes new transactions asynchronously, and a block sealed
// before that would leave them out.
func (c *Chain) awaitPool() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for addr, next := range c.nonces {
		for {
			n, err := c.client.PendingNonceAt(ctx, addr)
			if err != nil {
				return fmt.Errorf("evmnet: pool of %s: %w", addr.Hex(), err)
			}
			if n >= next {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("evmnet: pool of %s: pending nonce %d, sent up to %d", addr.Hex(), n, next-1)
			case <-time.After(time.Millisecond):
			}
		}
	}
	return nil
}

// CommitBlocks mines n blocks (the first carries any pending transactions).
func (c *Chain) CommitBlocks(n int) error {
	for range n {
		if _, err := c.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Fork makes the block with hash parent the head; the next Commits build a
// branch from it. See the package comment for what the tags do.
func (c *Chain) Fork(parent common.Hash) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.backend.Fork(parent); err != nil {
		return fmt.Errorf("evmnet: fork at %s: %w", parent.Hex(), err)
	}
	return nil
}

// AdjustTime mines an empty block whose timestamp is d after its parent's.
func (c *Chain) AdjustTime(d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.backend.AdjustTime(d); err != nil {
		return fmt.Errorf("evmnet: adjust time: %w", err)
	}
	return nil
}

// Head returns the current head block number and hash.
func (c *Chain) Head(ctx context.Context) (uint64, common.Hash, error) {
	h, err := c.client.HeaderByNumber(ctx, nil)
	if err != nil {
		return 0, common.Hash{}, fmt.Errorf("evmnet: head: %w", err)
	}
	return h.Number.Uint64(), h.Hash(), nil
}

// send signs and submits one transaction from from; it is mined by the next
// Commit.
func (c *Chain) send(from Account, to *common.Address, gas uint64, data []byte) (*types.Transaction, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx := context.Background()
	// The pool's pending nonce is re-computed asynchronously after each
	// new head, so right after a Commit it can lag behind what was sent:
	// keep each sender's next nonce here, asking the node only at first use
	// and after a failed send.
	nonce, ok := c.nonces[from.Address]
	if !ok {
		n, err := c.client.PendingNonceAt(ctx, from.Address)
		if err != nil {
			return nil, fmt.Errorf("evmnet: nonce: %w", err)
		}
		nonce = n
	}
	tx, err := types.SignNewTx(from.Key, c.signer, &types.DynamicFeeTx{
		ChainID:   big.NewInt(ChainID),
		Nonce:     nonce,
		GasTipCap: Tip,
		GasFeeCap: feeCap,
		Gas:       gas,
		To:        to,
		Data:      data,
	})
	if err != nil {
		return nil, fmt.Errorf("evmnet: sign: %w", err)
	}
	if err := c.client.SendTransaction(ctx, tx); err != nil {
		delete(c.nonces, from.Address)
		return nil, fmt.Errorf("evmnet: send: %w", err)
	}
	c.nonces[from.Address] = nonce + 1
	c.pending = append(c.pending, tx.Hash())
	return tx, nil
}
