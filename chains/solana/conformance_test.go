package solana

import (
	"context"
	"fmt"
	"math/big"
	"testing"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/chainstest"
	"github.com/depositd/depositd/internal/devnet/solnet"
	"github.com/gagliardetto/solana-go"
)

// driver produces USDC transfers on a solnet node for the conformance suite.
type driver struct {
	n       *net
	wallets []solana.PublicKey
}

func (d *driver) Token() string { return "USDC" }

func (d *driver) Recipient(i int) string {
	for len(d.wallets) <= i {
		d.wallets = append(d.wallets, d.n.node.NewWallet())
	}
	return d.wallets[i].String()
}

func (d *driver) Transfer(_ context.Context, to string, raw *big.Int) (string, error) {
	w, err := solana.PublicKeyFromBase58(to)
	if err != nil {
		return "", err
	}
	if !raw.IsUint64() {
		return "", fmt.Errorf("amount %s exceeds u64", raw)
	}
	return d.n.node.Transfer(usdcMint, d.n.sender, w, raw.Uint64())
}

func (d *driver) Mine(context.Context) error { d.n.node.Mine(); return nil }

func (d *driver) Fork(_ context.Context, depth int) error { return d.n.node.Fork(depth) }

func TestConformance(t *testing.T) {
	chainstest.RunConformance(t, func(t *testing.T) (chains.Source, chainstest.Driver) {
		n := startNet(t, solnet.Options{})
		return n.client(t, nil), &driver{n: n}
	})
}
