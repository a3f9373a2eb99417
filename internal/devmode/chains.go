package devmode

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
	"github.com/gagliardetto/solana-go"
	"github.com/shopspring/decimal"
	"golang.org/x/sync/errgroup"

	"github.com/depositd/depositd/chains/address"
	"github.com/depositd/depositd/internal/devnet/evmnet"
	"github.com/depositd/depositd/internal/devnet/solnet"
	"github.com/depositd/depositd/internal/devnet/tronnet"
)

// localEVM is one local EVM chain with its tokens.
type localEVM struct {
	name          string
	chain         *evmnet.Chain
	blockTime     time.Duration
	confirmations uint64
	tokens        []devToken
	fake          common.Address // a same-symbol look-alike that must never be credited
}

// localTron is the local Tron node with its USDT.
type localTron struct {
	node   *tronnet.Node
	usdt   string
	sender string
	failed core.Transaction_ResultContractResult
}

// localSolana is the local Solana RPC node with its USDC and USDT mints.
type localSolana struct {
	node   *solnet.Node
	mints  []devToken
	keys   []solana.PublicKey
	sender solana.PublicKey
}

// localNets are every local chain of the dev environment.
type localNets struct {
	evm    []*localEVM
	tron   *localTron
	solana *localSolana
}

func startChains(ctx context.Context, log *slog.Logger) (*localNets, error) {
	n := &localNets{}
	specs := []struct {
		name      string
		blockTime time.Duration
		confs     uint64
		decimals  uint8
	}{
		{"ethereum", time.Second, 12, 6},
		{"bsc", 500 * time.Millisecond, 5, 18},
	}
	for _, s := range specs {
		c, err := evmnet.New()
		if err != nil {
			n.close()
			return nil, fmt.Errorf("dev chain %s: %w", s.name, err)
		}
		le := &localEVM{name: s.name, chain: c, blockTime: s.blockTime, confirmations: s.confs}
		n.evm = append(n.evm, le)
		sender := c.Accounts()[0].Address
		for _, sym := range []string{"USDT", "USDC"} {
			addr, err := c.DeployToken(sym, s.decimals)
			if err != nil {
				n.close()
				return nil, fmt.Errorf("dev chain %s: deploy %s: %w", s.name, sym, err)
			}
			if _, err := c.Mint(addr, sender, pow10(18+int(s.decimals))); err != nil {
				n.close()
				return nil, err
			}
			le.tokens = append(le.tokens, devToken{Symbol: sym, Address: addr.Hex(), Decimals: int(s.decimals)})
		}
		if le.fake, err = c.DeployToken("USDT", s.decimals); err != nil {
			n.close()
			return nil, err
		}
		if _, err := c.Mint(le.fake, sender, pow10(18+int(s.decimals))); err != nil {
			n.close()
			return nil, err
		}
		// Mine past the first finalized checkpoint so the watchers start
		// from a non-genesis final block.
		if err := c.CommitBlocks(33); err != nil {
			n.close()
			return nil, err
		}
		log.Info("dev: local chain up", "chain", s.name, "rpc", c.URL(), "block_time", s.blockTime)
	}
	if err := n.startTron(ctx, log); err != nil {
		n.close()
		return nil, err
	}
	if err := n.startSolana(ctx, log); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

// solanaSlotTime is the local Solana node's slot interval (mainnet: 400 ms).
const solanaSlotTime = 400 * time.Millisecond

func (n *localNets) startSolana(ctx context.Context, log *slog.Logger) error {
	node, err := solnet.Start(ctx, solnet.Options{FinalLag: 32, SlotTime: solanaSlotTime})
	if err != nil {
		return fmt.Errorf("dev chain solana: %w", err)
	}
	s := &localSolana{node: node, sender: node.NewWallet()}
	n.solana = s
	for _, sym := range []string{"USDC", "USDT"} {
		mint, err := node.CreateMint(solana.TokenProgramID, 6)
		if err != nil {
			return err
		}
		if _, err := node.MintTo(mint, s.sender, 1_000_000_000_000_000); err != nil {
			return err
		}
		s.mints = append(s.mints, devToken{Symbol: sym, Address: mint.String(), Decimals: 6, Program: "token"})
		s.keys = append(s.keys, mint)
	}
	for range 40 {
		node.Mine()
	}
	log.Info("dev: local chain up", "chain", "solana", "rpc", node.URL(), "slot_time", solanaSlotTime)
	return nil
}

// send moves USDC or USDT to a demo wallet; now and then a failed
// transaction or a transfer into a nested token account, both of which
// must never be credited.
func (s *localSolana) send(i int, acct demoAccount, rng *rand.Rand, log *slog.Logger) {
	k := rng.IntN(len(s.mints))
	amount := decimal.New(int64(20+rng.IntN(400)), 0).Add(decimal.New(int64(rng.IntN(100)), -2))
	raw := amount.Shift(6).BigInt().Uint64()
	to := solana.MustPublicKeyFromBase58(acct.solana)
	var err error
	switch {
	case i%11 == 5:
		_, err = s.node.FailedTransfer(s.keys[k], s.sender, to, raw)
		log.Info("dev: sent a failed SPL transfer (must be ignored)", "chain", "solana", "account", acct.id)
	case i%19 == 7:
		_, _, err = s.node.NestedTransfer(s.keys[k], s.sender, to, raw)
		log.Info("dev: sent a transfer into a nested token account (must be ignored, alert logged)", "chain", "solana", "account", acct.id)
	default:
		_, err = s.node.Transfer(s.keys[k], s.sender, to, raw)
		log.Info("dev: deposit sent", "chain", "solana", "token", s.mints[k].Symbol, "amount", amount.String(), "account", acct.id)
	}
	if err != nil {
		log.Warn("dev: generator", "chain", "solana", "err", err)
	}
}

// tronBlockTime is the local Tron node's block interval (mainnet: 3 s).
const tronBlockTime = time.Second

func (n *localNets) startTron(ctx context.Context, log *slog.Logger) error {
	node, err := tronnet.Start(ctx, tronnet.Options{SolidLag: 5, BlockTime: tronBlockTime, Genesis: time.Now()})
	if err != nil {
		return fmt.Errorf("dev chain tron: %w", err)
	}
	t := &localTron{node: node, sender: address.TronFromEVMBytes(crypto.Keccak256([]byte("depositd-dev:tron-sender"))[12:])}
	n.tron = t
	if t.usdt, err = node.DeployTRC20("USDT", 6); err != nil {
		return err
	}
	if _, err := node.Mint(t.usdt, t.sender, pow10(24)); err != nil {
		return err
	}
	for range 10 {
		node.Mine()
	}
	log.Info("dev: local chain up", "chain", "tron", "grpc", node.Addr(), "solidity", node.SolidityAddr())
	return nil
}

func (n *localNets) configs() []devChain {
	var out []devChain
	for _, e := range n.evm {
		out = append(out, devChain{
			Name: e.name, Kind: "evm", ChainID: evmnet.ChainID, URL: e.chain.URL(),
			Poll: e.blockTime.String(), Policy: "finalized", Confirmations: e.confirmations, Tokens: e.tokens,
		})
	}
	if n.tron != nil {
		out = append(out, devChain{
			Name: "tron", Kind: "tron", URL: "grpc://" + n.tron.node.Addr(), SolidityURL: "grpc://" + n.tron.node.SolidityAddr(),
			Poll: tronBlockTime.String(), Policy: "solidified", Confirmations: 5,
			Tokens: []devToken{{Symbol: "USDT", Address: n.tron.usdt, Decimals: 6}},
		})
	}
	if n.solana != nil {
		out = append(out, devChain{
			Name: "solana", Kind: "solana", URL: n.solana.node.URL(),
			Poll: solanaSlotTime.String(), Policy: "commitment", Confirmations: 32, Tokens: n.solana.mints,
		})
	}
	return out
}

// mine commits a block on every chain at its block time until ctx ends.
func (n *localNets) mine(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, e := range n.evm {
		g.Go(func() error {
			t := time.NewTicker(e.blockTime)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-t.C:
					if _, err := e.chain.Commit(); err != nil {
						return fmt.Errorf("dev chain %s: %w", e.name, err)
					}
				}
			}
		})
	}
	if n.tron != nil {
		g.Go(func() error {
			t := time.NewTicker(tronBlockTime)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return nil
				case <-t.C:
					n.tron.node.Mine()
				}
			}
		})
	}
	if n.solana != nil {
		g.Go(func() error {
			t := time.NewTicker(solanaSlotTime)
			defer t.Stop()
			return n.solana.node.Run(ctx, t.C)
		})
	}
	return g.Wait()
}

