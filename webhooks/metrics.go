package webhooks

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the dispatcher's Prometheus series, labelled by endpoint
// name (never by URL).
type metrics struct {
	attempts *prometheus.CounterVec   // {endpoint, result}
	failures *prometheus.CounterVec   // {endpoint}
	dead     *prometheus.CounterVec   // {endpoint}: the alert series
	latency  *prometheus.HistogramVec // {endpoint}
	poison   prometheus.Counter       // malformed outbox entries set aside
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "depositd_webhook_attempts_total",
			Help: "Webhook delivery attempts by endpoint and result (delivered, failed, gone).",
		}, []string{"endpoint", "result"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "depositd_webhook_failures_total",
			Help: "Failed webhook delivery attempts by endpoint.",
		}, []string{"endpoint"}),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "depositd_webhook_dead_total",
			Help: "Webhook deliveries dead-lettered after their last attempt; alert on any increase.",
		}, []string{"endpoint"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "depositd_webhook_latency_seconds",
			Help:    "Duration of webhook delivery attempts by endpoint.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15, 30},
		}, []string{"endpoint"}),
		poison: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "depositd_webhook_poison_events_total",
			Help: "Malformed outbox entries moved to the webhook poison stream.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.attempts, m.failures, m.dead, m.latency, m.poison} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register webhook metrics: %w", err)
		}
	}
	return m, nil
}
