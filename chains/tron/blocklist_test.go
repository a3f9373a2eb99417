package tron

import (
	"bytes"
	"testing"

	"github.com/fbsobreira/gotron-sdk/pkg/proto/api"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// sampleBlockList is two blocks as java-tron's GetBlockByLimitNext2 sends
// them: headers, ids and full transactions (the mainnet fixture's).
func sampleBlockList(t testing.TB) *api.BlockListExtention {
	tx, h := loadTx(t, "gettransactionbyid_0b9e01dd_usdt_transfer_25.json")
	hdr := func(n int64) *core.BlockHeader {
		return &core.BlockHeader{RawData: &core.BlockHeaderRaw{Number: n, Timestamp: 1727747913000,
			ParentHash: bytes.Repeat([]byte{byte(n)}, 32), TxTrieRoot: bytes.Repeat([]byte{7}, 32)},
			WitnessSignature: bytes.Repeat([]byte{1}, 65)}
	}
	return &api.BlockListExtention{Block: []*api.BlockExtention{
		{BlockHeader: hdr(10), Blockid: bytes.Repeat([]byte{0xa}, 32),
			Transactions: []*api.TransactionExtention{{Transaction: tx, Txid: h.TxID, Result: &api.Return{Result: true}}}},
		{BlockHeader: hdr(11), Blockid: bytes.Repeat([]byte{0xb}, 32)},
	}}
}

// agree reports whether the light decoding matches proto.Unmarshal's.
func agree(full *api.BlockListExtention, light []listedBlock) bool {
	if len(full.GetBlock()) != len(light) {
		return false
	}
	for i, b := range full.GetBlock() {
		l := light[i]
		if !proto.Equal(b.GetBlockHeader(), l.ext.GetBlockHeader()) || !bytes.Equal(b.GetBlockid(), l.ext.GetBlockid()) ||
			len(b.GetTransactions()) != len(l.txids) {
			return false
		}
		for j, tx := range b.GetTransactions() {
			if !bytes.Equal(tx.GetTxid(), l.txids[j]) {
				return false
			}
		}
	}
	return true
}

func TestDecodeBlockList(t *testing.T) {
	list := sampleBlockList(t)
	wire, err := proto.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	// A second block_header field merges into the first, as proto does.
	extra := protowire.AppendTag(nil, fieldBlockHeader, protowire.BytesType)
	extra = protowire.AppendBytes(extra, mustMarshal(t, &core.BlockHeader{RawData: &core.BlockHeaderRaw{Version: 30}}))
	block0 := mustMarshal(t, list.GetBlock()[0])
	merged := protowire.AppendTag(nil, fieldListBlock, protowire.BytesType)
	merged = protowire.AppendBytes(merged, append(block0, extra...))
	// A txid field with the wrong wire type is an unknown field.
	oddTx := protowire.AppendTag(nil, fieldTxExtentTxid, protowire.VarintType)
	oddTx = protowire.AppendVarint(oddTx, 5)
	oddBlock := protowire.AppendTag(nil, fieldBlockTxs, protowire.BytesType)
	oddBlock = protowire.AppendBytes(oddBlock, oddTx)
	odd := protowire.AppendTag(nil, fieldListBlock, protowire.BytesType)
	odd = protowire.AppendBytes(odd, oddBlock)

	tests := []struct {
		name    string
		wire    []byte
		blocks  int
		wantErr bool
	}{
		{"two blocks", wire, 2, false},
		{"empty list", nil, 0, false},
		{"merged header", merged, 1, false},
		{"txid of wrong wire type", odd, 1, false},
		{"truncated", wire[:len(wire)-3], 0, true},
		{"bad tag", []byte{0x00}, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeBlockList(tt.wire)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			var full api.BlockListExtention
			if err := proto.Unmarshal(tt.wire, &full); err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.blocks || !agree(&full, got) {
				t.Fatalf("light decoding %+v differs from proto's %v", got, &full)
			}
		})
	}
}

func mustMarshal(t testing.TB, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzDecodeBlockList checks the light decoder against proto.Unmarshal:
// whatever proto accepts, the light decoder accepts with the same headers,
// ids and txids; it never panics on anything.
func FuzzDecodeBlockList(f *testing.F) {
	f.Add(mustMarshal(f, sampleBlockList(f)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		light, err := decodeBlockList(b)
		var full api.BlockListExtention
		if proto.Unmarshal(b, &full) != nil {
			return
		}
		if err != nil {
			t.Fatalf("proto accepts, light decoder says %v", err)
		}
		if !agree(&full, light) {
			t.Fatalf("light decoding differs from proto's %v", &full)
		}
	})
}
