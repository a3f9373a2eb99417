package tron

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/depositd/depositd/chains/address"
	"github.com/depositd/depositd/internal/fixtures"
	"github.com/fbsobreira/gotron-sdk/pkg/proto/core"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// usdt is mainnet USDT-TRC20.
var usdt = Token{Symbol: "USDT", Contract: "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", Decimals: 6}

// hexBytes is a JSON string of hex digits, as java-tron's HTTP API writes bytes.
type hexBytes []byte

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := hex.DecodeString(s)
	*h = v
	return err
}

type httpTx struct {
	Ret []struct {
		ContractRet string `json:"contractRet"`
	} `json:"ret"`
	Signature []hexBytes `json:"signature"`
	TxID      hexBytes   `json:"txID"`
	RawData   struct {
		Contract []struct {
			Parameter struct {
				Value struct {
					Data            hexBytes `json:"data"`
					OwnerAddress    hexBytes `json:"owner_address"`
					ContractAddress hexBytes `json:"contract_address"`
				} `json:"value"`
				TypeURL string `json:"type_url"`
			} `json:"parameter"`
			Type string `json:"type"`
		} `json:"contract"`
		RefBlockBytes hexBytes `json:"ref_block_bytes"`
		RefBlockHash  hexBytes `json:"ref_block_hash"`
		Expiration    int64    `json:"expiration"`
		FeeLimit      int64    `json:"fee_limit"`
		Timestamp     int64    `json:"timestamp"`
	} `json:"raw_data"`
	RawDataHex hexBytes `json:"raw_data_hex"`
}

type httpInfo struct {
	ID              hexBytes   `json:"id"`
	BlockNumber     int64      `json:"blockNumber"`
	BlockTimeStamp  int64      `json:"blockTimeStamp"`
	ContractResult  []hexBytes `json:"contractResult"`
	ContractAddress hexBytes   `json:"contract_address"`
	Result          string     `json:"result"`
	Log             []struct {
		Address hexBytes   `json:"address"`
		Data    hexBytes   `json:"data"`
		Topics  []hexBytes `json:"topics"`
	} `json:"log"`
	Receipt struct {
		EnergyUsage       int64  `json:"energy_usage"`
		EnergyUsageTotal  int64  `json:"energy_usage_total"`
		NetUsage          int64  `json:"net_usage"`
		OriginEnergyUsage int64  `json:"origin_energy_usage"`
		Result            string `json:"result"`
	} `json:"receipt"`
}

