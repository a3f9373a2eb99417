package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/gagliardetto/solana-go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/depositd/depositd/addressbook"
	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/evm"
	sol "github.com/depositd/depositd/chains/solana"
	"github.com/depositd/depositd/chains/tron"
	"github.com/depositd/depositd/config"
	"github.com/depositd/depositd/watchers"
)

// chainSource is a configured chain adapter with what the daemon needs of it
// beyond watchers.Source: the start-up token check and endpoint health.
type chainSource struct {
	src         chains.Source
	checkTokens func(context.Context) error
	// permanent tells a token mismatch (refuse at once) from an RPC failure.
	permanent func(error) bool
	health    func() any
	// run, when set, is the adapter's own loop (endpoint probes).
	run func(context.Context) error
}

// newSource builds the adapter of one configured chain.
func newSource(ctx context.Context, c *config.Chain, onDrop func(chain, token, reason string), idx *addressbook.Index, rpc *rpcMetrics, log *slog.Logger) (chainSource, error) {
	switch c.Kind {
	case config.KindEVM:
		cfg := evm.Config{Chain: c.Name, MaxRange: c.MaxRange, HTTPClient: rpc.httpClient(c.Name)}
		for _, e := range c.Endpoints {
			cfg.Endpoints = append(cfg.Endpoints, e.URL.Reveal())
		}
		for _, t := range c.Tokens {
			cfg.Tokens = append(cfg.Tokens, evm.Token{Symbol: t.Symbol, Contract: common.HexToAddress(t.Address), Decimals: t.Decimals})
		}
		name := c.Name
		cfg.OnDrop = func(token string, reason evm.DropReason) { onDrop(name, token, string(reason)) }
		cl, err := evm.New(cfg)
		if err != nil {
			return chainSource{}, fmt.Errorf("chains[%s]: %w", c.Name, err)
		}
		return chainSource{
			src: cl, checkTokens: cl.CheckTokens, health: func() any { return cl.Endpoints() }, run: cl.Run,
			permanent: func(err error) bool { var ce *evm.ConfigError; return errors.As(err, &ce) },
		}, nil
	case config.KindTron:
		return newTron(ctx, c, rpc)
	case config.KindSolana:
		return newSolana(c, onDrop, idx, rpc, log)
	}
	return chainSource{}, fmt.Errorf("chains[%s]: kind %q is not supported by this build", c.Name, c.Kind)
}

// watcherConfig maps a chain's configuration onto the watcher's.
func watcherConfig(c *config.Chain) watchers.Config {
	wc := watchers.Config{
		Family:       c.Family(),
		Required:     max(c.Finality.Confirmations, 1),
		StartBlock:   c.StartBlock,
		PollInterval: c.PollInterval,
		// EVM tip and final reads are the same eth_getLogs; Tron and
		// Solana read final blocks from their finality-level service.
		ReuseTipReads: c.Family() == chains.FamilyEVM,
	}
	if c.BatchSize > 0 {
		wc.MaxRange = uint64(c.BatchSize)
	}
	switch c.Finality.Policy {
	case config.PolicyConfirmations:
		wc.Policy = watchers.PolicyConfirmations
	default:
		// finalized (evm), solidified (tron) and commitment (solana) all
		// mean "the adapter's Heads.Final".
		wc.Policy = watchers.PolicyFinalized
		if c.Finality.Policy == config.PolicyFinalized {
			wc.MinDepth = c.Finality.Confirmations
		}
	}
	for _, t := range c.Tokens {
		wc.Tokens = append(wc.Tokens, watchers.Token{Symbol: t.Symbol, MinRaw: t.MinUnits()})
	}
	return wc
}