func (n *localNets) close() {
	if n.solana != nil {
		_ = n.solana.node.Close()
	}
	for _, e := range n.evm {
		_ = e.chain.Close()
	}
	if n.tron != nil {
		_ = n.tron.node.Close()
	}
}

// generate sends a deposit to a random demo address every second, and now
// and then a transfer depositd must ignore (a look-alike token, a zero-value
// transferFrom), until ctx ends.
func (n *localNets) generate(ctx context.Context, d *demo, log *slog.Logger) error {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		acct := d.accounts[rng.IntN(len(d.accounts))]
		switch rng.IntN(len(n.evm) + 2) {
		case 0:
			if n.tron != nil {
				n.tron.send(i, acct, rng, log)
				continue
			}
		case 1:
			if n.solana != nil {
				n.solana.send(i, acct, rng, log)
				continue
			}
		}
		e := n.evm[rng.IntN(len(n.evm))]
		to := common.HexToAddress(acct.evm)
		from := e.chain.Accounts()[0]
		tok := e.tokens[rng.IntN(len(e.tokens))]
		var err error
		switch {
		case i%13 == 12:
			_, err = e.chain.Transfer(e.fake, from, to, pow10(tok.Decimals+2))
			log.Info("dev: sent a look-alike USDT transfer (must be ignored)", "chain", e.name, "to", acct.id)
		case i%17 == 16:
			_, err = e.chain.TransferFrom(common.HexToAddress(tok.Address), e.chain.Accounts()[1], from.Address, to, new(big.Int))
			log.Info("dev: sent a zero-value transferFrom (must be ignored)", "chain", e.name, "to", acct.id)
		default:
			usd := decimal.New(int64(20+rng.IntN(400)), 0).Add(decimal.New(int64(rng.IntN(100)), -2))
			raw := usd.Shift(int32(tok.Decimals)).BigInt()
			_, err = e.chain.Transfer(common.HexToAddress(tok.Address), from, to, raw)
			log.Info("dev: deposit sent", "chain", e.name, "token", tok.Symbol, "amount", usd.String(), "account", acct.id)
		}
		if err != nil {
			log.Warn("dev: generator", "chain", e.name, "err", err)
		}
	}
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// send moves USDT to a demo account's Tron address; now and then a transfer
// that fails on chain (REVERT or OUT_OF_ENERGY) but still carries its
// Transfer log, which must never be credited.
func (t *localTron) send(i int, acct demoAccount, rng *rand.Rand, log *slog.Logger) {
	amount := decimal.New(int64(20+rng.IntN(400)), 0).Add(decimal.New(int64(rng.IntN(100)), -2))
	raw := amount.Shift(6).BigInt()
	var err error
	if i%11 == 10 {
		result := core.Transaction_Result_REVERT
		if i%2 == 0 {
			result = core.Transaction_Result_OUT_OF_ENERGY
		}
		_, err = t.node.FailedTransfer(t.usdt, t.sender, acct.tron, raw, result)
		log.Info("dev: sent a failed TRC20 transfer with logs (must be ignored)", "chain", "tron", "result", result.String(), "account", acct.id)
	} else {
		_, err = t.node.Transfer(t.usdt, t.sender, acct.tron, raw)
		log.Info("dev: deposit sent", "chain", "tron", "token", "USDT", "amount", amount.String(), "account", acct.id)
	}
	if err != nil {
		log.Warn("dev: generator", "chain", "tron", "err", err)
	}
}
