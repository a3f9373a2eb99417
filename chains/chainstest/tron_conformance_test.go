package chainstest_test

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/address"
	"github.com/depositd/depositd/chains/chainstest"
	"github.com/depositd/depositd/chains/tron"
	"github.com/depositd/depositd/internal/devnet/tronnet"
)

// tronDriver drives the local Tron node for the suite.
type tronDriver struct {
	node  *tronnet.Node
	token string
	payer string
}

func (d *tronDriver) Token() string { return "USDT" }

func (d *tronDriver) Recipient(i int) string {
	b := make([]byte, 20)
	b[18], b[19] = 0x10, byte(i)
	return address.TronFromEVMBytes(b)
}

func (d *tronDriver) Transfer(_ context.Context, to string, raw *big.Int) (string, error) {
	return d.node.Transfer(d.token, d.payer, to, raw)
}

func (d *tronDriver) Mine(context.Context) error {
	d.node.Mine()
	return nil
}

func (d *tronDriver) Fork(_ context.Context, depth int) error { return d.node.Fork(depth) }

func TestConformanceTron(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local Tron node per subtest")
	}
	chainstest.RunConformance(t, func(t *testing.T) (chains.Source, chainstest.Driver) {
		node, err := tronnet.Start(context.Background(), tronnet.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { node.Close() })
		token, err := node.DeployTRC20("USDT", 6)
		if err != nil {
			t.Fatal(err)
		}
		d := &tronDriver{node: node, token: token}
		d.payer = d.Recipient(200)
		if _, err := node.Mint(token, d.payer, big.NewInt(1e12)); err != nil {
			t.Fatal(err)
		}
		node.Mine()
		src, err := tron.New(context.Background(), tron.Config{
			FullNodes: node.Addrs(), SolidityNodes: node.SolidityAddrs(),
			Tokens:      []tron.Token{{Symbol: "USDT", Contract: token, Decimals: 6}},
			CallTimeout: 2 * time.Second, Backoff: time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { src.Close() })
		return src, d
	})
}
