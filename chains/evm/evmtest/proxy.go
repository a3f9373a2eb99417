package evmtest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
)

// FaultKind is one way Proxy misbehaves.
type FaultKind int

const (
	// FaultHTTP answers the whole HTTP request with Status (default 503).
	FaultHTTP FaultKind = iota + 1
	// FaultError answers each matching request or batch element with a
	// JSON-RPC error (Code, Message) instead of forwarding it; the other
	// elements of a batch are forwarded as usual.
	FaultError
	// FaultHang holds the HTTP request open until the client gives up.
	FaultHang
	// FaultTruncate forwards the request and cuts the response body in half.
	FaultTruncate
	// FaultTooMany turns an eth_getLogs answer of more than Limit logs into
	// Infura's -32005 "query returned more than 10000 results".
	FaultTooMany
)

// Fault is one injected misbehaviour. It applies to requests whose method is
// Method ("" = any) and whose JSON params contain Param ("" = any), Times
// times (0 = until Clear).
type Fault struct {
	Kind    FaultKind
	Method  string
	Param   string
	Times   int
	Status  int
	Code    int
	Message string
	Limit   int
}

// Proxy is a JSON-RPC HTTP proxy on loopback that injects faults and can
// pretend to be a node lagging behind its upstream. It counts requests by
// method (batch elements one each).
type Proxy struct {
	srv      *httptest.Server
	upstream string
	hang     chan struct{}

	mu     sync.Mutex
	faults []*Fault
	lag    uint64
	calls  map[string]int
}

// NewProxy starts a proxy to upstream; it stops when t ends.
func NewProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	p := StartProxy(upstream)
	t.Cleanup(p.Close)
	return p
}

// StartProxy starts a proxy to upstream outside a test (the chaos
// campaign); Close stops it.
func StartProxy(upstream string) *Proxy {
	p := &Proxy{upstream: upstream, calls: map[string]int{}, hang: make(chan struct{})}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	return p
}

// Close releases held requests and stops the proxy.
func (p *Proxy) Close() {
	close(p.hang)
	p.srv.Close()
}

// URL is the proxy's endpoint.
func (p *Proxy) URL() string { return p.srv.URL }

// Inject adds a fault; faults are checked in the order added.
func (p *Proxy) Inject(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, &f)
}

// Clear removes every fault and the lag.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults, p.lag = nil, 0
}

// SetLag makes the proxy act as a node blocks behind its upstream:
// eth_blockNumber and the latest/safe tags answer head−blocks, higher block
// numbers are null and eth_getLogs past it fails as geth does.
func (p *Proxy) SetLag(blocks uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lag = blocks
}

// Calls returns the number of requests seen for method.
func (p *Proxy) Calls(method string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[method]
}

type rpcReq struct {
	JSONRPC string            `json:"jsonrpc"`
	ID      json.RawMessage   `json:"id"`
	Method  string            `json:"method"`
	Params  []json.RawMessage `json:"params"`
}

type rpcResp struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *rpcErr         `json:"error,omitempty"`
}

type rpcErr struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// take returns the first live fault of kind matching req, using one of its
// Times.
func (p *Proxy) take(kind FaultKind, req *rpcReq) *Fault {
	for _, f := range p.faults {
		if f.Kind != kind || f.Times < 0 {
			continue
		}
		if req != nil && (f.Method != "" && f.Method != req.Method) {
			continue
		}
		if req != nil && f.Param != "" && !strings.Contains(joinParams(req.Params), f.Param) {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				f.Times = -1
			}
		}
		return f
	}
	return nil
}

