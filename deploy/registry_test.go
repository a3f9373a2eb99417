package deploy_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/depositd/depositd/config"
	"github.com/depositd/depositd/internal/daemon"
	"github.com/depositd/depositd/internal/devnet/evmnet"
	"github.com/depositd/depositd/internal/redistest"
)

// exported is what a running daemon's registry holds: every registered
// metric name (from the collectors' descriptors, so vectors that have no
// series yet count too) and the type of those that already have series.
type exported struct {
	names map[string]bool
	types map[string]dto.MetricType
}

// scrapeSynthesized are the series Prometheus adds to every scrape itself.
var scrapeSynthesized = map[string]bool{"up": true}

// known reports whether a selector's metric name is one the daemon exports:
// a registered name, the _bucket/_sum/_count series of a registered
// histogram, or a series Prometheus adds on scrape.
func (e exported) known(name string) bool {
	if e.names[name] || scrapeSynthesized[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok || !e.names[base] || strings.HasSuffix(base, "_total") {
			continue
		}
		switch t, seen := e.types[base]; {
		case !seen, t == dto.MetricType_HISTOGRAM, t == dto.MetricType_SUMMARY:
			return true
		}
	}
	return false
}

var fqName = regexp.MustCompile(`^Desc\{fqName: "([^"]+)"`)

// startDaemon starts the whole daemon against a private redis-server and a
// simulated EVM chain; it stops when the test ends.
func startDaemon(t *testing.T) *daemon.Daemon {
	t.Helper()
	srv := redistest.New(t)
	chain, err := evmnet.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { chain.Close() })
	usdt, err := chain.DeployToken("USDT", 6)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chain.Mint(usdt, chain.Accounts()[0].Address, big.NewInt(1e12)); err != nil {
		t.Fatal(err)
	}
	if err := chain.CommitBlocks(3); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(fmt.Appendf(nil, `mode: dev
redis:
  url: %s
api:
  tokens:
    - {name: t, scopes: [read], token: deploy-test-token-0123456789}
chains:
  - name: ethereum
    kind: evm
    chain_id: 1337
    endpoints: [{url: %s}]
    poll_interval: 100ms
    finality: {policy: finalized, confirmations: 1}
    tokens: [{symbol: USDT, address: "%s", decimals: 6, min_amount: "1"}]
webhooks:
  endpoints:
    - {name: billing, url: "http://127.0.0.1:9/hooks", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", allow_private: true}
`, srv.URL(), chain.URL(), usdt.Hex()), "deploy-test.yml")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan *daemon.Daemon, 1)
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, cfg, daemon.Options{Logger: slog.New(slog.DiscardHandler), Listener: ln,
			Started: func(d *daemon.Daemon) { started <- d }})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	var d *daemon.Daemon
	select {
	case d = <-started:
	case err := <-done:
		t.Fatalf("daemon stopped: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("daemon did not start")
	}
	return d
}

// daemonMetrics reads the registry of a running daemon.
func daemonMetrics(t *testing.T) exported {
	t.Helper()
	d := startDaemon(t)
	e := exported{names: map[string]bool{}, types: map[string]dto.MetricType{}}
	descs := make(chan *prometheus.Desc)
	go func() {
		d.Registry.Describe(descs)
		close(descs)
	}()
	for desc := range descs {
		m := fqName.FindStringSubmatch(desc.String())
		if m == nil {
			t.Fatalf("descriptor without a name: %s", desc)
		}
		e.names[m[1]] = true
	}
	fams, err := d.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		e.names[f.GetName()] = true
		e.types[f.GetName()] = f.GetType()
	}
	if len(e.names) < 20 || !e.names["depositd_chain_head"] || !e.names["go_goroutines"] {
		t.Fatalf("registry looks incomplete: %d names", len(e.names))
	}
	return e
}
