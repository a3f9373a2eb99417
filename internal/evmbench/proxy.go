package evmbench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
)

// MethodCounter is a loopback JSON-RPC HTTP proxy that counts the calls
// passing through by method, each batch element counted once, so a run can
// say which calls its requests per block are made of.
type MethodCounter struct {
	srv *httptest.Server

	mu     sync.Mutex
	counts map[string]uint64
}

// NewMethodCounter starts a proxy to upstream on 127.0.0.1; Close stops it.
func NewMethodCounter(upstream string) (*MethodCounter, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("method counter: upstream: %w", err)
	}
	m := &MethodCounter{counts: map[string]uint64{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
			return
		}
		m.count(body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		proxy.ServeHTTP(w, r)
	}))
	return m, nil
}

type rpcCall struct {
	Method string `json:"method"`
}

func (m *MethodCounter) count(body []byte) {
	var calls []rpcCall
	if err := json.Unmarshal(body, &calls); err != nil {
		var one rpcCall
		if json.Unmarshal(body, &one) != nil {
			one.Method = "(undecodable)"
		}
		calls = []rpcCall{one}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range calls {
		m.counts[c.Method]++
	}
}

// URL is the proxy's address.
func (m *MethodCounter) URL() string { return m.srv.URL }

// Counts returns a copy of the calls so far by method.
func (m *MethodCounter) Counts() map[string]uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.counts)
}

// Close stops the proxy.
func (m *MethodCounter) Close() { m.srv.Close() }

// Since returns now − then per method, without zero entries.
func Since(then, now map[string]uint64) map[string]uint64 {
	out := map[string]uint64{}
	for k, v := range now {
		if d := v - then[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}
