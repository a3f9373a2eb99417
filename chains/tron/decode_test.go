package tron

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/fbsobreira/gotron-sdk/pkg/proto/api"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

var (
	usdt20  = [20]byte{0xa6, 0x14, 0xf8, 0x03, 0xb6, 0xfd, 0x78, 0x09, 0x86, 0xa4, 0x2c, 0x78, 0xec, 0x9c, 0x7f, 0x77, 0xe6, 0xde, 0xd1, 0x3c}
	alice20 = [20]byte{1, 2, 3}
	bob20   = [20]byte{9, 8, 7}
)

func word(b []byte) []byte { return append(make([]byte, 32-len(b)), b...) }

func transferLog(contract, from, to [20]byte, amount int64) *core.TransactionInfo_Log {
	return &core.TransactionInfo_Log{
		Address: contract[:],
		Topics:  [][]byte{TransferTopic[:], word(from[:]), word(to[:])},
		Data:    word(big.NewInt(amount).Bytes()),
	}
}

func info(id byte, n int64, res core.TransactionInfoCode, rr core.Transaction_ResultContractResult, logs ...*core.TransactionInfo_Log) *core.TransactionInfo {
	return &core.TransactionInfo{Id: bytes.Repeat([]byte{id}, 32), BlockNumber: n, Result: res,
		Receipt: &core.ResourceReceipt{Result: rr}, Log: logs}
}

func TestDecodeTransferLog(t *testing.T) {
	good := transferLog(usdt20, alice20, bob20, 5)
	tests := []struct {
		name string
		lg   *core.TransactionInfo_Log
		ok   bool
	}{
		{"transfer", good, true},
		{"21-byte address with prefix", &core.TransactionInfo_Log{Address: append([]byte{0x41}, usdt20[:]...), Topics: good.Topics, Data: good.Data}, true},
		{"21-byte address without prefix", &core.TransactionInfo_Log{Address: append([]byte{0x42}, usdt20[:]...), Topics: good.Topics, Data: good.Data}, false},
		{"nil", nil, false},
		{"approval topic", &core.TransactionInfo_Log{Address: usdt20[:], Topics: [][]byte{word([]byte{1}), good.Topics[1], good.Topics[2]}, Data: good.Data}, false},
		{"value indexed", &core.TransactionInfo_Log{Address: usdt20[:], Topics: append(good.Topics, good.Data)}, false},
		{"two topics", &core.TransactionInfo_Log{Address: usdt20[:], Topics: good.Topics[:2], Data: good.Data}, false},
		{"short data", &core.TransactionInfo_Log{Address: usdt20[:], Topics: good.Topics, Data: good.Data[1:]}, false},
		{"short topic", &core.TransactionInfo_Log{Address: usdt20[:], Topics: [][]byte{TransferTopic[:], good.Topics[1][1:], good.Topics[2]}, Data: good.Data}, false},
		{"short address", &core.TransactionInfo_Log{Address: usdt20[1:], Topics: good.Topics, Data: good.Data}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lt, ok := DecodeTransferLog(tt.lg)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if ok && (lt.Contract != usdt20 || lt.From != alice20 || lt.To != bob20 || lt.Amount.Int64() != 5) {
				t.Errorf("decoded %+v", lt)
			}
		})
	}
}