func readJSON(t testing.TB, name string, v any) {
	t.Helper()
	b := fixtures.Read(t, "tron", name)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// loadTx builds the core.Transaction the gRPC API returns for the HTTP JSON.
func loadTx(t testing.TB, name string) (*core.Transaction, httpTx) {
	t.Helper()
	var h httpTx
	readJSON(t, name, &h)
	raw := &core.TransactionRaw{
		RefBlockBytes: h.RawData.RefBlockBytes,
		RefBlockHash:  h.RawData.RefBlockHash,
		Expiration:    h.RawData.Expiration,
		FeeLimit:      h.RawData.FeeLimit,
		Timestamp:     h.RawData.Timestamp,
	}
	for _, c := range h.RawData.Contract {
		v := c.Parameter.Value
		param, err := anypb.New(&core.TriggerSmartContract{OwnerAddress: v.OwnerAddress, ContractAddress: v.ContractAddress, Data: v.Data})
		if err != nil {
			t.Fatal(err)
		}
		typ, ok := core.Transaction_Contract_ContractType_value[c.Type]
		if !ok {
			t.Fatalf("contract type %q", c.Type)
		}
		raw.Contract = append(raw.Contract, &core.Transaction_Contract{Type: core.Transaction_Contract_ContractType(typ), Parameter: param})
	}
	tx := &core.Transaction{RawData: raw}
	for _, s := range h.Signature {
		tx.Signature = append(tx.Signature, s)
	}
	for _, r := range h.Ret {
		tx.Ret = append(tx.Ret, &core.Transaction_Result{ContractRet: core.Transaction_ResultContractResult(core.Transaction_ResultContractResult_value[r.ContractRet])})
	}
	return tx, h
}

// loadInfos builds the core.TransactionInfo list of the HTTP JSON.
func loadInfos(t testing.TB, name string) []*core.TransactionInfo {
	t.Helper()
	var hs []httpInfo
	readJSON(t, name, &hs)
	var out []*core.TransactionInfo
	for _, h := range hs {
		ti := &core.TransactionInfo{
			Id: h.ID, BlockNumber: h.BlockNumber, BlockTimeStamp: h.BlockTimeStamp, ContractAddress: h.ContractAddress,
			Receipt: &core.ResourceReceipt{
				EnergyUsage: h.Receipt.EnergyUsage, EnergyUsageTotal: h.Receipt.EnergyUsageTotal,
				NetUsage: h.Receipt.NetUsage, OriginEnergyUsage: h.Receipt.OriginEnergyUsage,
			},
		}
		if h.Receipt.Result != "" {
			v, ok := core.Transaction_ResultContractResult_value[h.Receipt.Result]
			if !ok {
				t.Fatalf("receipt result %q", h.Receipt.Result)
			}
			ti.Receipt.Result = core.Transaction_ResultContractResult(v)
		}
		if h.Result != "" {
			ti.Result = core.TransactionInfoCode(core.TransactionInfoCode_value[h.Result])
		}
		for _, r := range h.ContractResult {
			ti.ContractResult = append(ti.ContractResult, r)
		}
		for _, l := range h.Log {
			lg := &core.TransactionInfo_Log{Address: l.Address, Data: l.Data}
			for _, tp := range l.Topics {
				lg.Topics = append(lg.Topics, tp)
			}
			ti.Log = append(ti.Log, lg)
		}
		out = append(out, ti)
	}
	return out
}

func TestFixtureTransferCall(t *testing.T) {
	tx, h := loadTx(t, "gettransactionbyid_0b9e01dd_usdt_transfer_25.json")

	t.Run("raw data matches raw_data_hex and txID", func(t *testing.T) {
		var fromHex core.TransactionRaw
		if err := proto.Unmarshal(h.RawDataHex, &fromHex); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(&fromHex, tx.GetRawData()) {
			t.Fatalf("JSON raw_data differs from raw_data_hex:\n%v\n%v", tx.GetRawData(), &fromHex)
		}
		sum := sha256.Sum256(h.RawDataHex)
		if hex.EncodeToString(sum[:]) != hex.EncodeToString(h.TxID) {
			t.Fatalf("sha256(raw_data) = %x, txID %x", sum, h.TxID)
		}
	})
	t.Run("decodes the 25 USDT transfer", func(t *testing.T) {
		c, err := DecodeTransferCall(tx)
		if err != nil {
			t.Fatal(err)
		}
		if got := address.TronFromEVMBytes(c.To[:]); got != "TL1mBABLk68nZwt92dgGc43p5uk1j3YtY9" {
			t.Errorf("to = %s", got)
		}
		if got := address.TronFromEVMBytes(c.Contract[:]); got != usdt.Contract {
			t.Errorf("contract = %s", got)
		}
		if c.Amount.String() != "25000000" || c.Selector != SelectorTransfer || c.From != c.Owner {
			t.Errorf("amount %s selector %x from %x owner %x", c.Amount, c.Selector, c.From, c.Owner)
		}
		if tx.GetRet()[0].GetContractRet() != core.Transaction_Result_SUCCESS {
			t.Errorf("ret = %v", tx.GetRet())
		}
	})
}

func TestFixtureBlockInfos(t *testing.T) {
	infos := loadInfos(t, "gettransactioninfobyblocknum_30864600_getblock_docs.json")
	m, err := newMatcher("tron", []Token{usdt})
	if err != nil {
		t.Fatal(err)
	}
	const hash = "0000000001d6f5d8aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	got, err := m.block(infos, 30864600, hash)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d transfers, want 1 (the TRX entry ignored): %+v", len(got), got)
	}
	tr := got[0]
	checks := []struct{ name, got, want string }{
		{"id", tr.ID(), "tron:0af79242191c6728b79e858a36a4b5c65e4e52b9fcee4dc5af30eac57b6d0953:0"},
		{"to", tr.To, "TBA6CypYJizwA9XdC7Ubgc5F1bxrQ7SqPt"},
		{"from", tr.From, "TWpZXLfsvVuQuJZLkdWNY7XY2teePqPpz7"},
		{"amount", tr.Amount.String(), "532079999"},
		{"contract", tr.Contract, usdt.Contract},
		{"token", tr.Token, "USDT"},
		{"hash", tr.BlockHash, hash},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("%s = %s, want %s", c.name, c.got, c.want)
			}
		})
	}
	t.Run("keys", func(t *testing.T) {
		_, k, err := address.ParseTron("TBA6CypYJizwA9XdC7Ubgc5F1bxrQ7SqPt")
		if err != nil || k != tr.ToKey {
			t.Errorf("ToKey %x, want %x (%v)", tr.ToKey, k, err)
		}
		if tr.Block != 30864600 || tr.Decimals != 6 {
			t.Errorf("block %d decimals %d", tr.Block, tr.Decimals)
		}
	})
	t.Run("log address is 20 bytes", func(t *testing.T) {
		if n := len(infos[1].GetLog()[0].GetAddress()); n != 20 {
			t.Errorf("log address of %d bytes", n)
		}
	})
}
