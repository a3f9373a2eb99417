// Package addressbook owns the deposit addresses: it registers them (one at
// a time or in bulk), derives watch-only EVM and Tron addresses from an
// operator's BIP44 account xpub, answers owner look-ups for the API, and
// keeps the in-memory Index the watchers match transfers against.
//
// Storage: every key carries the one hash tag {addrbook}, so each
// registration script touches one Redis Cluster slot. The tag is global,
// not per account, because address uniqueness and the registration log's
// order are global:
//
//	{addrbook}:addr:<family>:<address>        → account (the uniqueness guard)
//	{addrbook}:acctaddr:<account>             hash family → address
//	{addrbook}:addrlog                        stream, one entry per registration
//	{addrbook}:derive:<family>:<xpubfp>:next  next free derivation index
//	{addrbook}:derive:<family>:<xpubfp>:index hash index → account
//
// Every registration is one Lua script that reads and checks everything
// before its first write, so two concurrent registrations of one address
// cannot both win and no guard key exists without its addrlog entry.
//
// No private key ever enters this package: xprv keys are refused.
package addressbook

import (
	"errors"
	"fmt"
	"time"
	"unicode"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/address"
	"github.com/gagliardetto/solana-go"
	"github.com/redis/go-redis/v9"
)

// tag is the hash tag of every address book key.
const tag = "{addrbook}"

// LogStream is the append-only stream of registrations the Index is built
// from. It is never trimmed.
const LogStream = tag + ":addrlog"

// SolanaMint is a configured SPL mint and the token program that owns it
// (solana.TokenProgramID or solana.Token2022ProgramID).
type SolanaMint struct {
	Mint    solana.PublicKey
	Program solana.PublicKey
}

// Options configure a Book.
type Options struct {
	// Mints are the Solana mints whose associated token accounts are derived
	// and stored with every Solana wallet.
	Mints []SolanaMint
	// XPubs are the BIP44 account-level extended public keys (m/44'/60'/0'
	// for evm, m/44'/195'/0' for tron) Derive uses. A family without one
	// cannot derive.
	XPubs map[chains.Family]string
	// WaitReplicas, when above 0, makes a registration succeed only once
	// that many replicas confirm it (WAIT, up to WaitTimeout); else it
	// fails with ErrUnconfirmed. For Sentinel deployments, where a
	// failover can lose what only the master had.
	WaitReplicas int
	WaitTimeout  time.Duration
}

// Book registers and derives deposit addresses in Redis. It is safe for
// concurrent use.
type Book struct {
	rdb          redis.UniversalClient
	mints        []SolanaMint
	derives      map[chains.Family]*deriver
	waitReplicas int
	waitTimeout  time.Duration
}

// New checks the options (mint programs, xpubs: an xprv is refused) and
// returns a Book over rdb.
func New(rdb redis.UniversalClient, opts Options) (*Book, error) {
	if err := checkMints(opts.Mints); err != nil {
		return nil, err
	}
	if opts.WaitReplicas < 0 || opts.WaitReplicas > 0 && opts.WaitTimeout <= 0 {
		return nil, fmt.Errorf("wait for %d replicas within %v: want replicas >= 0 and a positive timeout", opts.WaitReplicas, opts.WaitTimeout)
	}
	b := &Book{rdb: rdb, mints: opts.Mints, derives: map[chains.Family]*deriver{},
		waitReplicas: opts.WaitReplicas, waitTimeout: opts.WaitTimeout}
	for f, s := range opts.XPubs {
		d, err := parseXPub(f, s)
		if err != nil {
			return nil, err
		}
		b.derives[f] = d
	}
	return b, nil
}

func checkMints(mints []SolanaMint) error {
	seen := map[solana.PublicKey]bool{}
	for _, m := range mints {
		if seen[m.Mint] {
			return fmt.Errorf("solana mint %s: configured twice", m.Mint)
		}
		seen[m.Mint] = true
		// Deriving one ATA validates the program for every wallet.
		if _, err := address.SolanaATA(solana.SystemProgramID, m.Mint, m.Program); err != nil {
			return fmt.Errorf("solana mint %s: %w", m.Mint, err)
		}
	}
	return nil
}

// ErrInvalidAccount is returned for an empty, overlong or non-printable
// account id.
var ErrInvalidAccount = errors.New("invalid account id")

const maxAccountLen = 128

func checkAccount(account string) error {
	if account == "" || len(account) > maxAccountLen {
		return fmt.Errorf("%w: want 1 to %d bytes, got %d", ErrInvalidAccount, maxAccountLen, len(account))
	}
	for _, r := range account {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return fmt.Errorf("%w: %q has a space or control character", ErrInvalidAccount, account)
		}
	}
	return nil
}

func addrKey(f chains.Family, norm string) string { return tag + ":addr:" + string(f) + ":" + norm }

func acctKey(account string) string { return tag + ":acctaddr:" + account }
