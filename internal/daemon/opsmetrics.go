package daemon

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/config"
	"github.com/depositd/depositd/settlement/ledger"
	"github.com/depositd/depositd/watchers"
	"github.com/depositd/depositd/webhooks"
)

// opsCollector reads, at scrape time, the state that alerts need and that
// lives in Redis rather than in one process: whether Redis answers and
// keeps acknowledged writes, which chains are paused or failing, and how
// many webhook deliveries wait, retry or are dead-lettered. Every process sharing the
// Redis reports the same values, whichever of them runs a chain's watcher.
type opsCollector struct {
	rdb       redis.UniversalClient
	chains    []chainBound
	endpoints []string
	webhooks  *webhooks.Dispatcher
	// topology counts the configuration's own durability problems (a
	// Sentinel setup that waits for no replica), fixed for the process.
	topology int

	redisUp, persistence, paused, failing, updated, maxLag, deliveries *prometheus.Desc
}

// chainBound is a configured chain and its finality lag bound (max_lag).
type chainBound struct {
	name   string
	maxLag uint64
}

// watchedStatuses are the delivery statuses exported (delivered ones only
// grow and are left out).
var watchedStatuses = []string{webhooks.StatusPending, webhooks.StatusFailed, webhooks.StatusDead, webhooks.StatusDisabled}

// scrapeTimeout bounds the Redis reads of one scrape.
const scrapeTimeout = 3 * time.Second

func newOpsCollector(rdb redis.UniversalClient, cfg *config.Config, wh *webhooks.Dispatcher, topologyProblems int) *opsCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	c := &opsCollector{
		rdb: rdb, webhooks: wh, topology: topologyProblems,
		redisUp:     d("depositd_redis_up", "1 when Redis answered PING during this scrape."),
		persistence: d("depositd_redis_persistence_problems", "Ways Redis, as set and as depositd uses it, can lose or evict acknowledged ledger writes (0 = safe; unreadable settings count as one)."),
		paused:      d("depositd_chain_paused", "1 when the chain is paused (by an operator or after a reorg past the final marker).", "chain"),
		failing:     d("depositd_chain_poll_failing", "1 when the chain's last poll, in whichever process watches it, ended in an error.", "chain"),
		updated:     d("depositd_chain_status_updated_timestamp_seconds", "Unix time of the chain's last poll by any process.", "chain"),
		maxLag:      d("depositd_chain_finality_max_lag_blocks", "Configured bound (finality.max_lag) on head − final, in blocks.", "chain"),
		deliveries:  d("depositd_webhook_deliveries", "Webhook deliveries now in a status that needs watching: pending, failed (retrying), dead (dead-lettered, not redelivered), disabled (endpoint answered 410).", "endpoint", "status"),
	}
	for _, ch := range cfg.Chains {
		c.chains = append(c.chains, chainBound{name: ch.Name, maxLag: ch.Finality.MaxLag})
	}
	for _, ep := range cfg.Webhooks.Endpoints {
		c.endpoints = append(c.endpoints, ep.Name)
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *opsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.redisUp, c.persistence, c.paused, c.failing, c.updated, c.maxLag, c.deliveries} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A series whose Redis read fails
// is left out (its alert then relies on depositd_redis_up); the bounds
// from the config are always exported.
func (c *opsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, b := range c.chains {
		gauge(c.maxLag, float64(b.maxLag), b.name)
	}
	up := c.rdb.Ping(ctx).Err() == nil
	gauge(c.redisUp, bit(up))
	gauge(c.persistence, float64(len(ledger.CheckPersistence(ctx, c.rdb))+c.topology))
	if !up {
		return
	}
	for _, b := range c.chains {
		st, err := watchers.LoadStatus(ctx, c.rdb, b.name)
		if err != nil {
			continue
		}
		gauge(c.paused, bit(st.Paused), b.name)
		if !st.UpdatedAt.IsZero() {
			gauge(c.failing, bit(st.LastError != ""), b.name)
			gauge(c.updated, float64(st.UpdatedAt.UnixNano())/1e9, b.name)
		}
	}
	for _, ep := range c.endpoints {
		for _, st := range watchedStatuses {
			if n, err := c.webhooks.Count(ctx, st, ep); err == nil {
				gauge(c.deliveries, float64(n), ep, st)
			}
		}
	}
}

func bit(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
