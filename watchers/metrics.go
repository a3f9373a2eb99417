package watchers

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a matched-looking transfer is not a deposit, the values of the
// depositd_deposits_ignored_total reason label.
const (
	ReasonZero     = "zero_amount"
	ReasonBelowMin = "below_minimum"
	ReasonSelf     = "self_transfer"
	ReasonNotOwner = "holder_owner_mismatch"
	ReasonToken    = "unknown_token"
)

// Metrics are the watcher metrics of every chain, labelled by chain (and
// token where it applies). One Metrics serves all watchers of a process.
type Metrics struct {
	head, scanned, final, lag                                *prometheus.GaugeVec
	seen, credited, orphaned, reversed, ignored, amountTotal *prometheus.CounterVec
	fenced                                                   *prometheus.CounterVec
	creditDelay                                              *prometheus.HistogramVec
}

// NewMetrics registers the watcher metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	g := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"chain"})
	}
	c := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, append([]string{"chain"}, labels...))
	}
	m := &Metrics{
		head:        g("depositd_chain_head", "Latest block number reported by the chain."),
		scanned:     g("depositd_chain_scanned", "Newest block scanned by the tip tier."),
		final:       g("depositd_chain_final", "Newest block credited by the final tier (cursor_final)."),
		lag:         g("depositd_scan_lag_blocks", "Blocks between the chain head and the tip tier's scan."),
		seen:        c("depositd_deposits_seen_total", "Deposits first seen (or re-included) in a block.", "token"),
		credited:    c("depositd_deposits_credited_total", "Deposits credited by the final tier.", "token"),
		orphaned:    c("depositd_deposits_orphaned_total", "Seen deposits whose block left the canonical chain.", "token"),
		reversed:    c("depositd_deposits_reversed_total", "Credited deposits later found non-canonical (operator action needed).", "token"),
		ignored:     c("depositd_deposits_ignored_total", "Transfers not treated as deposits, by reason.", "token", "reason"),
		fenced:      c("depositd_fence_rejections_total", "Chain-state writes refused because a newer lease term fenced the chain."),
		amountTotal: c("depositd_deposit_amount_total", "Raw base units credited (for rates; not money).", "token"),
		creditDelay: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "depositd_credit_delay_seconds",
			Help:    "Time from a deposit's first sighting by the tip tier to its credit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 14),
		}, []string{"chain"}),
	}
	for _, col := range []prometheus.Collector{
		m.head, m.scanned, m.final, m.lag, m.seen, m.credited, m.orphaned, m.reversed, m.ignored,
		m.amountTotal, m.creditDelay, m.fenced,
	} {
		if err := reg.Register(col); err != nil {
			return nil, fmt.Errorf("register watcher metrics: %w", err)
		}
	}
	return m, nil
}
