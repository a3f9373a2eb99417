package solnet

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"

	"github.com/gagliardetto/solana-go"
)

// maxBody bounds one request body.
const maxBody = 1 << 20

type request struct {
	JSONRPC string            `json:"jsonrpc"`
	ID      json.RawMessage   `json:"id"`
	Method  string            `json:"method"`
	Params  []json.RawMessage `json:"params"`
}

type rpcErr struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	Result  any             `json:"result,omitempty"`
	Error   *rpcErr         `json:"error,omitempty"`
	ID      json.RawMessage `json:"id"`
}

// nullResult marshals as a JSON null result (omitempty would drop a nil).
type nullResult struct{}

func (nullResult) MarshalJSON() ([]byte, error) { return []byte("null"), nil }

func errf(code int, format string, args ...any) *rpcErr {
	return &rpcErr{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (n *Node) handler(ep int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		var reqs []request
		batch := len(body) > 0 && body[0] == '['
		if batch {
			err = json.Unmarshal(body, &reqs)
		} else {
			var one request
			err = json.Unmarshal(body, &one)
			reqs = []request{one}
		}
		if err != nil {
			writeJSON(w, response{JSONRPC: "2.0", Error: errf(-32700, "Parse error"), ID: json.RawMessage("null")})
			return
		}
		out := make([]response, 0, len(reqs))
		for _, req := range reqs {
			if n.opts.OnCall != nil {
				n.opts.OnCall(ep, req.Method)
			}
			res, status := n.serve(ep, req)
			if status != 0 {
				http.Error(w, http.StatusText(status), status)
				return
			}
			out = append(out, res)
		}
		if batch {
			writeJSON(w, out)
			return
		}
		writeJSON(w, out[0])
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// serve answers one request, applying listener ep's fault; a non-zero
// status is an HTTP-level failure.
func (n *Node) serve(ep int, req request) (response, int) {
	n.mu.Lock()
	locked := true
	defer func() {
		if locked {
			n.mu.Unlock()
		}
	}()
	n.calls[ep][req.Method]++
	res := response{JSONRPC: "2.0", ID: req.ID}
	var lag uint64
	if f := n.faults[ep]; f != nil && (len(f.Methods) == 0 || slices.Contains(f.Methods, req.Method)) {
		if f.Calls > 0 {
			if f.Calls--; f.Calls == 0 {
				n.faults[ep] = nil
			}
		}
		lag = f.Lag
		switch {
		case f.HTTPStatus != 0:
			return res, f.HTTPStatus
		case f.Code != 0:
			res.Error = errf(f.Code, "injected error %d", f.Code)
			return res, 0
		case f.NullBlock && req.Method == "getBlock":
			res.Result = nullResult{}
			return res, 0
		}
	}
	v := view{c: n.chain, lag: lag, opts: &n.opts}
	if req.Method == "getBlock" {
		b, cfg, e := v.findBlock(req.Params)
		n.mu.Unlock()
		locked = false
		if e != nil {
			res.Error = e
			return res, 0
		}
		res.Result = renderBlock(b, cfg, &n.opts)
		return res, 0
	}
	result, e := v.call(req.Method, req.Params)
	if e != nil {
		res.Error = e
		return res, 0
	}
	if result == nil {
		result = nullResult{}
	}
	res.Result = result
	return res, 0
}

// view is the ledger as one listener sees it (lag slots behind).
type view struct {
	c    *chain
	lag  uint64
	opts *Options
}

func (v view) confirmed() uint64 {
	tip := v.c.confirmed()
	if v.lag == 0 {
		return tip
	}
	s := v.c.slotsIn(0, tip-min(tip, v.lag))
	return s[len(s)-1]
}

func (v view) finalized() uint64 { return min(v.c.finalized(), v.confirmed()) }

// commitment reads the optional config object at params[i]; the default
// is finalized, as on real nodes.
func commitment(params []json.RawMessage, i int) (string, *rpcErr) {
	cfg := struct {
		Commitment string `json:"commitment"`
	}{}
	if i < len(params) {
		if err := json.Unmarshal(params[i], &cfg); err != nil {
			return "", errf(-32602, "Invalid params: %v", err)
		}
	}
	switch cfg.Commitment {
	case "", "finalized", "max", "root":
		return "finalized", nil
	case "confirmed", "processed", "single", "singleGossip", "recent":
		if cfg.Commitment == "processed" || cfg.Commitment == "recent" {
			return "processed", nil
		}
		return "confirmed", nil
	}
	return "", errf(-32602, "Invalid params: unknown commitment %q", cfg.Commitment)
}

func (v view) slotAt(c string) uint64 {
	if c == "finalized" {
		return v.finalized()
	}
	return v.confirmed()
}

func (v view) call(method string, params []json.RawMessage) (any, *rpcErr) {
	switch method {
	case "getSlot":
		c, e := commitment(params, 0)
		if e != nil {
			return nil, e
		}
		return v.slotAt(c), nil
	case "getBlocks":
		return v.getBlocks(params)
	case "getAccountInfo":
		return v.getAccountInfo(params)
	case "getSignatureStatuses":
		return v.getSignatureStatuses(params)
	case "getHealth":
		return "ok", nil
	case "getVersion":
		return map[string]any{"feature-set": 3294202862, "solana-core": "2.2.20"}, nil
	}
	return nil, errf(-32601, "Method not found")
}

func (v view) getBlocks(params []json.RawMessage) (any, *rpcErr) {
	var start, end uint64
	if len(params) == 0 || json.Unmarshal(params[0], &start) != nil {
		return nil, errf(-32602, "Invalid params: start slot")
	}
	cfgAt := 1
	end = ^uint64(0)
	if len(params) > 1 && json.Unmarshal(params[1], &end) == nil {
		cfgAt = 2
	}
	c, e := commitment(params, cfgAt)
	if e != nil {
		return nil, e
	}
	if c == "processed" {
		return nil, errf(-32602, "Method does not support commitment below `confirmed`")
	}
	var ctxCfg struct {
		MinContextSlot *uint64 `json:"minContextSlot"`
	}
	if cfgAt < len(params) {
		_ = json.Unmarshal(params[cfgAt], &ctxCfg) // shape checked by commitment above
	}
	if ctxCfg.MinContextSlot != nil && *ctxCfg.MinContextSlot > v.slotAt(c) {
		return nil, errf(-32016, "Minimum context slot has not been reached")
	}
	end = min(end, v.slotAt(c))
	if end >= start && end-start > 500_000 {
		return nil, errf(-32602, "Slot range too large; max 500000")
	}
	out := []uint64{}
	if end >= start {
		out = append(out, v.c.slotsIn(start, end)...)
	}
	return out, nil
}

func (v view) getSignatureStatuses(params []json.RawMessage) (any, *rpcErr) {
	var sigs []string
	if len(params) == 0 || json.Unmarshal(params[0], &sigs) != nil {
		return nil, errf(-32602, "Invalid params: signatures")
	}
	if len(sigs) > 256 {
		return nil, errf(-32602, "Too many inputs provided; max 256")
	}
	conf, final := v.confirmed(), v.finalized()
	out := make([]any, len(sigs))
	for i, s := range sigs {
		sg, err := solana.SignatureFromBase58(s)
		if err != nil {
			return nil, errf(-32602, "Invalid param: %v", err)
		}
		slot, ok := v.c.sigs[sg]
		if !ok || slot > conf {
			continue
		}
		t := v.c.findTx(slot, sg)
		st := map[string]any{"slot": slot, "err": t.err, "status": status(t), "confirmationStatus": "confirmed",
			"confirmations": len(v.c.slotsIn(slot+1, conf))}
		if slot <= final {
			st["confirmationStatus"], st["confirmations"] = "finalized", nil
		}
		out[i] = st
	}
	return map[string]any{"context": map[string]any{"apiVersion": "2.2.20", "slot": conf}, "value": out}, nil
}

func (c *chain) findTx(slot uint64, sg solana.Signature) *tx {
	for _, t := range c.blocks[slot].txs {
		if t.sig == sg {
			return t
		}
	}
	return nil
}

func status(t *tx) map[string]any {
	if t.err != nil {
		return map[string]any{"Err": t.err}
	}
	return map[string]any{"Ok": nil}
}
