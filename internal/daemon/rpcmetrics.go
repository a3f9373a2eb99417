package daemon

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// rpcMetrics counts every RPC call a chain adapter makes, per chain and
// endpoint, at the transport: HTTP requests (a JSON-RPC batch is one call)
// for EVM and Solana, unary gRPC calls for Tron. An error is a transport
// failure, a non-2xx HTTP answer or a non-OK gRPC status; JSON-RPC errors
// inside a 200 answer are the adapters' to handle and show in endpoint
// health.
type rpcMetrics struct {
	calls, errors *prometheus.CounterVec
	latency       *prometheus.HistogramVec
}

func newRPCMetrics(reg prometheus.Registerer) *rpcMetrics {
	m := &rpcMetrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "depositd_rpc_calls_total", Help: "RPC calls to chain endpoints.",
		}, []string{"chain", "endpoint"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "depositd_rpc_errors_total", Help: "RPC calls to chain endpoints that failed (transport, HTTP status or gRPC status).",
		}, []string{"chain", "endpoint"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "depositd_rpc_latency_seconds", Help: "Latency of RPC calls to chain endpoints.",
			Buckets: prometheus.ExponentialBuckets(0.002, 2, 14),
		}, []string{"chain", "endpoint"}),
	}
	reg.MustRegister(m.calls, m.errors, m.latency)
	return m
}

func (m *rpcMetrics) observe(chain, endpoint string, start time.Time, failed bool) {
	m.calls.WithLabelValues(chain, endpoint).Inc()
	if failed {
		m.errors.WithLabelValues(chain, endpoint).Inc()
	}
	m.latency.WithLabelValues(chain, endpoint).Observe(time.Since(start).Seconds())
}

// httpClient returns a client whose transport records every request of
// chain. The endpoint label is the URL's host: never the path or query,
// which may carry a provider key.
func (m *rpcMetrics) httpClient(chain string) *http.Client {
	return &http.Client{Transport: roundTripper{m: m, chain: chain, next: &http.Transport{MaxIdleConnsPerHost: 16}}}
}

type roundTripper struct {
	m     *rpcMetrics
	chain string
	next  http.RoundTripper
}

func (t roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	t.m.observe(t.chain, r.URL.Host, start, err != nil || resp.StatusCode/100 != 2)
	return resp, err
}

// grpcInterceptor records every unary call of chain; it chains with the
// adapter's own interceptor (the API key).
func (m *rpcMetrics) grpcInterceptor(chain string) grpc.DialOption {
	return grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any,
		cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		start := time.Now()
		err := invoker(ctx, method, req, reply, cc, opts...)
		m.observe(chain, cc.Target(), start, status.Code(err) != 0)
		return err
	})
}
