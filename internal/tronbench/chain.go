// Package tronbench measures the Tron watcher's backfill against a local
// node (internal/devnet/tronnet): one watcher poll from the chain's first
// transfer block to the solidified height, crediting through the final
// tier against a 1,000,000-address index, next to a bare sequential
// GetTransactionInfoByBlockNum loop over the same blocks on the same
// WalletSolidity service (the floor). The benchmark lives in the package's
// tests; this package holds the harness it shares with the tiny test.
package tronbench

import (
	"context"
	"fmt"
	"math/big"

	"github.com/depositd/depositd/chains/address"
	"github.com/depositd/depositd/internal/devnet/tronnet"
	"github.com/depositd/depositd/internal/evmbench"
)

// Decimals is the benchmark token's decimals.
const Decimals = 6

// Deposit is one transfer of the chain that pays a watched recipient.
type Deposit struct {
	TxID    string
	Account string
	Block   uint64
}

// Chain is a built local Tron chain: blocks First..Last hold one USDT
// transfer each, from an unwatched sender to evmbench.Recipient(j %
// evmbench.PoolSize) for the j-th transfer, so 1 in evmbench.WatchEvery pays
// a watched recipient. The node's solidified height is Last.
type Chain struct {
	Node        *tronnet.Node
	USDT        string // base58 contract
	First, Last uint64
	Deposits    []Deposit // the transfers to watched recipients, in block order
}

// Blocks is the number of blocks in [First, Last].
func (c *Chain) Blocks() uint64 { return c.Last - c.First + 1 }

// sender is the funded account every transfer comes from; no index holds it.
var sender = address.TronFromEVMBytes([]byte{0xbe, 0x4c, 0x5e, 0x4d})

// Build starts a node and mines blocks blocks of one transfer each after
// a funding block, then sets the solid lag to 0 so every block is final.
// The caller closes c.Node.
func Build(ctx context.Context, blocks int) (*Chain, error) {
	if blocks < 1 {
		return nil, fmt.Errorf("build: %d blocks, want at least 1", blocks)
	}
	n, err := tronnet.Start(ctx, tronnet.Options{})
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	c, err := fill(n, blocks)
	if err != nil {
		_ = n.Close()
		return nil, fmt.Errorf("build: %w", err)
	}
	return c, nil
}

func fill(n *tronnet.Node, blocks int) (*Chain, error) {
	usdt, err := n.DeployTRC20("USDT", Decimals)
	if err != nil {
		return nil, err
	}
	if _, err := n.Mint(usdt, sender, new(big.Int).Mul(big.NewInt(int64(blocks)), big.NewInt(1e9))); err != nil {
		return nil, err
	}
	n.Mine()
	c := &Chain{Node: n, USDT: usdt}
	for j := range blocks {
		i := j % evmbench.PoolSize
		to := address.TronFromEVMBytes(evmbench.Recipient(i).Bytes())
		txid, err := n.Transfer(usdt, sender, to, big.NewInt(int64(1_000_000+j)))
		if err != nil {
			return nil, fmt.Errorf("transfer %d: %w", j, err)
		}
		num, _ := n.Mine()
		if j == 0 {
			c.First = num
		}
		c.Last = num
		if i%evmbench.WatchEvery == 0 {
			c.Deposits = append(c.Deposits, Deposit{TxID: txid, Account: evmbench.AccountOf(i / evmbench.WatchEvery), Block: num})
		}
	}
	n.SetSolidLag(0)
	if s := n.Solid(); s != c.Last {
		return nil, fmt.Errorf("solid height %d, want %d", s, c.Last)
	}
	return c, nil
}

// Calls is the number of calls the node has served so far, over every full
// and solidity listener and method.
func (c *Chain) Calls() (int, error) {
	total := 0
	for _, a := range append(c.Node.Addrs(), c.Node.SolidityAddrs()...) {
		m, err := c.Node.Calls(a)
		if err != nil {
			return 0, fmt.Errorf("calls: %w", err)
		}
		for _, n := range m {
			total += n
		}
	}
	return total, nil
}
