package solana

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/depositd/depositd/internal/devnet/solnet"
)

// rawCall posts one JSON-RPC request and returns its result.
func rawCall(t *testing.T, url, method string, params ...any) json.RawMessage {
	t.Helper()
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	must(t, err)
	resp, err := http.Post(url, "application/json", bytes.NewReader(body))
	must(t, err)
	defer resp.Body.Close()
	var env struct {
		Result json.RawMessage `json:"result"`
		Error  json.RawMessage `json:"error"`
	}
	must(t, json.NewDecoder(resp.Body).Decode(&env))
	if env.Error != nil {
		t.Fatalf("%s: %s", method, env.Error)
	}
	return env.Result
}

// TestNodeBlocksDecodeLikeMainnet runs the node's getBlock answers, in
// accounts mode and full jsonParsed like the mainnet fixture, through the
// fixtures' decoder and delta rule.
func TestNodeBlocksDecodeLikeMainnet(t *testing.T) {
	n := startNet(t, solnet.Options{})
	wallet := n.node.NewWallet()
	okSig, err := n.node.Transfer(usdcMint, n.sender, wallet, 100_000)
	must(t, err)
	failSig, err := n.node.FailedTransfer(usdcMint, n.sender, n.node.NewWallet(), 1)
	must(t, err)
	slot := n.node.Mine()
	m := newMatcher(n.mints, nil)
	for _, details := range []string{"accounts", "full"} {
		t.Run(details, func(t *testing.T) {
			raw := rawCall(t, n.node.URL(), "getBlock", slot, map[string]any{"encoding": "jsonParsed", "transactionDetails": details,
				"maxSupportedTransactionVersion": 0, "rewards": false, "commitment": "confirmed"})
			var shape map[string]json.RawMessage
			must(t, json.Unmarshal(raw, &shape))
			if _, ok := shape["rewards"]; ok {
				t.Error("rewards present with rewards:false")
			}
			var txs []struct {
				Transaction, Meta map[string]json.RawMessage
				Version           string
			}
			must(t, json.Unmarshal(shape["transactions"], &txs))
			_, inMessage := txs[0].Transaction["message"]
			_, logs := txs[0].Meta["logMessages"]
			if txs[0].Version != "legacy" {
				t.Errorf("version %q; want legacy", txs[0].Version)
			}
			if inMessage != (details == "full") || logs != (details == "full") {
				t.Errorf("keys in message %v, logs %v: wrong shape for %s", inMessage, logs, details)
			}
			b, err := decodeBlock(raw)
			must(t, err)
			if len(b.txs) != 2 || b.txs[0].sig != okSig || b.txs[1].sig != failSig || b.txs[0].failed || !b.txs[1].failed {
				t.Fatalf("decoded txs %+v; want %s ok, %s failed", b.txs, okSig, failSig)
			}
			credits, _, err := m.deltas(&b.txs[0])
			must(t, err)
			if len(credits) != 1 || credits[0].amount != 100_000 || credits[0].owner.text != wallet.String() {
				t.Fatalf("credits %+v", credits)
			}
		})
	}
	t.Run("skipped and future slots answer with agave's codes", func(t *testing.T) {
		n.node.Skip(2)
		next := n.node.Mine()
		for slot, code := range map[uint64]int{next - 1: -32007, next + 1: -32004} {
			body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"getBlock","params":[%d,{"commitment":"confirmed"}]}`, slot)
			resp, err := http.Post(n.node.URL(), "application/json", bytes.NewReader([]byte(body)))
			must(t, err)
			var env struct {
				Error struct{ Code int } `json:"error"`
			}
			must(t, json.NewDecoder(resp.Body).Decode(&env))
			resp.Body.Close()
			if env.Error.Code != code {
				t.Errorf("getBlock(%d) code %d; want %d", slot, env.Error.Code, code)
			}
		}
	})
}
