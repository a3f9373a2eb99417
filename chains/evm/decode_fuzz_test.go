package evm

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// FuzzDecodeLog checks that no input panics the log decoder and that every
// accepted transfer satisfies the decoder's promises.
func FuzzDecodeLog(f *testing.F) {
	for _, l := range receiptLogs(f, readFixture(f, "ethereum/receipts_block_17053184.json"))[:40] {
		f.Add([]byte(l))
	}
	for _, l := range receiptLogs(f, readFixture(f, "bsc/eth_getTransactionReceipt_0xa08ff8cf_usdt_10.json")) {
		f.Add([]byte(l))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	tokens := map[common.Address]Token{ethUSDT.Contract: ethUSDT, ethUSDC.Contract: ethUSDC, bscUSDT.Contract: bscUSDT}
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := decodeLog("x", tokens, json.RawMessage(raw))
		if err != nil || d.Drop != "" {
			return
		}
		tr := d.Transfer
		tok, ok := tokens[common.HexToAddress(tr.Contract)]
		switch {
		case !ok || tok.Symbol != tr.Token || tok.Decimals != tr.Decimals:
			t.Fatalf("accepted a log of an unconfigured contract %s", tr.Contract)
		case tr.Amount == nil || tr.Amount.Sign() <= 0 || tr.Amount.BitLen() > 256:
			t.Fatalf("accepted amount %v", tr.Amount)
		case tr.BlockHash == (common.Hash{}).Hex() || len(tr.TxID) != 66:
			t.Fatalf("accepted log without position: %+v", tr)
		case tr.ToKey != AddrKey(common.HexToAddress(tr.To)):
			t.Fatalf("ToKey %x does not match To %s", tr.ToKey, tr.To)
		}
	})
}

// FuzzDecodeHeader checks the header decoder never panics and returns
// either a complete header, errNullBlock or an error.
func FuzzDecodeHeader(f *testing.F) {
	f.Add([]byte(readFixture(f, "ethereum/eth_getBlockByNumber_17053184_fulltx.json")))
	f.Add([]byte(`{"number":"0x1","hash":"0x01","parentHash":"0x00","timestamp":"0x5"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"number":"0x1"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, err := decodeHeader(raw)
		if errors.Is(err, errNullBlock) || err != nil {
			return
		}
		if len(h.Hash) != 66 || len(h.Parent) != 66 || h.Time < 0 {
			t.Fatalf("accepted incomplete header %+v", h)
		}
	})
}
