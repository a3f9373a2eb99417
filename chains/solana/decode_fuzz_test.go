package solana

import (
	"testing"

	"github.com/depositd/depositd/chains"
)

// FuzzDecode feeds arbitrary JSON to both decoders and the delta rule: any
// input gives a result or an error, never a panic, and every credit names a
// decoded account key.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{
		"getBlock_241043141_failed_tx_jsonParsed.json",
		"getTransaction_4dHnggcX_usdc_create_ata.json",
		"getTransaction_65MevEhH_usdc_separate_fee_payer.json",
	} {
		f.Add(readFixture(f, name))
	}
	for _, s := range []string{
		`null`, `{}`, `[]`, `{"blockhash":"a","previousBlockhash":"b","transactions":[null]}`,
		`{"blockhash":"a","previousBlockhash":"b","transactions":[{"transaction":{"signatures":["1"]},"meta":{}}]}`,
		`{"transaction":{"accountKeys":[{"pubkey":"EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"}],"signatures":["4dHnggcXjvmMJY2J6iGqse12PeCYQzuTySgwJa36K8MuntmwNrCNztvYRX5ZGpQXzKjaf7g5vaZM7LTuXLNbi2Zx"]},` +
			`"meta":{"err":null,"postTokenBalances":[{"accountIndex":7,"mint":"EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v","uiTokenAmount":{"amount":"1"}}]}}`,
		`{"transaction":{"message":{"accountKeys":["EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"]},"signatures":["4dHnggcXjvmMJY2J6iGqse12PeCYQzuTySgwJa36K8MuntmwNrCNztvYRX5ZGpQXzKjaf7g5vaZM7LTuXLNbi2Zx"]},` +
			`"meta":{"err":null,"loadedAddresses":{"writable":["EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"]},"postTokenBalances":[{"accountIndex":1,"mint":"EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v","uiTokenAmount":{"amount":"-1"}}]}}`,
	} {
		f.Add([]byte(s))
	}
	m := newMatcher([]Mint{usdc}, func(chains.AddrKey) bool { return false })
	check := func(t *testing.T, tx *txn) {
		credits, _, err := m.deltas(tx)
		if err != nil {
			return
		}
		for _, c := range credits {
			if c.amount == 0 || int(c.index) >= len(tx.keys) || c.holder.text != tx.keys[c.index] {
				t.Fatalf("credit %+v inconsistent with %d keys", c, len(tx.keys))
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if b, err := decodeBlock(data); err == nil {
			for i := range b.txs {
				check(t, &b.txs[i])
			}
		}
		if tx, err := decodeTransaction(data); err == nil {
			check(t, &tx)
		}
	})
}
