package evm

import (
	"math/big"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func TestChecksums(t *testing.T) {
	var cs checksums
	for round := range 2 {
		for i := range checksumsMax + 10 {
			a := common.BigToAddress(big.NewInt(int64(i*7919 + 1)))
			if got, want := cs.hex(a), a.Hex(); got != want {
				t.Fatalf("round %d address %d: %s, want %s", round, i, got, want)
			}
		}
		if len(cs.m) > checksumsMax {
			t.Fatalf("cache holds %d addresses, bound %d", len(cs.m), checksumsMax)
		}
	}
	var none *checksums
	a := common.HexToAddress("0xdac17f958d2ee523a2206206994597c13d831ec7")
	if got := none.hex(a); got != "0xdAC17F958D2ee523a2206206994597C13D831ec7" {
		t.Fatalf("nil cache: %s", got)
	}
}
