package evmnet_test

import (
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/evm"
	"github.com/depositd/depositd/internal/devnet/evmnet"
)

func newChain(t *testing.T) *evmnet.Chain {
	t.Helper()
	c, err := evmnet.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func mustTx(t *testing.T) func(common.Hash, error) common.Hash {
	return func(h common.Hash, err error) common.Hash {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
}

func newClient(t *testing.T, chain *evmnet.Chain, tokens ...evm.Token) *evm.Client {
	t.Helper()
	c, err := evm.New(evm.Config{Chain: "ethereum", Tokens: tokens, Endpoints: []string{chain.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestClientOverSimulatedChain(t *testing.T) {
	ctx := context.Background()
	chain := newChain(t)
	tx := mustTx(t)
	acc := chain.Accounts()
	usdt, err := chain.DeployToken("USDT", 6)
	if err != nil {
		t.Fatal(err)
	}
	fake, err := chain.DeployToken("USDT", 6)
	if err != nil {
		t.Fatal(err)
	}
	usd1, err := chain.DeployToken("USD1", 18)
	if err != nil {
		t.Fatal(err)
	}
	tx(chain.Mint(usdt, acc[1].Address, big.NewInt(1_000_000_000)))
	tx(chain.Mint(fake, acc[1].Address, big.NewInt(1_000_000_000)))
	tx(chain.Mint(usd1, acc[1].Address, new(big.Int).Mul(big.NewInt(7), big.NewInt(1e18))))
	if _, err := chain.Commit(); err != nil {
		t.Fatal(err)
	}
	real := tx(chain.Transfer(usdt, acc[1], acc[2].Address, big.NewInt(500_000_000)))
	tx(chain.Transfer(fake, acc[1], acc[2].Address, big.NewInt(900_000_000)))
	poison := tx(chain.TransferFrom(usdt, acc[3], acc[1].Address, acc[2].Address, big.NewInt(0)))
	tx(chain.Transfer(usd1, acc[1], acc[2].Address, big.NewInt(1)))
	if _, err := chain.Commit(); err != nil {
		t.Fatal(err)
	}
	head, _, err := chain.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tokens := []evm.Token{
		{Symbol: "USDT", Contract: usdt, Decimals: 6},
		{Symbol: "USD1", Contract: usd1, Decimals: 18},
	}
	c := newClient(t, chain, tokens...)
	if err := c.CheckTokens(ctx); err != nil {
		t.Fatalf("CheckTokens: %v", err)
	}
	got, err := c.Transfers(ctx, 1, head)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		token, to, amount string
		zeroFrom          bool
	}
	var rows []row
	for _, tr := range got {
		if tr.Contract == fake.Hex() {
			t.Errorf("transfer of the fake USDT matched: %+v", tr)
		}
		if tr.TxID == poison.Hex() {
			t.Errorf("zero-value transferFrom returned: %+v", tr)
		}
		rows = append(rows, row{tr.Token, tr.To, tr.Amount.String(), tr.From == (common.Address{}).Hex()})
	}
	want := []row{
		{"USDT", acc[1].Address.Hex(), "1000000000", true},
		{"USD1", acc[1].Address.Hex(), "7000000000000000000", true},
		{"USDT", acc[2].Address.Hex(), "500000000", false},
		{"USD1", acc[2].Address.Hex(), "1", false},
	}
	if len(rows) != len(want) {
		t.Fatalf("transfers %+v, want %+v", rows, want)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("transfer %d: %+v, want %+v", i, rows[i], want[i])
		}
	}
	if got[2].TxID != real.Hex() {
		t.Errorf("tx %s, want %s", got[2].TxID, real.Hex())
	}
	if d := c.Dropped(); d[evm.DropZeroAmount] != 1 {
		t.Errorf("dropped %v, want one zero_amount", d)
	}

	t.Run("check tokens mismatch", func(t *testing.T) {
		bad := newClient(t, chain, evm.Token{Symbol: "USDT", Contract: usdt, Decimals: 18})
		err := bad.CheckTokens(ctx)
		if err == nil || !strings.Contains(err.Error(), "chains[ethereum].tokens[USDT].decimals: chain says 6, config 18") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestHeadsAndHeaders(t *testing.T) {
	ctx := context.Background()
	chain := newChain(t)
	if err := chain.CommitBlocks(40); err != nil {
		t.Fatal(err)
	}
	if err := chain.AdjustTime(time.Hour); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, chain, evm.Token{Symbol: "USDT", Contract: common.HexToAddress("0x01"), Decimals: 6})
	heads, err := c.Heads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Simulated beacon: safe is the head, finalized the last multiple of 32.
	if heads != (chains.Heads{Latest: 41, Safe: 41, Final: 32}) {
		t.Errorf("heads %+v", heads)
	}
	hs, err := c.Headers(ctx, 1, 41)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hs {
		want, err := chain.Client().HeaderByNumber(ctx, new(big.Int).SetUint64(h.Number))
		if err != nil {
			t.Fatal(err)
		}
		if h.Number != uint64(i+1) || h.Hash != want.Hash().Hex() || h.Parent != want.ParentHash.Hex() || h.Time != int64(want.Time) {
			t.Errorf("header %d: %+v, want hash %s", i+1, h, want.Hash().Hex())
		}
	}
	if gap := hs[40].Time - hs[39].Time; gap != 3600 {
		t.Errorf("AdjustTime: block 41 is %ds after 40, want 3600", gap)
	}
}

func TestForkReorg(t *testing.T) {
	ctx := context.Background()
	chain := newChain(t)
	tx := mustTx(t)
	acc := chain.Accounts()
	usdt, err := chain.DeployToken("USDT", 6)
	if err != nil {
		t.Fatal(err)
	}
	tx(chain.Mint(usdt, acc[1].Address, big.NewInt(42)))
	if _, err := chain.Commit(); err != nil {
		t.Fatal(err)
	}
	n, oldHash, err := chain.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, chain, evm.Token{Symbol: "USDT", Contract: usdt, Decimals: 6})
	before, err := c.Transfers(ctx, n, n)
	if err != nil || len(before) != 1 || before[0].BlockHash != oldHash.Hex() {
		t.Fatalf("before fork: %+v, %v", before, err)
	}
	parent, err := chain.Client().HeaderByNumber(ctx, new(big.Int).SetUint64(n-1))
	if err != nil {
		t.Fatal(err)
	}
	if err := chain.Fork(parent.Hash()); err != nil {
		t.Fatal(err)
	}
	if err := chain.CommitBlocks(2); err != nil {
		t.Fatal(err)
	}
	hs, err := c.Headers(ctx, n, n)
	if err != nil {
		t.Fatal(err)
	}
	if hs[0].Hash == oldHash.Hex() || hs[0].Parent != parent.Hash().Hex() {
		t.Fatalf("block %d after reorg: %+v, old hash %s", n, hs[0], oldHash.Hex())
	}
	after, err := c.Transfers(ctx, n, n+1)
	if err != nil {
		t.Fatal(err)
	}
	// The dropped mint went back to the pool and was mined again.
	if len(after) != 1 || after[0].TxID != before[0].TxID || after[0].BlockHash == oldHash.Hex() {
		t.Fatalf("after reorg: %+v", after)
	}
}
