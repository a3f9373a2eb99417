package evm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/evm/evmtest"
)

func TestTransfersEthereumFixture(t *testing.T) {
	n := ethNode(t)
	c := newClient(t, "ethereum", []Token{ethUSDT, ethUSDC}, n.URL())
	got, err := c.Transfers(context.Background(), ethBlock, ethBlock)
	if err != nil {
		t.Fatal(err)
	}
	idx := map[string][]uint32{}
	byIndex := map[uint32]chains.Transfer{}
	for _, tr := range got {
		idx[tr.Token] = append(idx[tr.Token], tr.Index)
		byIndex[tr.Index] = tr
		if tr.BlockHash != ethBlockHash || tr.Block != ethBlock || tr.Chain != "ethereum" || tr.Decimals != 6 {
			t.Errorf("log %d: position %s/%d/%s decimals %d", tr.Index, tr.BlockHash, tr.Block, tr.Chain, tr.Decimals)
		}
		if len(tr.TxID) != 66 || tr.Amount.Sign() <= 0 {
			t.Errorf("log %d: txid %q amount %v", tr.Index, tr.TxID, tr.Amount)
		}
	}
	if want := []uint32{10, 36, 58, 77, 78, 79, 80, 101, 102, 116, 162, 207}; !slices.Equal(idx["USDT"], want) {
		t.Errorf("USDT log indexes %v, want %v", idx["USDT"], want)
	}
	if want := []uint32{62, 108, 134}; !slices.Equal(idx["USDC"], want) {
		t.Errorf("USDC log indexes %v, want %v", idx["USDC"], want)
	}
	for _, tc := range []struct {
		name     string
		index    uint32
		token    string
		amount   string
		from, to string
		txPrefix string
	}{
		{"500 USDT", 58, "USDT", "500000000", "0x0e747eb2ff0f26fb77c3a1ea67ee07fac2dbb783", "0x9e96e6f92d132a82ea8024682a633cc7d0f5c4c3", "0x80cbf946"},
		{"5600 USDT", 80, "USDT", "5600000000", "", "", ""},
		{"5500 USDC", 108, "USDC", "5500000000", "0x9cda5ef0618332f6545dc72155d99ba69cc6db0a", "0x1a3429c219a324d82406e5bf867efa77ff58c94f", "0x8dc34977"},
		{"USDC 134", 134, "USDC", "122914927009", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, ok := byIndex[tc.index]
			if !ok {
				t.Fatalf("log %d missing", tc.index)
			}
			if tr.Token != tc.token || tr.Amount.String() != tc.amount {
				t.Errorf("got %s %s, want %s %s", tr.Amount, tr.Token, tc.amount, tc.token)
			}
			if tc.from != "" && (!strings.EqualFold(tr.From, tc.from) || !strings.EqualFold(tr.To, tc.to)) {
				t.Errorf("got %s → %s, want %s → %s", tr.From, tr.To, tc.from, tc.to)
			}
			if tc.to != "" && tr.ToKey != AddrKey(common.HexToAddress(tc.to)) {
				t.Errorf("ToKey %x does not match %s", tr.ToKey, tc.to)
			}
			if tc.txPrefix != "" && !strings.HasPrefix(tr.TxID, tc.txPrefix) {
				t.Errorf("tx %s, want prefix %s", tr.TxID, tc.txPrefix)
			}
		})
	}
	// Reverted transactions (tx index 17, 90, 113, 117) emit no logs, so no
	// transfer may come from them.
	var receipts []struct {
		Status  string `json:"status"`
		TxHash  string `json:"transactionHash"`
		TxIndex string `json:"transactionIndex"`
	}
	if err := json.Unmarshal(readFixture(t, "ethereum/receipts_block_17053184.json"), &receipts); err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, r := range receipts {
		if r.Status == "0x0" {
			failed = append(failed, r.TxIndex)
			for _, tr := range got {
				if strings.EqualFold(tr.TxID, r.TxHash) {
					t.Errorf("transfer %d from reverted tx %s", tr.Index, r.TxHash)
				}
			}
		}
	}
	if want := []string{"0x11", "0x5a", "0x71", "0x75"}; !slices.Equal(failed, want) {
		t.Errorf("reverted txs at %v, want %v", failed, want)
	}
	// The client knows no head yet: one eth_blockNumber, then one eth_getLogs.
	if r := c.Requests(); r != 2 {
		t.Errorf("requests %d, want eth_blockNumber + eth_getLogs", r)
	}
}

