package chainstest_test

import (
	"context"
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/chainstest"
	"github.com/depositd/depositd/chains/evm"
	"github.com/depositd/depositd/internal/devnet/evmnet"
)

// evmDriver drives the simulated EVM chain for the suite; running the
// suite here against the real adapter proves the suite itself sound.
type evmDriver struct {
	chain *evmnet.Chain
	token common.Address
}

func (d *evmDriver) Token() string { return "USDT" }

func (d *evmDriver) Recipient(i int) string {
	return common.BigToAddress(big.NewInt(int64(0x1000 + i))).Hex()
}

func (d *evmDriver) Transfer(_ context.Context, to string, raw *big.Int) (string, error) {
	h, err := d.chain.Transfer(d.token, d.chain.Accounts()[1], common.HexToAddress(to), raw)
	return h.Hex(), err
}

func (d *evmDriver) Mine(context.Context) error {
	_, err := d.chain.Commit()
	return err
}

func (d *evmDriver) Fork(ctx context.Context, depth int) error {
	head, _, err := d.chain.Head(ctx)
	if err != nil {
		return err
	}
	parent, err := d.chain.Client().HeaderByNumber(ctx, new(big.Int).SetUint64(head-uint64(depth)))
	if err != nil {
		return err
	}
	if err := d.chain.Fork(parent.Hash()); err != nil {
		return err
	}
	// A fresh transaction makes the branch differ even where it re-mines
	// the same transactions.
	if _, err := d.Transfer(ctx, d.Recipient(999), big.NewInt(1)); err != nil {
		return err
	}
	return d.chain.CommitBlocks(depth + 1)
}

func TestConformanceEVM(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a simulated EVM node per subtest")
	}
	chainstest.RunConformance(t, func(t *testing.T) (chains.Source, chainstest.Driver) {
		chain, err := evmnet.New(evmnet.WithAccounts(2))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { chain.Close() })
		token, err := chain.DeployToken("USDT", 6)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := chain.Mint(token, chain.Accounts()[1].Address, big.NewInt(1e12)); err != nil {
			t.Fatal(err)
		}
		if _, err := chain.Commit(); err != nil {
			t.Fatal(err)
		}
		src, err := evm.New(evm.Config{
			Chain: "ethereum", Endpoints: []string{chain.URL()},
			Tokens: []evm.Token{{Symbol: "USDT", Contract: token, Decimals: 6}},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(src.Close)
		return src, &evmDriver{chain: chain, token: token}
	})
}
