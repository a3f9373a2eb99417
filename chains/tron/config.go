// Package tron is the Tron (TRC-20) chain adapter: a chains.Source over
// java-tron's gRPC API through gotron-sdk's GrpcClient.
//
// Detection reads one GetTransactionInfoByBlockNum per block and decodes the
// Transfer logs of the configured contracts, crediting only transactions
// whose TransactionInfo.result is SUCESS and whose receipt.result is SUCCESS.
// Block ids and txids come 100 blocks at a time from GetBlockByLimitNext2,
// and every receipt list must name exactly its block's transactions (an
// empty list from a node lacking the block is never read as "no transfers").
// The tip tier (Latest, blocks above the solidified height) is served by the
// full node; the final tier (Final, blocks at or below it) by the
// WalletSolidity service on its own connection, or head−SolidLag when only a
// full node is configured. Every call carries the TRON-PRO-API-KEY header and
// fails over across the configured endpoints.
package tron

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
)

// Token is one configured TRC-20 contract.
type Token struct {
	Symbol   string // configured symbol, e.g. "USDT"; must equal symbol() on chain
	Contract string // base58 T-address (or 41-prefixed hex)
	Decimals int32  // must equal decimals() on chain
}

// Config configures a Client. Zero values take the documented defaults.
type Config struct {
	Name          string   // chain name in transfers and ids; default "tron"
	FullNodes     []string // gRPC host:port of full nodes (Wallet service), in preference order
	SolidityNodes []string // gRPC host:port of WalletSolidity services; empty: Final = head − SolidLag
	APIKey        string   // sent as TRON-PRO-API-KEY on every call when set
	Tokens        []Token

	SolidLag    uint64        // confirmations standing in for solidity without a solidity node; default 19
	CallTimeout time.Duration // per attempt; default 10s
	Attempts    int           // attempts per call across endpoints; default 3 per endpoint
	Backoff     time.Duration // wait after a full round of failed endpoints, doubling; default 200ms
	MaxBackoff  time.Duration // default 5s
	Concurrency int           // blocks fetched at once by Headers and Transfers; default 4; 1 runs in order

	Now         func() time.Time                     // clock for latencies; default time.Now
	After       func(time.Duration) <-chan time.Time // timer for backoff; default time.After
	DialOptions []grpc.DialOption                    // default: plaintext
}

// defaultSolidLag is 19 blocks: a block is solidified once 70% (19 of 27)
// of the super representatives have built on it.
const defaultSolidLag = 19

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = "tron"
	}
	if c.SolidLag == 0 {
		c.SolidLag = defaultSolidLag
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = 10 * time.Second
	}
	if c.Attempts == 0 {
		c.Attempts = 3 * max(len(c.FullNodes), len(c.SolidityNodes), 1)
	}
	if c.Backoff == 0 {
		c.Backoff = 200 * time.Millisecond
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.Concurrency == 0 {
		c.Concurrency = 4
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.After == nil {
		c.After = time.After
	}
	return c
}

// Validate reports the first problem of c, naming its path.
func (c Config) Validate() error {
	if len(c.FullNodes) == 0 {
		return errors.New("full_nodes: at least one endpoint required")
	}
	for i, u := range append(append([]string(nil), c.FullNodes...), c.SolidityNodes...) {
		if u == "" {
			return fmt.Errorf("endpoint %d: empty address", i)
		}
	}
	if len(c.Tokens) == 0 {
		return errors.New("tokens: at least one token required")
	}
	for _, t := range c.Tokens {
		if t.Symbol == "" {
			return fmt.Errorf("tokens[%s]: empty symbol", t.Contract)
		}
		if t.Decimals < 0 || t.Decimals > 36 {
			return fmt.Errorf("tokens[%s].decimals: %d, want 0..36", t.Symbol, t.Decimals)
		}
	}
	if c.CallTimeout < 0 || c.Backoff < 0 || c.MaxBackoff < 0 || c.Attempts < 0 || c.Concurrency < 0 {
		return errors.New("timeouts, attempts and concurrency must not be negative")
	}
	return nil
}
