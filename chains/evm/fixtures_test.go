package evm

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/depositd/depositd/chains/evm/evmtest"
	"github.com/depositd/depositd/internal/fixtures"
)

var (
	ethUSDT = Token{Symbol: "USDT", Contract: common.HexToAddress("0xdAC17F958D2ee523a2206206994597C13D831ec7"), Decimals: 6}
	ethUSDC = Token{Symbol: "USDC", Contract: common.HexToAddress("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"), Decimals: 6}
	bscUSDT = Token{Symbol: "USDT", Contract: common.HexToAddress("0x55d398326f99059fF775485246999027B3197955"), Decimals: 18}
	bscUSDC = Token{Symbol: "USDC", Contract: common.HexToAddress("0x8AC76a51cc950d9822D68b83fE1Ad97B32Cd580d"), Decimals: 18}
)

const (
	ethBlock     = 17053184
	ethBlockHash = "0x79ffaa2840f06eee8f41c61670b132382a988612b25b9a7deca0bea0691db491"
	bscBlock     = 0x2b87eed
)

// readFixture returns a fixture's JSON, unwrapping a JSON-RPC envelope.
func readFixture(t testing.TB, rel string) json.RawMessage {
	t.Helper()
	dir, name := filepath.Split(rel)
	b := fixtures.Read(t, filepath.Clean(dir), name)
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if json.Unmarshal(b, &env) == nil && len(env.Result) > 0 {
		return env.Result
	}
	return b
}

// receiptLogs returns every log of the given receipts JSON (one receipt or
// an array of them).
func receiptLogs(t testing.TB, raw json.RawMessage) []json.RawMessage {
	t.Helper()
	type receipt struct {
		Logs []json.RawMessage `json:"logs"`
	}
	var many []receipt
	if err := json.Unmarshal(raw, &many); err != nil {
		var one receipt
		if err := json.Unmarshal(raw, &one); err != nil {
			t.Fatalf("receipts: %v", err)
		}
		many = []receipt{one}
	}
	var logs []json.RawMessage
	for _, r := range many {
		logs = append(logs, r.Logs...)
	}
	return logs
}

// ethNode serves Ethereum block 17053184 and its 216 logs.
func ethNode(t testing.TB) *evmtest.Node {
	t.Helper()
	n := evmtest.NewNode(t)
	if err := n.AddBlock(readFixture(t, "ethereum/eth_getBlockByNumber_17053184_fulltx.json")); err != nil {
		t.Fatal(err)
	}
	if err := n.AddLogs(receiptLogs(t, readFixture(t, "ethereum/receipts_block_17053184.json"))...); err != nil {
		t.Fatal(err)
	}
	n.SetHeads(ethBlock, ethBlock, ethBlock)
	n.AddToken(ethUSDT.Contract, "USDT", 6)
	n.AddToken(ethUSDC.Contract, "USDC", 6)
	return n
}

// bscNode serves BSC block 45645549 and the logs of receipt 0xa08ff8cf.
func bscNode(t testing.TB) *evmtest.Node {
	t.Helper()
	n := evmtest.NewNode(t)
	if err := n.AddBlock(readFixture(t, "bsc/eth_getBlockByNumber_45645549_fulltx.json")); err != nil {
		t.Fatal(err)
	}
	if err := n.AddLogs(receiptLogs(t, readFixture(t, "bsc/eth_getTransactionReceipt_0xa08ff8cf_usdt_10.json"))...); err != nil {
		t.Fatal(err)
	}
	n.SetHeads(45645549, 45645549, 45645549)
	n.AddToken(bscUSDT.Contract, "USDT", 18)
	n.AddToken(bscUSDC.Contract, "USDC", 18)
	return n
}

// newClient builds a client for tests with fast backoff.
func newClient(t testing.TB, chain string, tokens []Token, urls ...string) *Client {
	t.Helper()
	c, err := New(Config{
		Chain:      chain,
		Tokens:     tokens,
		Endpoints:  urls,
		MinBackoff: 1e6, // 1ms
		MaxBackoff: 8e6,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}
