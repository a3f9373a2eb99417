package daemon

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/depositd/depositd/config"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/settlement/ledger"
	"github.com/depositd/depositd/watchers"
	"github.com/depositd/depositd/webhooks"
)

// scrape gathers reg into "name{label=value,…}" → value.
func scrape(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			out[f.GetName()+"{"+strings.Join(ls, ",")+"}"] = m.GetGauge().GetValue()
		}
	}
	return out
}

func TestOpsCollectorReadsRedisState(t *testing.T) {
	srv := redistest.New(t)
	rdb := srv.Client(t)
	ctx := context.Background()
	cfg := &config.Config{
		Chains:   []config.Chain{{Name: "ethereum", Finality: config.Finality{MaxLag: 96}}},
		Webhooks: config.Webhooks{Endpoints: []config.WebhookEndpoint{{Name: "billing"}}},
	}
	wh, err := webhooks.NewDispatcher(rdb, nil, webhooks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newOpsCollector(rdb, cfg, wh, 0))

	expect := func(t *testing.T, want map[string]float64, absent ...string) {
		t.Helper()
		got := scrape(t, reg)
		for k, v := range want {
			if g, ok := got[k]; !ok || g != v {
				t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
			}
		}
		for _, k := range absent {
			if _, ok := got[k]; ok {
				t.Errorf("%s present, want absent", k)
			}
		}
	}

	t.Run("fresh redis with safe settings", func(t *testing.T) {
		expect(t, map[string]float64{
			"depositd_redis_up{}": 1, "depositd_redis_persistence_problems{}": 0,
			"depositd_chain_finality_max_lag_blocks{chain=ethereum}":    96,
			"depositd_chain_paused{chain=ethereum}":                     0,
			"depositd_webhook_deliveries{endpoint=billing,status=dead}": 0,
		}, "depositd_chain_poll_failing{chain=ethereum}")
	})
	t.Run("paused chain whose last poll failed", func(t *testing.T) {
		if err := watchers.Pause(ctx, rdb, "ethereum", "test"); err != nil {
			t.Fatal(err)
		}
		at := time.Unix(1_700_000_000, 0)
		if err := rdb.HSet(ctx, "chain:ethereum:status", "head", 10, "scanned", 9, "final", 5, "lag", 1,
			"last_error", "heads: connection refused", "updated_at", at.Format(time.RFC3339Nano)).Err(); err != nil {
			t.Fatal(err)
		}
		expect(t, map[string]float64{
			"depositd_chain_paused{chain=ethereum}":                           1,
			"depositd_chain_poll_failing{chain=ethereum}":                     1,
			"depositd_chain_status_updated_timestamp_seconds{chain=ethereum}": 1_700_000_000,
		})
	})
	t.Run("appendfsync everysec without WAITAOF", func(t *testing.T) {
		if err := rdb.ConfigSet(ctx, "appendfsync", "everysec").Err(); err != nil {
			t.Fatal(err)
		}
		if err := rdb.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
			t.Fatal(err)
		}
		d, err := ledger.ReadDurability(ctx, rdb)
		if err != nil {
			t.Fatal(err)
		}
		want := 2.0 // everysec unsafe without WAITAOF, and eviction on
		if d.WaitAOF {
			want = 1 // Redis ≥ 7.2: everysec is covered by WAITAOF
		}
		expect(t, map[string]float64{"depositd_redis_persistence_problems{}": want})
	})
	t.Run("a topology warning adds to the count", func(t *testing.T) {
		_, warns := replicated(ledger.New(rdb, time.Now), config.Redis{Sentinel: &config.Sentinel{Master: "m"}})
		other := prometheus.NewRegistry()
		other.MustRegister(newOpsCollector(rdb, cfg, wh, len(warns)))
		got := scrape(t, other)["depositd_redis_persistence_problems{}"] - scrape(t, reg)["depositd_redis_persistence_problems{}"]
		if len(warns) != 1 || got != 1 {
			t.Fatalf("wait_replicas 0: %d warnings, gauge %+v more than without; want 1 and 1", len(warns), got)
		}
	})
	t.Run("redis down", func(t *testing.T) {
		srv.Kill()
		expect(t, map[string]float64{
			"depositd_redis_up{}": 0, "depositd_redis_persistence_problems{}": 1,
			"depositd_chain_finality_max_lag_blocks{chain=ethereum}": 96,
		}, "depositd_chain_paused{chain=ethereum}", "depositd_webhook_deliveries{endpoint=billing,status=dead}")
	})
}

// BenchmarkOpsCollectorScrape measures one scrape of the Redis-backed
// gauges for four chains and two webhook endpoints against a private
// redis-server.
func BenchmarkOpsCollectorScrape(b *testing.B) {
	rdb := redistest.New(b).Client(b)
	cfg := &config.Config{Webhooks: config.Webhooks{Endpoints: []config.WebhookEndpoint{{Name: "billing"}, {Name: "ops"}}}}
	for _, n := range []string{"ethereum", "bsc", "tron", "solana"} {
		cfg.Chains = append(cfg.Chains, config.Chain{Name: n, Finality: config.Finality{MaxLag: 100}})
	}
	wh, err := webhooks.NewDispatcher(rdb, nil, webhooks.Options{})
	if err != nil {
		b.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newOpsCollector(rdb, cfg, wh, 0))
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