// TestDecodeRangeRejectsNonTransfers feeds every log of the block, as a node
// ignoring the address and topic filter would, straight to the decoder.
func TestDecodeRangeRejectsNonTransfers(t *testing.T) {
	logs := receiptLogs(t, readFixture(t, "ethereum/receipts_block_17053184.json"))
	if len(logs) != 216 {
		t.Fatalf("fixture has %d logs, want 216", len(logs))
	}
	type drop struct {
		token  string
		reason DropReason
	}
	drops := map[drop]int{}
	c, err := New(Config{Chain: "ethereum", Tokens: []Token{ethUSDT, ethUSDC}, Endpoints: []string{"http://127.0.0.1:1"},
		OnDrop: func(token string, r DropReason) { drops[drop{token, r}]++ }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	typed := make([]rpcLog, len(logs))
	for i, raw := range logs {
		if err := json.Unmarshal(raw, &typed[i]); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.decodeRange(ethBlock, ethBlock, typed)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 15 {
		t.Errorf("%d transfers, want 12 USDT + 3 USDC", len(got))
	}
	if n := drops[drop{"USDT", DropNotTransfer}]; n != 3 {
		t.Errorf("USDT non-Transfer logs dropped %d, want the 3 Approvals", n)
	}
	if n := drops[drop{"", DropUnknownContract}]; n != 216-15-3 {
		t.Errorf("unknown-contract drops %d, want %d", n, 216-15-3)
	}
	if d := c.Dropped(); d[DropNotTransfer] != 3 {
		t.Errorf("Dropped() = %v", d)
	}
}

func TestTransfersBSCFixture(t *testing.T) {
	n := bscNode(t)
	c := newClient(t, "bsc", []Token{bscUSDT, bscUSDC}, n.URL())
	got, err := c.Transfers(context.Background(), bscBlock, bscBlock)
	if err != nil {
		t.Fatal(err)
	}
	ten := new(big.Int).Exp(big.NewInt(10), big.NewInt(19), nil) // 10 × 1e18
	want := []struct {
		index uint32
		to    string
	}{{68, "0xc590175e458b83680867afd273527ff58f74c02b"}, {70, "0x111bb8c3542f2b92fb41b8d913c01d3788431111"}}
	if len(got) != len(want) {
		t.Fatalf("%d transfers, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		tr := got[i]
		if tr.Index != w.index || !strings.EqualFold(tr.To, w.to) || tr.Amount.Cmp(ten) != 0 || tr.Decimals != 18 || tr.Token != "USDT" {
			t.Errorf("transfer %d: index %d to %s amount %s decimals %d token %s", i, tr.Index, tr.To, tr.Amount, tr.Decimals, tr.Token)
		}
	}
	if got[0].ID() == got[1].ID() {
		t.Errorf("two deposits of one tx share id %s", got[0].ID())
	}
	if id := got[0].ID(); id != fmt.Sprintf("bsc:%s:68", got[0].TxID) || !strings.HasPrefix(got[0].TxID, "0xa08ff8cf") {
		t.Errorf("id %s", id)
	}
}

func TestHeadersAndHeadsFixtures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		node   func(testing.TB) *evmtest.Node
		num    uint64
		hash   string
		parent string
		time   int64
	}{
		{"ethereum", ethNode, ethBlock, ethBlockHash, "0x9b0703bdc0ba555c61161ae096a526c34299c6d71bc9fc7cb56970e46600eb87", 0x643abdab},
		{"bsc", bscNode, 45645549, "0xc15c85fb302a1dcb23bf6280dca2d09d5e9c43a8234d3abbe9b839bd4cf76b00", "0x26e5c635eb3907c12bd2255191b356269a427ac9c2d3b6afe97cb5ba26b38fa8", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.node(t)
			c := newClient(t, tc.name, []Token{ethUSDT}, n.URL())
			hs, err := c.Headers(context.Background(), tc.num, tc.num)
			if err != nil {
				t.Fatal(err)
			}
			if len(hs) != 1 || hs[0].Number != tc.num || hs[0].Hash != tc.hash || hs[0].Parent != tc.parent || hs[0].Time <= 0 {
				t.Fatalf("headers %+v, want number %d hash %s parent %s", hs, tc.num, tc.hash, tc.parent)
			}
			if tc.time != 0 && hs[0].Time != tc.time {
				t.Errorf("time %d, want %d", hs[0].Time, tc.time)
			}
			heads, err := c.Heads(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if heads != (chains.Heads{Latest: tc.num, Safe: tc.num, Final: tc.num}) {
				t.Errorf("heads %+v", heads)
			}
			_, err = c.Headers(context.Background(), tc.num, tc.num+1)
			if !errors.Is(err, chains.ErrNotFound) {
				t.Errorf("block above head: err %v, want ErrNotFound", err)
			}
		})
	}
}
