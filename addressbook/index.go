package addressbook

import (
	"log/slog"
	"sync"
	"time"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/address"
	"github.com/gagliardetto/solana-go"
	"github.com/redis/go-redis/v9"
)

// Index is the in-memory address set the watchers match transfers against,
// built from the addrlog stream (Load) and kept current by Run. Lookups take
// a read lock and allocate nothing; they are safe while Run applies new
// entries.
//
// Memory is kept compact: keys map to a uint32 into an account table (one
// slot per address; an account with three addresses has three slots, which
// costs less than a map deduplicating 1M account names).
type Index struct {
	rdb   redis.UniversalClient
	mints []SolanaMint
	opts  IndexOptions

	mu       sync.RWMutex
	accounts []string // account slot → account
	evm      map[[20]byte]uint32
	tron     map[[20]byte]uint32
	wallets  map[[32]byte]uint32 // solana wallet → walletRefs index
	holders  map[[32]byte]uint32 // associated token account → walletRefs index
	refs     []walletRef
	last     string // id of the last applied addrlog entry
	loaded   bool
}

type walletRef struct {
	key  [32]byte
	acct uint32
}

// IndexOptions tune the tail loop. Zero values take the defaults.
type IndexOptions struct {
	// Block is how long one XREAD waits for new entries; Run notices a
	// cancelled ctx within this bound. Default 2s.
	Block time.Duration
	// BackoffMin and BackoffMax bound the wait after a Redis error (doubling,
	// reset on success). Defaults 100ms and 10s.
	BackoffMin, BackoffMax time.Duration
	// Page is the XRANGE/XREAD batch size. Default 10000.
	Page int64
	// Logger receives warnings (Redis errors) and errors (malformed
	// entries). Default slog.Default().
	Logger *slog.Logger
}

func (o IndexOptions) withDefaults() IndexOptions {
	if o.Block <= 0 {
		o.Block = 2 * time.Second
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = 100 * time.Millisecond
	}
	if o.BackoffMax < o.BackoffMin {
		o.BackoffMax = max(10*time.Second, o.BackoffMin)
	}
	if o.Page <= 0 {
		o.Page = 10000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// NewIndex returns an empty index over the addrlog stream of rdb. mints are
// the configured Solana mints: a wallet's token account for a mint its log
// entry lacks (a mint added later) is derived while loading.
func NewIndex(rdb redis.UniversalClient, mints []SolanaMint, opts IndexOptions) (*Index, error) {
	if err := checkMints(mints); err != nil {
		return nil, err
	}
	return &Index{
		rdb:     rdb,
		mints:   mints,
		opts:    opts.withDefaults(),
		last:    "0",
		evm:     map[[20]byte]uint32{},
		tron:    map[[20]byte]uint32{},
		wallets: map[[32]byte]uint32{},
		holders: map[[32]byte]uint32{},
	}, nil
}

// Lookup returns the account of a watched EVM or Tron address (20 bytes
// left-aligned) or Solana wallet (32 bytes). It does not allocate.
func (x *Index) Lookup(f chains.Family, k chains.AddrKey) (account string, ok bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	var id uint32
	switch f {
	case chains.FamilyEVM:
		id, ok = x.evm[[20]byte(k[:20])]
	case chains.FamilyTron:
		id, ok = x.tron[[20]byte(k[:20])]
	case chains.FamilySolana:
		var r uint32
		if r, ok = x.wallets[k]; ok {
			id = x.refs[r].acct
		}
	}
	if !ok {
		return "", false
	}
	return x.accounts[id], true
}

// LookupHolder resolves a Solana token account to the owning deposit
// wallet and its account: ok only for the associated token account of a
// watched wallet for a configured mint. It does not allocate.
func (x *Index) LookupHolder(k chains.AddrKey) (account string, wallet chains.AddrKey, ok bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	r, ok := x.holders[k]
	if !ok {
		return "", chains.AddrKey{}, false
	}
	ref := x.refs[r]
	return x.accounts[ref.acct], ref.key, true
}

// Len is the number of watched addresses (EVM, Tron and Solana wallets;
// token accounts are not counted).
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.evm) + len(x.tron) + len(x.wallets)
}

// record is one addrlog entry reduced to what the index keeps.
type record struct {
	family  chains.Family
	key     chains.AddrKey
	account string
	holders []chains.AddrKey // token accounts of the configured mints
}

// apply adds a batch of records under one write lock and moves the stream
// position to last. The first record of an address wins (the register
// script never writes a second one).
func (x *Index) apply(recs []record, last string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, r := range recs {
		id := uint32(len(x.accounts))
		added := false
		switch r.family {
		case chains.FamilyEVM:
			added = putNew(x.evm, [20]byte(r.key[:20]), id)
		case chains.FamilyTron:
			added = putNew(x.tron, [20]byte(r.key[:20]), id)
		case chains.FamilySolana:
			ref := uint32(len(x.refs))
			if added = putNew(x.wallets, [32]byte(r.key), ref); added {
				x.refs = append(x.refs, walletRef{key: r.key, acct: id})
				for _, h := range r.holders {
					putNew(x.holders, [32]byte(h), ref)
				}
			}
		}
		if added {
			x.accounts = append(x.accounts, r.account)
		}
	}
	x.last = last
}

// putNew stores k → v unless k is present and reports whether it stored.
func putNew[K comparable](m map[K]uint32, k K, v uint32) bool {
	if _, ok := m[k]; ok {
		return false
	}
	m[k] = v
	return true
}

// toRecord reduces an entry to a record. For a Solana wallet it takes the
// token account of each configured mint from the entry, deriving the ones
// the entry lacks (a mint configured after the registration); token
// accounts of mints no longer configured are left out.
func (x *Index) toRecord(e Entry) (record, error) {
	r := record{family: e.Family, key: e.Key, account: e.Account}
	if e.Family != chains.FamilySolana {
		return r, nil
	}
	for _, m := range x.mints {
		k, err := x.holderKey(e, m)
		if err != nil {
			return record{}, err
		}
		r.holders = append(r.holders, k)
	}
	return r, nil
}

func (x *Index) holderKey(e Entry, m SolanaMint) (chains.AddrKey, error) {
	mint := m.Mint.String()
	for _, a := range e.ATAs {
		if a.Mint == mint {
			_, k, err := address.ParseSolana(a.Account)
			return k, err
		}
	}
	ata, err := address.SolanaATA(solana.PublicKey(e.Key), m.Mint, m.Program)
	return chains.AddrKey(ata), err
}
