// Package config loads depositd's configuration: built-in defaults, then a
// strict YAML file (unknown or repeated keys are errors naming the key and its
// line), then secrets from environment variables or files, then Validate,
// which reports every problem at once, each naming its key path and line.
//
// The parsed Config carries typed values only: durations as time.Duration,
// token amounts as decimal.Decimal, USD amounts as money.Units, secrets as
// Secret (which never prints its value).
package config

import (
	"log/slog"
	"math/big"
	"time"

	"github.com/shopspring/decimal"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/money"
)

// Mode says where the daemon runs. Inline secrets are accepted only in dev.
type Mode string

const (
	ModeProduction Mode = "production"
	ModeDev        Mode = "dev"
)

// Config is a parsed and validated depositd configuration.
type Config struct {
	Mode       Mode
	Listen     string // host:port of the HTTP API, default 127.0.0.1:8080
	Log        Log
	Redis      Redis
	API        API
	Addresses  Addresses
	Chains     []Chain
	Settlement Settlement
	Webhooks   Webhooks
	Lease      Lease
	Huawei     *Huawei // nil: no statement import from Huawei Cloud
	// Warnings are non-fatal findings (inline secrets in dev, look-alike
	// tokens), each "file:line: path: message", for the daemon to log.
	Warnings []string

	file  string
	lines map[string]int // key path → line of its YAML node
}

// Addresses configures watch-only address derivation: the BIP44
// account-level extended public keys (m/44'/60'/0' for evm, m/44'/195'/0'
// for tron) that POST /v1/addresses/derive derives child 0/i from. An
// extended private key is refused: depositd never holds one.
type Addresses struct {
	XPubEVM  string
	XPubTron string
}

// XPubs returns the configured xpubs by address family.
func (a Addresses) XPubs() map[chains.Family]string {
	out := map[chains.Family]string{}
	if a.XPubEVM != "" {
		out[chains.FamilyEVM] = a.XPubEVM
	}
	if a.XPubTron != "" {
		out[chains.FamilyTron] = a.XPubTron
	}
	return out
}

// Log configures the structured logger.
type Log struct {
	Level  slog.Level // debug, info (default), warn, error
	Format string     // "json" (default) or "text"
}

// Redis selects exactly one topology: a standalone URL, Sentinel or Cluster.
type Redis struct {
	URL      Secret // standalone: redis://, rediss:// or unix:// URL
	Sentinel *Sentinel
	Cluster  *Cluster
}

// Sentinel is a Redis Sentinel deployment.
type Sentinel struct {
	Master           string
	Addrs            []string // host:port of each sentinel
	Password         Secret   // the master's and replicas' AUTH; may be empty
	SentinelPassword Secret   // the sentinels' own AUTH; may be empty
	// WaitReplicas is how many replicas must confirm a ledger step (WAIT)
	// before it is acknowledged; 0 acknowledges on the master alone, which
	// a failover can lose. Default 1.
	WaitReplicas int
	WaitTimeout  time.Duration // WAIT's timeout; default 1s
}

// Sentinel defaults.
const (
	DefaultWaitReplicas = 1
	DefaultWaitTimeout  = time.Second
)

// Cluster is a Redis Cluster deployment.
type Cluster struct {
	Addrs    []string // host:port seed nodes
	Password Secret   // may be empty
}

// API configures the bearer tokens of the HTTP API.
type API struct {
	Tokens []APIToken
}

// Scope is an API permission.
type Scope string

const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
)

// APIToken is one bearer token and what it may do.
type APIToken struct {
	Name   string
	Scopes []Scope
	Token  Secret
}

// Kind is a chain's protocol family as its adapter sees it.
type Kind string

const (
	KindEVM    Kind = "evm"
	KindTron   Kind = "tron"
	KindSolana Kind = "solana"
)

// FamilyOf returns the deposit-address family of a chain kind, or "" for an
// unknown kind. Kinds and families coincide today; callers should still go
// through this mapping.
func FamilyOf(k Kind) chains.Family {
	switch k {
	case KindEVM:
		return chains.FamilyEVM
	case KindTron:
		return chains.FamilyTron
	case KindSolana:
		return chains.FamilySolana
	}
	return ""
}

// Policy is when a chain's blocks count as final (credit time).
type Policy string

const (
	// PolicyFinalized (evm): at or below the finalized tag, and at least
	// Confirmations deep when Confirmations > 0 (BSC).
	PolicyFinalized Policy = "finalized"
	// PolicyConfirmations (evm, tron): latest − Confirmations + 1.
	PolicyConfirmations Policy = "confirmations"
	// PolicySolidified (tron): at or below the solidified block.
	PolicySolidified Policy = "solidified"
	// PolicyCommitment (solana): at the finalized commitment.
	PolicyCommitment Policy = "commitment"
)

// policiesByKind lists the finality policies each kind supports, default first.
var policiesByKind = map[Kind][]Policy{
	KindEVM:    {PolicyFinalized, PolicyConfirmations},
	KindTron:   {PolicySolidified, PolicyConfirmations},
	KindSolana: {PolicyCommitment},
}

