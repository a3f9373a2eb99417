package huawei

import "github.com/prometheus/client_golang/prometheus"

// Metrics count what the importer does. A nil *Metrics counts nothing.
type Metrics struct {
	requests   *prometheus.CounterVec
	statements *prometheus.CounterVec
	runs       *prometheus.CounterVec
	changed    prometheus.Counter
	unmapped   prometheus.Gauge
	lastOK     prometheus.Gauge
}

// NewMetrics registers the depositd_huawei_* metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "depositd_huawei_api_requests_total", Help: "Huawei Cloud billing API calls, by operation and result (ok, throttled, error).",
		}, []string{"op", "result"}),
		statements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "depositd_huawei_statements_total", Help: "Statements the Huawei import handled, by result (issued, unchanged, changed, empty, failed).",
		}, []string{"result"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "depositd_huawei_import_runs_total", Help: "Huawei statement import runs, by result.",
		}, []string{"result"}),
		changed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "depositd_huawei_bill_changed_total", Help: "Upstream Huawei bills that differ from the statement already issued for them (alert: not rewritten).",
		}),
		unmapped: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "depositd_huawei_unmapped_customers", Help: "Sub-customers with a bill in the last imported month that no depositd account is mapped to.",
		}),
		lastOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "depositd_huawei_last_import_success_timestamp_seconds", Help: "Unix time of the last import run that completed without error.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.statements, m.runs, m.changed, m.unmapped, m.lastOK} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) request(op, result string) {
	if m != nil {
		m.requests.WithLabelValues(op, result).Inc()
	}
}

func (m *Metrics) statement(result string) {
	if m == nil {
		return
	}
	m.statements.WithLabelValues(result).Inc()
	if result == resultChanged {
		m.changed.Inc()
	}
}

func (m *Metrics) run(err error, unmapped int, at float64) {
	if m == nil {
		return
	}
	m.unmapped.Set(float64(unmapped))
	if err != nil {
		m.runs.WithLabelValues("error").Inc()
		return
	}
	m.runs.WithLabelValues("ok").Inc()
	m.lastOK.Set(at)
}
