package addressbook

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/address"
	"github.com/gagliardetto/solana-go"
)

// Entry is one registered deposit address.
type Entry struct {
	Account string
	Family  chains.Family
	Address string // normal form (EIP-55, base58check T…, base58)
	Key     chains.AddrKey
	// ATAs are the Solana wallet's associated token accounts, one per
	// configured mint; empty for other families.
	ATAs []ATA
	// Path is the BIP32 path of a derived address ("m/44'/60'/0'/0/7");
	// empty for a registered one.
	Path string
}

// ATA is the associated token account of a Solana wallet for one mint.
type ATA struct {
	Mint    string
	Account string
}

// Stream field names of an addrlog entry. ATAs are stored one field per
// mint: "ata:<mint>" → token account.
const (
	fieldFamily  = "family"
	fieldAddress = "address"
	fieldKey     = "key"
	fieldAccount = "account"
	fieldPath    = "path"
	ataPrefix    = "ata:"
)

// fields renders the entry as the field/value pairs of its addrlog entry.
func (e Entry) fields() []any {
	out := []any{
		fieldFamily, string(e.Family),
		fieldAddress, e.Address,
		fieldKey, hex.EncodeToString(keyBytes(e.Family, e.Key)),
		fieldAccount, e.Account,
	}
	if e.Path != "" {
		out = append(out, fieldPath, e.Path)
	}
	for _, a := range e.ATAs {
		out = append(out, ataPrefix+a.Mint, a.Account)
	}
	return out
}

func keyBytes(f chains.Family, k chains.AddrKey) []byte {
	if f == chains.FamilySolana {
		return k[:]
	}
	return k[:20]
}

// parseEntry decodes one addrlog entry. It trusts nothing: a malformed
// entry is an error, never a panic.
func parseEntry(values map[string]any) (Entry, error) {
	str := func(name string) string { s, _ := values[name].(string); return s }
	e := Entry{
		Account: str(fieldAccount),
		Family:  chains.Family(str(fieldFamily)),
		Address: str(fieldAddress),
		Path:    str(fieldPath),
	}
	if e.Account == "" {
		return Entry{}, fmt.Errorf("no account")
	}
	raw, err := hex.DecodeString(str(fieldKey))
	if err != nil {
		return Entry{}, fmt.Errorf("key: %w", err)
	}
	var want int
	switch e.Family {
	case chains.FamilyEVM, chains.FamilyTron:
		want = 20
	case chains.FamilySolana:
		want = 32
	default:
		return Entry{}, fmt.Errorf("unknown family %q", e.Family)
	}
	if len(raw) != want {
		return Entry{}, fmt.Errorf("%s key has %d bytes, want %d", e.Family, len(raw), want)
	}
	copy(e.Key[:], raw)
	for name, v := range values {
		mint, ok := strings.CutPrefix(name, ataPrefix)
		if !ok {
			continue
		}
		s, _ := v.(string)
		if _, _, err := address.ParseSolana(s); err != nil {
			return Entry{}, fmt.Errorf("ata for mint %s: %w", mint, err)
		}
		e.ATAs = append(e.ATAs, ATA{Mint: mint, Account: s})
	}
	return e, nil
}

// deriveATAs computes the wallet's associated token account for every mint.
func deriveATAs(wallet chains.AddrKey, mints []SolanaMint) ([]ATA, error) {
	out := make([]ATA, 0, len(mints))
	for _, m := range mints {
		ata, err := address.SolanaATA(solana.PublicKey(wallet), m.Mint, m.Program)
		if err != nil {
			return nil, err
		}
		out = append(out, ATA{Mint: m.Mint.String(), Account: ata.String()})
	}
	return out, nil
}