// Finality is a chain's credit rule and lag alert bound.
type Finality struct {
	Policy Policy
	// Confirmations is N in "n of N" shown at the tip; under the finalized
	// policy also the minimum depth (BSC), under confirmations the rule itself.
	Confirmations uint64
	// MaxLag is the alert bound on latest − final, in blocks (slots).
	MaxLag uint64
}

// Chain is one watched chain.
type Chain struct {
	Name              string // unique, e.g. "ethereum", "bsc", "tron", "solana"
	Kind              Kind
	ChainID           uint64 // evm only
	Endpoints         []Endpoint
	SolidityEndpoints []Endpoint // tron only
	PollInterval      time.Duration
	Finality          Finality
	StartBlock        uint64 // 0 = start at the current final block
	MaxRange          uint64 // evm only: most blocks per eth_getLogs
	BatchSize         int    // blocks fetched per round
	Tokens            []Token
}

// Family is the chain's deposit-address family.
func (c *Chain) Family() chains.Family { return FamilyOf(c.Kind) }

// Endpoint is one RPC endpoint of a chain.
type Endpoint struct {
	URL    Secret // may carry a provider key, so it never prints
	APIKey Secret // tron only: TRON-PRO-API-KEY, may be empty
	Weight int    // share of requests relative to the other endpoints, ≥ 1
}

// Program is a Solana token program.
type Program string

const (
	ProgramToken     Program = "token"     // TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA
	ProgramToken2022 Program = "token2022" // TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb
)

// Token is one accepted token of a chain. Only its configured address counts:
// a transfer of a same-symbol contract elsewhere is not a deposit.
type Token struct {
	Symbol    string
	Address   string // canonical: EIP-55, Tron base58check, Solana base58
	Decimals  int32
	Program   Program         // solana only
	MinAmount decimal.Decimal // in token units; smaller transfers are ignored
	USDRate   decimal.Decimal // USD per whole token, > 0, default 1
}

// MinUnits returns MinAmount in raw base units. It is exact: Validate rejects
// a minimum finer than the token's decimals.
func (t Token) MinUnits() *big.Int {
	return t.MinAmount.Shift(t.Decimals).BigInt()
}

// Settlement configures monthly statements.
type Settlement struct {
	Timezone             string         // IANA name, default "Asia/Shanghai"
	Location             *time.Location // Timezone, loaded
	DueDays              int            // due date = issue date + DueDays, default 10
	LowBalanceThresholds []money.Units  // balance.low fires when cash drops below each
	OverdueSweep         time.Duration  // how often overdue statements are swept
	// OffchainApprovalAbove is the largest off-chain credit (USD) one
	// operator may apply alone; a larger one needs a second operator.
	OffchainApprovalAbove money.Units
}

// Lease configures the per-chain scan lease that lets several depositd
// processes share one Redis: one process scans a chain at a time.
type Lease struct {
	// TTL is how long a holder's lease outlives its last renewal. A dead
	// holder's chains are taken over within two TTLs; holders renew every
	// TTL/3. Default 15s.
	TTL time.Duration
}

// Lease TTL bounds: below the minimum a Redis round trip under load could
// outlast the renewal margin; above the maximum a dead holder stalls its
// chains for too long.
const (
	MinLeaseTTL = time.Second
	MaxLeaseTTL = 10 * time.Minute
)

// Webhooks configures webhook delivery.
type Webhooks struct {
	Endpoints []WebhookEndpoint
}

// WebhookEndpoint is one receiver of events.
type WebhookEndpoint struct {
	Name string
	URL  string // http or https
	// Secrets sign every delivery (several during rotation); each is
	// "whsec_" + base64 of 24–64 bytes.
	Secrets      []Secret
	Events       []string // subset of outbox.Types; empty means all
	Timeout      time.Duration
	Schedule     []time.Duration // delay before each attempt; len = attempts
	AllowPrivate bool            // allow loopback, private and link-local targets
}

// Chain returns the chain with the given name.
func (c *Config) Chain(name string) (*Chain, bool) {
	for i := range c.Chains {
		if c.Chains[i].Name == name {
			return &c.Chains[i], true
		}
	}
	return nil, false
}

// defaults returns the configuration before any YAML is applied.
func defaults() *Config {
	return &Config{
		Mode:   ModeProduction,
		Listen: "127.0.0.1:8080",
		Log:    Log{Level: slog.LevelInfo, Format: "json"},
		Settlement: Settlement{
			Timezone:     "Asia/Shanghai",
			DueDays:      10,
			OverdueSweep: 5 * time.Minute,
			// 1000 USD: one operator may book a small exchange transfer;
			// anything larger needs a second pair of eyes.
			OffchainApprovalAbove: money.Units(1000_00000000),
		},
		Lease: Lease{TTL: 15 * time.Second},
		lines: map[string]int{},
	}
}

// webhookDefaults returns a webhook endpoint before its YAML block is applied.
func webhookDefaults() WebhookEndpoint {
	return WebhookEndpoint{
		Timeout: 15 * time.Second,
		Schedule: []time.Duration{
			0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
			5 * time.Hour, 10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
		},
	}
}