func TestMatcherCredits(t *testing.T) {
	m, err := newMatcher("tron", []Token{usdt})
	if err != nil {
		t.Fatal(err)
	}
	other := [20]byte{0xee}
	ok, failed := core.TransactionInfo_SUCESS, core.TransactionInfo_FAILED
	tests := []struct {
		name    string
		infos   []*core.TransactionInfo
		want    []uint32 // log indexes credited, in order
		wantErr bool
	}{
		{"success", []*core.TransactionInfo{info(1, 7, ok, core.Transaction_Result_SUCCESS, transferLog(usdt20, alice20, bob20, 5))}, []uint32{0}, false},
		{"revert with logs", []*core.TransactionInfo{info(1, 7, failed, core.Transaction_Result_REVERT, transferLog(usdt20, alice20, bob20, 5))}, nil, false},
		{"out of energy with logs", []*core.TransactionInfo{info(1, 7, failed, core.Transaction_Result_OUT_OF_ENERGY, transferLog(usdt20, alice20, bob20, 5))}, nil, false},
		{"failed info, receipt success", []*core.TransactionInfo{info(1, 7, failed, core.Transaction_Result_SUCCESS, transferLog(usdt20, alice20, bob20, 5))}, nil, false},
		{"receipt default (TRX transfer)", []*core.TransactionInfo{info(1, 7, ok, core.Transaction_Result_DEFAULT, transferLog(usdt20, alice20, bob20, 5))}, nil, false},
		{"other contract", []*core.TransactionInfo{info(1, 7, ok, core.Transaction_Result_SUCCESS, transferLog(other, alice20, bob20, 5))}, nil, false},
		{"zero amount", []*core.TransactionInfo{info(1, 7, ok, core.Transaction_Result_SUCCESS, transferLog(usdt20, alice20, bob20, 0))}, nil, false},
		{"index counts every log", []*core.TransactionInfo{info(1, 7, ok, core.Transaction_Result_SUCCESS,
			transferLog(other, alice20, bob20, 1), transferLog(usdt20, alice20, bob20, 2), transferLog(usdt20, bob20, alice20, 3))}, []uint32{1, 2}, false},
		{"wrong block", []*core.TransactionInfo{info(1, 8, ok, core.Transaction_Result_SUCCESS)}, nil, true},
		{"duplicate txid", []*core.TransactionInfo{info(1, 7, ok, core.Transaction_Result_SUCCESS), info(1, 7, ok, core.Transaction_Result_SUCCESS)}, nil, true},
		{"short txid", []*core.TransactionInfo{{Id: []byte{1}, BlockNumber: 7}}, nil, true},
		{"nil info", []*core.TransactionInfo{nil}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := m.block(tt.infos, 7, "h")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			var idx []uint32
			for _, tr := range got {
				idx = append(idx, tr.Index)
			}
			if len(idx) != len(tt.want) {
				t.Fatalf("credited log indexes %v, want %v", idx, tt.want)
			}
			for i := range idx {
				if idx[i] != tt.want[i] {
					t.Fatalf("credited log indexes %v, want %v", idx, tt.want)
				}
			}
		})
	}
}