func joinParams(ps []json.RawMessage) string {
	var b strings.Builder
	for _, p := range ps {
		b.Write(p)
	}
	return b.String()
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	batch := bytes.HasPrefix(bytes.TrimSpace(body), []byte("["))
	var reqs []rpcReq
	if batch {
		err = json.Unmarshal(body, &reqs)
	} else {
		reqs = make([]rpcReq, 1)
		err = json.Unmarshal(body, &reqs[0])
	}
	if err != nil {
		http.Error(w, "bad json-rpc: "+err.Error(), http.StatusBadRequest)
		return
	}

	p.mu.Lock()
	for _, q := range reqs {
		p.calls[q.Method]++
	}
	var whole *Fault
	for _, k := range []FaultKind{FaultHTTP, FaultHang, FaultTruncate} {
		for i := range reqs {
			if f := p.take(k, &reqs[i]); f != nil {
				whole = f
				break
			}
		}
		if whole != nil {
			break
		}
	}
	lag := p.lag
	p.mu.Unlock()

	if whole != nil && whole.Kind == FaultHTTP {
		http.Error(w, "injected", cmp.Or(whole.Status, http.StatusServiceUnavailable))
		return
	}
	if whole != nil && whole.Kind == FaultHang {
		select {
		case <-r.Context().Done():
		case <-p.hang:
		}
		return
	}
	resps, err := p.answer(reqs, lag)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	var out []byte
	if batch {
		out, err = json.Marshal(resps)
	} else {
		out, err = json.Marshal(resps[0])
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if whole != nil && whole.Kind == FaultTruncate {
		out = out[:len(out)/2]
	}
	_, _ = w.Write(out)
}

// answer produces one response per request: injected errors and lag answers
// locally, the rest forwarded upstream as one batch.
func (p *Proxy) answer(reqs []rpcReq, lag uint64) ([]rpcResp, error) {
	resps := make([]rpcResp, len(reqs))
	var fwd []rpcReq
	var fwdAt []int
	var head uint64
	if lag > 0 {
		h, err := p.upstreamHead()
		if err != nil {
			return nil, err
		}
		head = h - min(h, lag)
	}
	p.mu.Lock()
	for i := range reqs {
		q := &reqs[i]
		resps[i] = rpcResp{JSONRPC: "2.0", ID: q.ID}
		if f := p.take(FaultError, q); f != nil {
			resps[i].Error = &rpcErr{Code: cmp.Or(f.Code, -32000), Message: cmp.Or(f.Message, "injected error")}
			continue
		}
		if lag > 0 && p.lagged(q, head, &resps[i]) {
			continue
		}
		fwd = append(fwd, *q)
		fwdAt = append(fwdAt, i)
	}
	p.mu.Unlock()
	if len(fwd) == 0 {
		return resps, nil
	}
	got, err := p.forward(fwd)
	if err != nil {
		return nil, err
	}
	byID := map[string]rpcResp{}
	for _, g := range got {
		byID[string(g.ID)] = g
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for j, i := range fwdAt {
		g, ok := byID[string(fwd[j].ID)]
		if !ok {
			return nil, fmt.Errorf("upstream did not answer id %s", fwd[j].ID)
		}
		if fwd[j].Method == "eth_getLogs" && g.Error == nil {
			var logs []json.RawMessage
			if json.Unmarshal(g.Result, &logs) == nil {
				if f := p.takeTooMany(&fwd[j], len(logs)); f != nil {
					g.Result = nil
					g.Error = &rpcErr{Code: -32005, Message: "query returned more than 10000 results"}
				}
			}
		}
		resps[i] = g
	}
	return resps, nil
}

func (p *Proxy) takeTooMany(q *rpcReq, n int) *Fault {
	for _, f := range p.faults {
		if f.Kind == FaultTooMany && f.Times >= 0 && n > f.Limit {
			return p.take(FaultTooMany, q)
		}
	}
	return nil
}

// lagged answers q as a node whose head is head would, reporting whether it
// did; requests that need no change are left to forward.
func (p *Proxy) lagged(q *rpcReq, head uint64, resp *rpcResp) bool {
	switch q.Method {
	case "eth_blockNumber":
		resp.Result, _ = json.Marshal(hexutil.Uint64(head))
		return true
	case "eth_getBlockByNumber":
		if len(q.Params) == 0 {
			return false
		}
		var tag string
		_ = json.Unmarshal(q.Params[0], &tag)
		switch tag {
		case "latest", "safe", "pending":
			q.Params[0], _ = json.Marshal(hexutil.Uint64(head))
			return false
		case "finalized", "earliest":
			return false
		}
		n, err := hexutil.DecodeUint64(tag)
		if err == nil && n > head {
			resp.Result = json.RawMessage("null")
			return true
		}
	case "eth_getLogs":
		if len(q.Params) == 0 {
			return false
		}
		var f struct {
			ToBlock string `json:"toBlock"`
		}
		_ = json.Unmarshal(q.Params[0], &f)
		n, err := hexutil.DecodeUint64(f.ToBlock)
		if err == nil && n > head {
			resp.Error = &rpcErr{Code: -32602, Message: "invalid params: block range extends beyond current head block"}
			return true
		}
	}
	return false
}

func (p *Proxy) upstreamHead() (uint64, error) {
	got, err := p.forward([]rpcReq{{JSONRPC: "2.0", ID: json.RawMessage(`"head"`), Method: "eth_blockNumber"}})
	if err != nil {
		return 0, err
	}
	var n hexutil.Uint64
	if len(got) != 1 || got[0].Error != nil || json.Unmarshal(got[0].Result, &n) != nil {
		return 0, fmt.Errorf("upstream eth_blockNumber: bad answer")
	}
	return uint64(n), nil
}

func (p *Proxy) forward(reqs []rpcReq) ([]rpcResp, error) {
	body, err := json.Marshal(reqs)
	if err != nil {
		return nil, err
	}
	resp, err := http.Post(p.upstream, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	var out []rpcResp
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("upstream answer: %w", err)
	}
	return out, nil
}
