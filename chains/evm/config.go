package evm

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Token is one configured token contract. Only logs emitted by Contract are
// ever matched: symbols are labels, never identifiers.
type Token struct {
	Symbol   string
	Contract common.Address
	Decimals int32
}

// Config configures a Client for one EVM chain. Zero durations and sizes take
// the defaults documented on each field.
type Config struct {
	// Chain is the configured chain name ("ethereum", "bsc").
	Chain string
	// Tokens are the watched token contracts (at least one).
	Tokens []Token
	// Endpoints are JSON-RPC HTTP URLs in order of preference (at least one).
	Endpoints []string
	// MaxRange caps the blocks of one eth_getLogs (default 2000).
	MaxRange uint64
	// InitialRange is the first eth_getLogs range size (default MaxRange).
	InitialRange uint64
	// TargetLogs is the wanted number of logs per response; the range grows
	// while responses hold fewer than half of it (default 5000).
	TargetLogs int
	// HeaderBatch is the number of blocks per eth_getBlockByNumber batch
	// (default and maximum 100).
	HeaderBatch int
	// RequestTimeout bounds one request or batch (default 20s).
	RequestTimeout time.Duration
	// MinBackoff and MaxBackoff bound the per-endpoint exponential backoff
	// after a failure (defaults 250ms and 30s).
	MinBackoff, MaxBackoff time.Duration
	// Attempts is the number of tries of one request across endpoints before
	// the error is returned (default 2×endpoints+1).
	Attempts int
	// LagBlocks is how far an endpoint's head may trail the best known head
	// before it is demoted (default 3).
	LagBlocks uint64
	// ProbeInterval is the period of Run's endpoint probes (default 15s).
	ProbeInterval time.Duration
	// HTTPClient carries the requests (default: a client without timeout;
	// RequestTimeout bounds each call).
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OnDrop, if set, is told of every log Transfers ignores, with the token
	// symbol ("" when the emitter is not configured) and the reason.
	OnDrop func(token string, reason DropReason)
}

const (
	defaultMaxRange       = 2000
	defaultTargetLogs     = 5000
	maxHeaderBatch        = 100
	defaultRequestTimeout = 20 * time.Second
	defaultMinBackoff     = 250 * time.Millisecond
	defaultMaxBackoff     = 30 * time.Second
	defaultLagBlocks      = 3
	defaultProbeInterval  = 15 * time.Second
)

func (c Config) withDefaults() Config {
	if c.MaxRange == 0 {
		c.MaxRange = defaultMaxRange
	}
	if c.InitialRange == 0 || c.InitialRange > c.MaxRange {
		c.InitialRange = c.MaxRange
	}
	if c.TargetLogs <= 0 {
		c.TargetLogs = defaultTargetLogs
	}
	if c.HeaderBatch <= 0 || c.HeaderBatch > maxHeaderBatch {
		c.HeaderBatch = maxHeaderBatch
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = defaultRequestTimeout
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = defaultMinBackoff
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(defaultMaxBackoff, c.MinBackoff)
	}
	if c.Attempts <= 0 {
		c.Attempts = 2*len(c.Endpoints) + 1
	}
	if c.LagBlocks == 0 {
		c.LagBlocks = defaultLagBlocks
	}
	if c.ProbeInterval <= 0 {
		c.ProbeInterval = defaultProbeInterval
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate reports the first problem of c, naming the config path.
func (c Config) Validate() error {
	p := fmt.Sprintf("chains[%s]", c.Chain)
	if c.Chain == "" {
		return errors.New("chains[]: name is empty")
	}
	if len(c.Endpoints) == 0 {
		return fmt.Errorf("%s.endpoints: none configured", p)
	}
	for i, e := range c.Endpoints {
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s.endpoints[%d]: want an http(s) URL", p, i)
		}
	}
	if len(c.Tokens) == 0 {
		return fmt.Errorf("%s.tokens: none configured", p)
	}
	seen := map[common.Address]bool{}
	symbols := map[string]bool{}
	for _, t := range c.Tokens {
		tp := fmt.Sprintf("%s.tokens[%s]", p, t.Symbol)
		switch {
		case t.Symbol == "":
			return fmt.Errorf("%s.tokens[]: symbol is empty", p)
		case t.Contract == (common.Address{}):
			return fmt.Errorf("%s.contract: zero address", tp)
		case t.Decimals < 0 || t.Decimals > 36:
			return fmt.Errorf("%s.decimals: %d not in 0..36", tp, t.Decimals)
		case seen[t.Contract]:
			return fmt.Errorf("%s.contract: %s configured twice", tp, t.Contract.Hex())
		case symbols[t.Symbol]:
			return fmt.Errorf("%s: symbol configured twice", tp)
		}
		seen[t.Contract] = true
		symbols[t.Symbol] = true
	}
	if c.InitialRange > c.MaxRange && c.MaxRange != 0 {
		return fmt.Errorf("%s.initial_range: %d above max_range %d", p, c.InitialRange, c.MaxRange)
	}
	return nil
}