func triggerTx(t testing.TB, owner, contract []byte, data []byte) *core.Transaction {
	param, err := anypb.New(&core.TriggerSmartContract{OwnerAddress: owner, ContractAddress: contract, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return &core.Transaction{RawData: &core.TransactionRaw{Contract: []*core.Transaction_Contract{{
		Type: core.Transaction_Contract_TriggerSmartContract, Parameter: param}}}}
}

func TestDecodeTransferCall(t *testing.T) {
	owner := append([]byte{0x41}, alice20[:]...)
	contract := append([]byte{0x41}, usdt20[:]...)
	amt := word([]byte{0x10})
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	prefixed := word(append([]byte{0x41}, bob20[:]...))
	tests := []struct {
		name     string
		tx       *core.Transaction
		from, to [20]byte
		err      bool
	}{
		{"transfer", triggerTx(t, owner, contract, cat(SelectorTransfer[:], word(bob20[:]), amt)), alice20, bob20, false},
		{"transfer with 0x41 in word", triggerTx(t, owner, contract, cat(SelectorTransfer[:], prefixed, amt)), alice20, bob20, false},
		{"transferFrom", triggerTx(t, owner, contract, cat(SelectorTransferFrom[:], word(bob20[:]), word(alice20[:]), amt)), bob20, alice20, false},
		{"approve", triggerTx(t, owner, contract, cat([]byte{0x09, 0x5e, 0xa7, 0xb3}, word(bob20[:]), amt)), alice20, bob20, true},
		{"short args", triggerTx(t, owner, contract, cat(SelectorTransfer[:], word(bob20[:]))), alice20, bob20, true},
		{"dirty word", triggerTx(t, owner, contract, cat(SelectorTransfer[:], bytes.Repeat([]byte{1}, 32), amt)), alice20, bob20, true},
		{"owner without prefix", triggerTx(t, alice20[:], contract, cat(SelectorTransfer[:], word(bob20[:]), amt)), alice20, bob20, true},
		{"empty data", triggerTx(t, owner, contract, nil), alice20, bob20, true},
		{"no contract", &core.Transaction{}, alice20, bob20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := DecodeTransferCall(tt.tx)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if err == nil && (c.From != tt.from || c.To != tt.to || c.Amount.Int64() != 0x10 || c.Contract != usdt20) {
				t.Errorf("decoded %+v", c)
			}
		})
	}
}

func TestABIString(t *testing.T) {
	dyn := bytes.Join([][]byte{word([]byte{32}), word([]byte{4}), append([]byte("USDT"), make([]byte, 28)...)}, nil)
	tests := []struct {
		name string
		in   []byte
		want string
		err  bool
	}{
		{"dynamic", dyn, "USDT", false},
		{"bytes32", append([]byte("USDT"), make([]byte, 28)...), "USDT", false},
		{"offset out of range", bytes.Join([][]byte{word([]byte{0xff}), word([]byte{4})}, nil), "", true},
		{"length out of range", bytes.Join([][]byte{word([]byte{32}), word([]byte{0xff, 0xff})}, nil), "", true},
		{"odd size", []byte{1, 2, 3}, "", true},
		{"invalid utf-8", append([]byte{0xff, 0xfe}, make([]byte, 30)...), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := abiString(tt.in)
			if (err != nil) != tt.err || got != tt.want {
				t.Errorf("abiString = %q, %v; want %q, error %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func FuzzDecodeTransferLog(f *testing.F) {
	for _, ti := range loadInfos(f, "gettransactioninfobyblocknum_30864600_getblock_docs.json") {
		for _, lg := range ti.GetLog() {
			b, _ := proto.Marshal(lg)
			f.Add(b)
		}
	}
	b, _ := proto.Marshal(transferLog(usdt20, alice20, bob20, 1))
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var lg core.TransactionInfo_Log
		if proto.Unmarshal(b, &lg) != nil {
			return
		}
		lt, ok := DecodeTransferLog(&lg)
		if ok && (lt.Amount == nil || len(lg.GetTopics()) != 3) {
			t.Fatalf("accepted %v as %+v", &lg, lt)
		}
	})
}

func FuzzBlockInfos(f *testing.F) {
	infos := loadInfos(f, "gettransactioninfobyblocknum_30864600_getblock_docs.json")
	b, _ := proto.Marshal(&api.TransactionInfoList{TransactionInfo: infos})
	f.Add(b)
	m, err := newMatcher("tron", []Token{usdt})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var list api.TransactionInfoList
		if proto.Unmarshal(b, &list) != nil {
			return
		}
		got, err := m.block(list.GetTransactionInfo(), 30864600, "h")
		if err != nil {
			return
		}
		for _, tr := range got {
			if tr.Amount.Sign() <= 0 || tr.Contract != usdt.Contract || len(tr.TxID) != 64 {
				t.Fatalf("bad transfer %+v", tr)
			}
		}
	})
}

func FuzzDecodeTransferCall(f *testing.F) {
	tx, _ := loadTx(f, "gettransactionbyid_0b9e01dd_usdt_transfer_25.json")
	b, _ := proto.Marshal(tx)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var tx core.Transaction
		if proto.Unmarshal(b, &tx) != nil {
			return
		}
		c, err := DecodeTransferCall(&tx)
		if err == nil && c.Amount == nil {
			t.Fatal("nil amount without error")
		}
	})
}

func FuzzABIString(f *testing.F) {
	f.Add(bytes.Join([][]byte{word([]byte{32}), word([]byte{4}), append([]byte("USDT"), make([]byte, 28)...)}, nil))
	f.Add(append([]byte("USDT"), make([]byte, 28)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = abiString(b)
	})
}