// checkTokens runs the adapter's decimals/symbol check, retrying transport
// failures for up to a minute; a mismatch (or a chain still unreachable)
// refuses the start.
func checkTokens(ctx context.Context, name string, cs chainSource) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var err error
	wait := 250 * time.Millisecond
	for {
		if err = cs.checkTokens(ctx); err == nil {
			return nil
		}
		if cs.permanent(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("chains[%s]: token check: %w", name, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// newTron connects to the Tron full (and solidity) nodes. The tron client
// checks decimals() and symbol() while connecting, so its start-up check is
// already done when it is returned.
func newTron(ctx context.Context, c *config.Chain, rpc *rpcMetrics) (chainSource, error) {
	cfg := tron.Config{Name: c.Name, DialOptions: []grpc.DialOption{rpc.grpcInterceptor(c.Name)}}
	var tls bool
	hostPorts := func(eps []config.Endpoint) ([]string, error) {
		var out []string
		for _, e := range eps {
			u, err := url.Parse(e.URL.Reveal())
			if err != nil || u.Host == "" {
				return nil, fmt.Errorf("chains[%s]: endpoint: want grpc://host:port or grpcs://host:port", c.Name)
			}
			tls = tls || u.Scheme == "grpcs"
			out = append(out, u.Host)
			if k := e.APIKey.Reveal(); k != "" {
				cfg.APIKey = k
			}
		}
		return out, nil
	}
	var err error
	if cfg.FullNodes, err = hostPorts(c.Endpoints); err != nil {
		return chainSource{}, err
	}
	if cfg.SolidityNodes, err = hostPorts(c.SolidityEndpoints); err != nil {
		return chainSource{}, err
	}
	if tls {
		cfg.DialOptions = append(cfg.DialOptions, grpc.WithTransportCredentials(credentials.NewTLS(nil)))
	}
	for _, t := range c.Tokens {
		cfg.Tokens = append(cfg.Tokens, tron.Token{Symbol: t.Symbol, Contract: t.Address, Decimals: t.Decimals})
	}
	// tron.New checks decimals() and symbol() while connecting: retry it
	// like the other chains' token check, failing at once on a mismatch.
	var cl *tron.Client
	check := func(ctx context.Context) error {
		var err error
		cl, err = tron.New(ctx, cfg)
		return err
	}
	cs := chainSource{
		checkTokens: check,
		permanent:   func(err error) bool { var ce *tron.ConfigError; return errors.As(err, &ce) },
	}
	if err := checkTokens(ctx, c.Name, cs); err != nil {
		return chainSource{}, err
	}
	cs.src, cs.health = cl, func() any { return cl.Endpoints() }
	cs.checkTokens = func(context.Context) error { return nil }
	return cs, nil
}

// newSolana builds the Solana adapter. A positive balance change owned by
// one of our token accounts (a nested ATA) is dropped by the adapter, logged
// and counted, for an operator to recover with RecoverNested.
func newSolana(c *config.Chain, onDrop func(chain, token, reason string), idx *addressbook.Index, rpc *rpcMetrics, log *slog.Logger) (chainSource, error) {
	cfg := sol.Config{Name: c.Name, Logger: log, HTTPClient: rpc.httpClient(c.Name)}
	for _, e := range c.Endpoints {
		cfg.Endpoints = append(cfg.Endpoints, e.URL.Reveal())
	}
	for _, t := range c.Tokens {
		mint, err := solana.PublicKeyFromBase58(t.Address)
		if err != nil {
			return chainSource{}, fmt.Errorf("chains[%s].tokens[%s].address: %w", c.Name, t.Symbol, err)
		}
		prog := solana.TokenProgramID
		if t.Program == config.ProgramToken2022 {
			prog = solana.Token2022ProgramID
		}
		cfg.Mints = append(cfg.Mints, sol.Mint{Symbol: t.Symbol, Mint: mint, Program: prog, Decimals: t.Decimals})
	}
	cfg.NestedOwner = func(owner chains.AddrKey) bool { _, _, ok := idx.LookupHolder(owner); return ok }
	name := c.Name
	cfg.OnDrop = func(d sol.Drop) { onDrop(name, d.Token, string(d.Reason)) }
	cl, err := sol.New(cfg)
	if err != nil {
		return chainSource{}, fmt.Errorf("chains[%s]: %w", c.Name, err)
	}
	return chainSource{
		src: cl, checkTokens: cl.CheckTokens, health: func() any { return cl.Endpoints() },
		permanent: func(err error) bool { var ce *sol.ConfigError; return errors.As(err, &ce) },
	}, nil
}
