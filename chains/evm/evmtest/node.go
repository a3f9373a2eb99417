// Package evmtest holds test helpers for EVM chain adapters: Node, a real
// JSON-RPC server (go-ethereum's rpc.Server over HTTP on loopback) serving a
// fixed set of blocks and logs such as the mainnet fixtures, and Proxy, a
// fault-injecting JSON-RPC proxy in front of any node. Tests only.
package evmtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// Node serves blocks, logs and token metadata over JSON-RPC: eth_blockNumber,
// eth_getBlockByNumber (numbers and the latest/safe/finalized tags),
// eth_getLogs (address and topic-0 filters, geth's beyond-head error) and
// eth_call of decimals()/symbol(). It is safe for concurrent use.
type Node struct {
	srv *httptest.Server

	mu     sync.Mutex
	blocks map[uint64]json.RawMessage
	logs   []nodeLog
	tokens map[common.Address]token
	latest uint64
	safe   uint64
	final  uint64
}

type nodeLog struct {
	raw     json.RawMessage
	address common.Address
	topic0  common.Hash
	block   uint64
}

type token struct {
	symbol   string
	decimals uint8
}

// NewNode starts an empty node on loopback; it stops when t ends.
func NewNode(t testing.TB) *Node {
	t.Helper()
	n := &Node{blocks: map[uint64]json.RawMessage{}, tokens: map[common.Address]token{}}
	srv := rpc.NewServer()
	if err := srv.RegisterName("eth", &nodeAPI{n}); err != nil {
		t.Fatalf("register eth API: %v", err)
	}
	n.srv = httptest.NewServer(srv)
	t.Cleanup(func() {
		n.srv.Close()
		srv.Stop()
	})
	return n
}

// URL is the node's HTTP JSON-RPC endpoint.
func (n *Node) URL() string { return n.srv.URL }

// AddBlock stores the raw eth_getBlockByNumber result of one block (any
// shape with a "number" field) and raises latest to it if higher.
func (n *Node) AddBlock(raw json.RawMessage) error {
	var b struct {
		Number *hexutil.Uint64 `json:"number"`
	}
	if err := json.Unmarshal(raw, &b); err != nil || b.Number == nil {
		return fmt.Errorf("block without number: %v", err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	num := uint64(*b.Number)
	n.blocks[num] = raw
	n.latest = max(n.latest, num)
	return nil
}

// AddLogs stores raw logs as eth_getLogs returns them.
func (n *Node) AddLogs(raws ...json.RawMessage) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, raw := range raws {
		var l struct {
			Address     common.Address `json:"address"`
			Topics      []common.Hash  `json:"topics"`
			BlockNumber hexutil.Uint64 `json:"blockNumber"`
		}
		if err := json.Unmarshal(raw, &l); err != nil {
			return fmt.Errorf("log: %w", err)
		}
		nl := nodeLog{raw: raw, address: l.Address, block: uint64(l.BlockNumber)}
		if len(l.Topics) > 0 {
			nl.topic0 = l.Topics[0]
		}
		n.logs = append(n.logs, nl)
	}
	return nil
}

// AddToken makes eth_call of decimals() and symbol() at addr answer these.
func (n *Node) AddToken(addr common.Address, symbol string, decimals uint8) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.tokens[addr] = token{symbol: symbol, decimals: decimals}
}

// SetHeads sets the numbers the latest, safe and finalized tags resolve to.
func (n *Node) SetHeads(latest, safe, final uint64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.latest, n.safe, n.final = latest, safe, final
}

// nodeAPI is the "eth" namespace served by Node.
type nodeAPI struct{ n *Node }

func (a *nodeAPI) ChainId() hexutil.Uint64 { return 1 }

func (a *nodeAPI) BlockNumber() hexutil.Uint64 {
	a.n.mu.Lock()
	defer a.n.mu.Unlock()
	return hexutil.Uint64(a.n.latest)
}

func (a *nodeAPI) GetBlockByNumber(num rpc.BlockNumber, full bool) (json.RawMessage, error) {
	n := a.n
	n.mu.Lock()
	defer n.mu.Unlock()
	var want uint64
	switch num {
	case rpc.LatestBlockNumber, rpc.PendingBlockNumber:
		want = n.latest
	case rpc.SafeBlockNumber:
		want = n.safe
	case rpc.FinalizedBlockNumber:
		want = n.final
	case rpc.EarliestBlockNumber:
		want = 0
	default:
		if num < 0 {
			return nil, fmt.Errorf("unsupported block tag %d", num)
		}
		want = uint64(num)
	}
	if want > n.latest {
		return json.RawMessage("null"), nil
	}
	raw, ok := n.blocks[want]
	if !ok {
		return json.RawMessage("null"), nil
	}
	return raw, nil
}

// FilterArgs is the eth_getLogs argument as Node understands it.
type FilterArgs struct {
	FromBlock *hexutil.Uint64  `json:"fromBlock"`
	ToBlock   *hexutil.Uint64  `json:"toBlock"`
	Address   []common.Address `json:"address"`
	Topics    [][]common.Hash  `json:"topics"`
}

func (a *nodeAPI) GetLogs(ctx context.Context, f FilterArgs) ([]json.RawMessage, error) {
	n := a.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if f.FromBlock == nil || f.ToBlock == nil {
		return nil, errors.New("fromBlock and toBlock are required")
	}
	from, to := uint64(*f.FromBlock), uint64(*f.ToBlock)
	if to > n.latest {
		return nil, &invalidParams{"block range extends beyond current head block"}
	}
	if from > to {
		return nil, &invalidParams{"invalid block range params"}
	}
	out := []json.RawMessage{}
	for _, l := range n.logs {
		if l.block < from || l.block > to {
			continue
		}
		if len(f.Address) > 0 && !slices.Contains(f.Address, l.address) {
			continue
		}
		if len(f.Topics) > 0 && len(f.Topics[0]) > 0 && !slices.Contains(f.Topics[0], l.topic0) {
			continue
		}
		out = append(out, l.raw)
	}
	return out, nil
}

// CallArgs is the eth_call argument as Node understands it.
type CallArgs struct {
	To   *common.Address `json:"to"`
	Data hexutil.Bytes   `json:"data"`
}

func (a *nodeAPI) Call(args CallArgs, block rpc.BlockNumberOrHash) (hexutil.Bytes, error) {
	n := a.n
	n.mu.Lock()
	defer n.mu.Unlock()
	if args.To == nil {
		return nil, errors.New("missing to")
	}
	tok, ok := n.tokens[*args.To]
	if !ok {
		return hexutil.Bytes{}, nil // no code: empty return data
	}
	switch hexutil.Encode(args.Data) {
	case "0x313ce567":
		return common.LeftPadBytes(big.NewInt(int64(tok.decimals)).Bytes(), 32), nil
	case "0x95d89b41":
		return encodeString(tok.symbol), nil
	}
	return nil, errors.New("execution reverted")
}

func encodeString(s string) []byte {
	out := common.LeftPadBytes([]byte{0x20}, 32)
	out = append(out, common.LeftPadBytes(big.NewInt(int64(len(s))).Bytes(), 32)...)
	padded := make([]byte, (len(s)+31)/32*32)
	copy(padded, s)
	return append(out, padded...)
}

// invalidParams is a JSON-RPC -32602 error, as geth sends for bad ranges.
type invalidParams struct{ msg string }

func (e *invalidParams) Error() string  { return e.msg }
func (e *invalidParams) ErrorCode() int { return -32602 }
