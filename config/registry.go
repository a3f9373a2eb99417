package config

import (
	"strings"
	"time"
)

// chainDefaults are the defaults of one chain before its YAML block is
// applied. Well-known mainnet names get the finality bounds of chains.md §4;
// other names get conservative defaults for their kind.
func chainDefaults(name string, k Kind) Chain {
	c := Chain{Name: name, Kind: k, BatchSize: 20}
	switch k {
	case KindEVM:
		c.Finality = Finality{Policy: PolicyFinalized, Confirmations: 12, MaxLag: 96}
		c.PollInterval = 5 * time.Second
		c.MaxRange = 2000
	case KindTron:
		// ≈19 SRs must build on a block before it solidifies; 2 min of 3 s
		// blocks is the stall bound.
		c.Finality = Finality{Policy: PolicySolidified, Confirmations: 19, MaxLag: 40}
		c.PollInterval = 3 * time.Second
	case KindSolana:
		c.Finality = Finality{Policy: PolicyCommitment, Confirmations: 32, MaxLag: 150}
		c.PollInterval = time.Second
	}
	switch {
	case name == "ethereum" && k == KindEVM:
		c.ChainID = 1
		c.Finality.Confirmations = 65
		c.PollInterval = 6 * time.Second
	case name == "bsc" && k == KindEVM:
		// Credit at finalized and at least 5 deep; alert past 240 blocks
		// (fast finality failed).
		c.ChainID = 56
		c.Finality = Finality{Policy: PolicyFinalized, Confirmations: 5, MaxLag: 240}
		c.PollInterval = 2 * time.Second
	}
	return c
}

// knownToken is a pinned mainnet token of chains.md §5.
type knownToken struct {
	kind     Kind
	chainID  uint64 // EVM only
	address  string // canonical form
	symbol   string
	decimals int32
	program  Program // Solana only
}

var knownTokens = []knownToken{
	{kind: KindEVM, chainID: 1, address: "0xdAC17F958D2ee523a2206206994597C13D831ec7", symbol: "USDT", decimals: 6},
	{kind: KindEVM, chainID: 1, address: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", symbol: "USDC", decimals: 6},
	{kind: KindEVM, chainID: 1, address: "0x8d0D000Ee44948FC98c9B98A4FA4921476f08B0d", symbol: "USD1", decimals: 18},
	{kind: KindEVM, chainID: 56, address: "0x55d398326f99059fF775485246999027B3197955", symbol: "USDT", decimals: 18},
	{kind: KindEVM, chainID: 56, address: "0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d", symbol: "USDC", decimals: 18},
	{kind: KindEVM, chainID: 56, address: "0x8d0D000Ee44948FC98c9B98A4FA4921476f08B0d", symbol: "USD1", decimals: 18},
	{kind: KindTron, address: "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", symbol: "USDT", decimals: 6},
	{kind: KindTron, address: "TEkxiTehnzSmSe2XqrBj4w32RUN966rdz8", symbol: "USDC", decimals: 6},
	{kind: KindSolana, address: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", symbol: "USDC", decimals: 6, program: ProgramToken},
	{kind: KindSolana, address: "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB", symbol: "USDT", decimals: 6, program: ProgramToken},
}

// lookupKnown returns the pinned token at a canonical address, if any. EVM
// tokens are pinned per chain id: the same address on another chain is
// another contract.
func lookupKnown(k Kind, chainID uint64, address string) (knownToken, bool) {
	for _, t := range knownTokens {
		if t.kind == k && t.address == address && (k != KindEVM || t.chainID == chainID) {
			return t, true
		}
	}
	return knownToken{}, false
}

// knownSymbolElsewhere reports the pinned address of a well-known symbol on
// this chain when the configured address differs: a look-alike candidate.
func knownSymbolElsewhere(k Kind, chainID uint64, symbol, address string) (string, bool) {
	for _, t := range knownTokens {
		if t.kind == k && (k != KindEVM || t.chainID == chainID) &&
			strings.EqualFold(t.symbol, symbol) && t.address != address {
			return t.address, true
		}
	}
	return "", false
}
