package lease

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the lease metrics of every lease of a process, by name.
type Metrics struct {
	held, token               *prometheus.GaugeVec
	acquired, takeovers, lost *prometheus.CounterVec
}

// NewMetrics registers the lease metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	g := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"chain"})
	}
	c := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, append([]string{"chain"}, labels...))
	}
	m := &Metrics{
		held:      g("depositd_lease_held", "1 while this process holds the chain's scan lease."),
		token:     g("depositd_lease_token", "Fencing token of this process's latest term on the chain."),
		acquired:  c("depositd_lease_acquired_total", "Terms of the chain's lease this process began."),
		takeovers: c("depositd_lease_takeovers_total", "Terms begun after the previous holder's lease expired (it died or stalled)."),
		lost:      c("depositd_lease_lost_total", "Terms this process ended, by reason.", "reason"),
	}
	for _, col := range []prometheus.Collector{m.held, m.token, m.acquired, m.takeovers, m.lost} {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("register lease metrics: %w", err)
		}
	}
	return m, nil
}
