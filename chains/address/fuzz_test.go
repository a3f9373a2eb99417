package address

import (
	"testing"

	"github.com/depositd/depositd/chains"
)

// roundTrip checks the contract every parser promises: no panic, and a
// successful parse is stable (the normal form parses to itself and the same
// key, and Format renders the key back to it).
func roundTrip(t *testing.T, f chains.Family, s string) {
	norm, key, err := Parse(f, s)
	if err != nil {
		if norm != "" || key != (chains.AddrKey{}) {
			t.Fatalf("Parse(%s, %q) failed with output %q %x", f, s, norm, key)
		}
		return
	}
	again, key2, err := Parse(f, norm)
	if err != nil {
		t.Fatalf("Parse(%s, %q) = %q, which does not parse: %v", f, s, norm, err)
	}
	if again != norm || key2 != key {
		t.Fatalf("Parse(%s, %q): %q %x, reparsed %q %x", f, s, norm, key, again, key2)
	}
	if got := Format(f, key); got != norm {
		t.Fatalf("Format(%s, %x) = %q, want %q", f, key, got, norm)
	}
	if f != chains.FamilySolana && [12]byte(key[20:]) != [12]byte{} {
		t.Fatalf("Parse(%s, %q): key %x has bytes past 20", f, s, key)
	}
}

func FuzzParseEVM(f *testing.F) {
	for _, s := range []string{
		"0xdAC17F958D2ee523a2206206994597C13D831ec7",
		"0xdac17f958d2ee523a2206206994597c13d831ec7",
		"0xDAC17F958D2EE523A2206206994597C13D831EC7",
		"0xdac17F958D2ee523a2206206994597C13D831ec7",
		"0x0000000000000000000000000000000000000000",
		"0x", "", "0xzz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { roundTrip(t, chains.FamilyEVM, s) })
}

func FuzzParseTron(f *testing.F) {
	for _, s := range []string{
		"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
		"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u",
		"41a614f803b6fd780986a42c78ec9c7f77e6ded13c",
		"41A614F803B6FD780986A42C78EC9C7F77E6DED13C",
		"1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa",
		"1111111111111111111111111",
		"", "T", "41",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { roundTrip(t, chains.FamilyTron, s) })
}

func FuzzParseSolana(f *testing.F) {
	for _, s := range []string{
		"3UJQqKq8Xyx4aVRmHgEwpQZiW7toYRQCTy6Bgp1RdKnK",
		"EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
		"11111111111111111111111111111111",
		"1111111111111111111111111111111111",
		"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
		"", "1", "0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { roundTrip(t, chains.FamilySolana, s) })
}

func FuzzTronFromEVMBytes(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, 20))
	f.Add(make([]byte, 32))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := TronFromEVMBytes(b)
		_, key, err := ParseTron(s)
		if err != nil {
			t.Fatalf("TronFromEVMBytes(%x) = %q, which does not parse: %v", b, s, err)
		}
		tail := b
		if len(tail) > 20 {
			tail = tail[len(tail)-20:]
		}
		var want [20]byte
		copy(want[20-len(tail):], tail)
		if [20]byte(key[:20]) != want {
			t.Fatalf("TronFromEVMBytes(%x) key %x, want %x", b, key[:20], want)
		}
	})
}
