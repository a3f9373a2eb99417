package settlement

import "github.com/prometheus/client_golang/prometheus"

// Metrics count what settlement does. A nil *Metrics counts nothing.
type Metrics struct {
	runs     *prometheus.CounterVec
	payments prometheus.Counter
	paid     *prometheus.CounterVec
	overdue  prometheus.Counter
}

// NewMetrics registers the depositd_settlement_* metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "depositd_settlement_runs_total", Help: "Settlement runs (automatic payment of an account), by result.",
		}, []string{"result"}),
		payments: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "depositd_settlement_payments_total", Help: "Statement payments completed.",
		}),
		paid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "depositd_settlement_paid_usd_total", Help: "USD paid on statements, by source (coupon, cash, credit); for rates, not money.",
		}, []string{"source"}),
		overdue: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "depositd_statements_overdue_total", Help: "Statements marked overdue by the sweep.",
		}),
	}
	for _, r := range []string{"ok", "error"} { // exported at 0, so increase() sees the first error
		m.runs.WithLabelValues(r)
	}
	for _, c := range []prometheus.Collector{m.runs, m.payments, m.paid, m.overdue} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) run(r Run, err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.runs.WithLabelValues(result).Inc()
	for _, p := range r.Payments {
		m.payments.Inc()
		m.paid.WithLabelValues("coupon").Add(p.Coupon.Decimal().InexactFloat64())
		m.paid.WithLabelValues("cash").Add(p.Cash.Decimal().InexactFloat64())
		m.paid.WithLabelValues("credit").Add(p.Credit.Decimal().InexactFloat64())
	}
}

func (m *Metrics) markedOverdue(n int) {
	if m != nil {
		m.overdue.Add(float64(n))
	}
}
