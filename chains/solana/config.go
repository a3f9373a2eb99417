// Package solana is the Solana (SPL Token and Token-2022) chain adapter: a
// chains.Source over JSON-RPC through solana-go's rpc client.
//
// Detection follows Solana's exchange guide: getBlocks lists the produced
// slots of a range (finalized commitment at or below the finalized slot,
// confirmed above it), and one getBlock per produced slot in
// transactionDetails "accounts" mode yields every transaction's signature,
// account keys, error and pre/post token balances. Deposits are positive
// token balance deltas per token account of the configured mints in
// successful transactions, with the mint's token program and an owner that
// did not change (see matcher.deltas). Transfer.To is the owner wallet and
// Transfer.Holder the token account: the watcher credits only holders that
// are the wallet's derived associated token accounts.
package solana

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/depositd/depositd/chains"
	"github.com/gagliardetto/solana-go"
)

// Mint is one configured token mint. Only balances of Mint under Program
// are matched: symbols are labels, never identifiers.
type Mint struct {
	Symbol   string           // e.g. "USDC"
	Mint     solana.PublicKey // the mint account
	Program  solana.PublicKey // solana.TokenProgramID or solana.Token2022ProgramID
	Decimals int32            // must equal the mint's decimals on chain
}

// Config configures a Client. Zero values take the documented defaults.
type Config struct {
	// Name is the chain name in transfers and ids (default "solana").
	Name string
	// Endpoints are JSON-RPC HTTP URLs in order of preference (at least one).
	Endpoints []string
	// Mints are the watched token mints (at least one).
	Mints []Mint
	// RequestTimeout bounds one request (default 30s: blocks are multi-MB).
	RequestTimeout time.Duration
	// Attempts is the number of tries of one request across endpoints
	// (default 2×endpoints+1).
	Attempts int
	// MinBackoff and MaxBackoff bound the wait after each full round of
	// failed endpoints, doubling (defaults 100ms and 5s).
	MinBackoff, MaxBackoff time.Duration
	// Concurrency is the number of getBlock calls in flight (default 8).
	Concurrency int
	// HTTPClient carries the requests (default: a pooled client without
	// timeout; RequestTimeout bounds each call).
	HTTPClient *http.Client
	// Now is the clock for latencies (default time.Now); After the timer
	// for backoff (default time.After).
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
	// NestedOwner, set by the daemon, reports whether a key is one of our
	// token accounts. A positive balance change owned by one (a nested
	// ATA) is not reported as a transfer but dropped as DropNested, logged
	// and passed to OnDrop, so operators can run RecoverNested.
	NestedOwner func(owner chains.AddrKey) bool
	// OnDrop, if set, is told of every positive balance change of a
	// configured mint that Transfers does not report, with the reason.
	OnDrop func(d Drop)
	// Logger receives warnings (nested ATAs, skipped slots); default discards.
	Logger *slog.Logger
}

// Drop is one positive balance change of a configured mint that was not
// reported as a transfer.
type Drop struct {
	Reason   DropReason
	Token    string // configured symbol
	Slot     uint64
	TxID     string
	Index    uint16 // accountIndex
	Holder   string // the token account
	Owner    string // its owner after the transaction ("" when unknown)
	Amount   uint64 // raw base units of the increase
	Decimals int32
}

const (
	defaultRequestTimeout = 30 * time.Second
	defaultMinBackoff     = 100 * time.Millisecond
	defaultMaxBackoff     = 5 * time.Second
	defaultConcurrency    = 8
)

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = "solana"
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = defaultRequestTimeout
	}
	if c.Attempts == 0 {
		c.Attempts = 2*len(c.Endpoints) + 1
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = defaultMinBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = defaultMaxBackoff
	}
	if c.Concurrency == 0 {
		c.Concurrency = defaultConcurrency
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.After == nil {
		c.After = time.After
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first problem of c, naming its path.
func (c Config) Validate() error {
	if len(c.Endpoints) == 0 {
		return errors.New("endpoints: at least one endpoint required")
	}
	for i, u := range c.Endpoints {
		if u == "" {
			return fmt.Errorf("endpoints[%d]: empty URL", i)
		}
	}
	if len(c.Mints) == 0 {
		return errors.New("tokens: at least one mint required")
	}
	seen := map[solana.PublicKey]bool{}
	for _, m := range c.Mints {
		p := fmt.Sprintf("tokens[%s]", m.Symbol)
		switch {
		case m.Symbol == "":
			return fmt.Errorf("tokens[%s]: empty symbol", m.Mint)
		case m.Mint.IsZero():
			return fmt.Errorf("%s.mint: empty", p)
		case seen[m.Mint]:
			return fmt.Errorf("%s.mint: %s configured twice", p, m.Mint)
		case !m.Program.Equals(solana.TokenProgramID) && !m.Program.Equals(solana.Token2022ProgramID):
			return fmt.Errorf("%s.program: %s is neither Token nor Token-2022", p, m.Program)
		case m.Decimals < 0 || m.Decimals > 255:
			return fmt.Errorf("%s.decimals: %d, want 0..255", p, m.Decimals)
		}
		seen[m.Mint] = true
	}
	if c.RequestTimeout < 0 || c.MinBackoff < 0 || c.MaxBackoff < 0 || c.Attempts < 0 || c.Concurrency < 0 {
		return errors.New("timeouts, attempts and concurrency must not be negative")
	}
	return nil
}
