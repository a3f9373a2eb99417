package addressbook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/address"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/redis/go-redis/v9"
)

// coinType is the BIP44 coin type of each derivable family.
var coinType = map[chains.Family]uint32{chains.FamilyEVM: 60, chains.FamilyTron: 195}

// ErrNoXPub is returned by Derive for a family without a configured xpub.
var ErrNoXPub = errors.New("no xpub configured for this family")

// deriver turns derivation indexes into addresses from the external chain
// (…/0) of one BIP44 account node. It holds public keys only.
type deriver struct {
	family   chains.Family
	external *hdkeychain.ExtendedKey // m/44'/coin'/0'/0
	fp       string                  // names the xpub in Redis keys
}

// parseXPub checks that s is the public account node (depth 3, hardened
// child) of a BIP44 wallet for a derivable family.
func parseXPub(f chains.Family, s string) (*deriver, error) {
	if _, ok := coinType[f]; !ok {
		return nil, fmt.Errorf("xpub for %s: only evm and tron addresses can be derived from public keys", f)
	}
	k, err := hdkeychain.NewKeyFromString(s)
	if err != nil {
		return nil, fmt.Errorf("xpub for %s: %w", f, err)
	}
	if k.IsPrivate() {
		return nil, fmt.Errorf("xpub for %s: this is a private extended key (xprv); depositd is watch-only, give it the xpub", f)
	}
	if k.Depth() != 3 || k.ChildIndex() < hdkeychain.HardenedKeyStart {
		return nil, fmt.Errorf("xpub for %s: depth %d, want the BIP44 account node m/44'/%d'/0' (depth 3, hardened)", f, k.Depth(), coinType[f])
	}
	ext, err := k.Derive(0)
	if err != nil {
		return nil, fmt.Errorf("xpub for %s: external chain: %w", f, err)
	}
	sum := sha256.Sum256([]byte(s))
	return &deriver{family: f, external: ext, fp: hex.EncodeToString(sum[:6])}, nil
}

// address derives the address at index i of the external chain.
func (d *deriver) address(i uint32) (chains.AddrKey, error) {
	child, err := d.external.Derive(i)
	if err != nil {
		return chains.AddrKey{}, fmt.Errorf("derive index %d: %w", i, err)
	}
	pub, err := child.ECPubKey()
	if err != nil {
		return chains.AddrKey{}, fmt.Errorf("derive index %d: %w", i, err)
	}
	// Both EVM and Tron: last 20 bytes of keccak256(uncompressed X ‖ Y).
	h := crypto.Keccak256(pub.SerializeUncompressed()[1:])
	var k chains.AddrKey
	copy(k[:20], h[12:])
	return k, nil
}

func (d *deriver) path(i uint32) string {
	return "m/44'/" + strconv.Itoa(int(coinType[d.family])) + "'/0'/0/" + strconv.FormatUint(uint64(i), 10)
}

func (d *deriver) nextKey() string { return tag + ":derive:" + string(d.family) + ":" + d.fp + ":next" }
func (d *deriver) indexKey() string {
	return tag + ":derive:" + string(d.family) + ":" + d.fp + ":index"
}

// maxDeriveAttempts bounds the compare-and-set loop of Derive (lost races
// and already-registered addresses each cost one attempt).
const maxDeriveAttempts = 64

// Derive gives account the address at the next free index of the family's
// xpub and registers it like Register does, storing index → account. The
// index is claimed in the same script as the address (compare-and-set on
// the counter), so a refused derivation (ErrFamilyTaken) burns no index and
// concurrent calls get consecutive indexes; an index whose address someone
// registered by hand is skipped. Errors: ErrNoXPub, ErrInvalidAccount,
// ErrFamilyTaken, or a wrapped Redis error. Solana cannot be derived
// (ed25519 has no public derivation): ErrNoXPub.
func (b *Book) Derive(ctx context.Context, f chains.Family, account string) (Entry, error) {
	d, ok := b.derives[f]
	if !ok {
		return Entry{}, fmt.Errorf("derive %s: %w", f, ErrNoXPub)
	}
	if err := checkAccount(account); err != nil {
		return Entry{}, err
	}
	next, err := b.rdb.Get(ctx, d.nextKey()).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return Entry{}, fmt.Errorf("derive %s: read counter: %w", f, err)
	}
	for range maxDeriveAttempts {
		if next < 0 || next >= hdkeychain.HardenedKeyStart {
			return Entry{}, fmt.Errorf("derive %s: index %d outside the non-hardened range", f, next)
		}
		i := uint32(next)
		key, err := d.address(i)
		if err != nil {
			return Entry{}, err
		}
		e := Entry{Account: account, Family: f, Address: address.Format(f, key), Key: key, Path: d.path(i)}
		status, val, err := b.claimDerived(ctx, d, e, i)
		if err != nil {
			return Entry{}, err
		}
		switch status {
		case "ok":
			if err := b.confirm(ctx); err != nil {
				return Entry{}, fmt.Errorf("derive %s index %d: %w", f, i, err)
			}
			return e, nil
		case "taken":
			return Entry{}, &FamilyTakenError{Account: account, Family: f, Address: val}
		case "dup":
			next = int64(i) + 1
		case "stale":
			if next, err = strconv.ParseInt(val, 10, 64); err != nil {
				return Entry{}, fmt.Errorf("derive %s: counter %q: %w", f, val, err)
			}
		default:
			return Entry{}, fmt.Errorf("derive %s: unexpected script reply %q", f, status)
		}
	}
	return Entry{}, fmt.Errorf("derive %s: no free index after %d attempts", f, maxDeriveAttempts)
}

func (b *Book) claimDerived(ctx context.Context, d *deriver, e Entry, i uint32) (status, val string, err error) {
	keys := []string{addrKey(e.Family, e.Address), acctKey(e.Account), LogStream, d.nextKey(), d.indexKey()}
	args := append([]any{e.Account, string(e.Family), e.Address, strconv.FormatUint(uint64(i), 10)}, e.fields()...)
	cmd := registerScript.Run(ctx, b.rdb, keys, args...)
	if err := cmd.Err(); err != nil {
		return "", "", fmt.Errorf("derive %s index %d: %w", e.Family, i, err)
	}
	status, val, err = reply(cmd)
	if err != nil {
		return "", "", fmt.Errorf("derive %s index %d: %w", e.Family, i, err)
	}
	return status, val, nil
}

// DerivedAccount reports which account holds index i of the family's xpub.
// ok is false for an index not (yet) given out or skipped.
func (b *Book) DerivedAccount(ctx context.Context, f chains.Family, i uint32) (account string, ok bool, err error) {
	d, found := b.derives[f]
	if !found {
		return "", false, fmt.Errorf("derived account %s: %w", f, ErrNoXPub)
	}
	account, err = b.rdb.HGet(ctx, d.indexKey(), strconv.FormatUint(uint64(i), 10)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("derived account %s %d: %w", f, i, err)
	}
	return account, true, nil
}
