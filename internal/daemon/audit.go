package daemon

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/depositd/depositd/settlement/ledger"
)

// auditEvery is how often the daemon re-checks every ledger invariant (the
// same audit as `depositd verify`): a full scan, so hourly.
const auditEvery = time.Hour

// auditor runs ledger.Verify on a ticker and exports the breach count; a
// breach confirmed by repeated audits is an error log per invariant, for an
// operator to act on.
type auditor struct {
	l        *ledger.Ledger
	log      *slog.Logger
	breaches prometheus.Gauge
	runs     *prometheus.CounterVec
}

func newAuditor(l *ledger.Ledger, reg prometheus.Registerer, log *slog.Logger) *auditor {
	a := &auditor{
		l: l, log: log,
		breaches: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "depositd_ledger_invariant_breaches", Help: "Ledger invariant breaches found by the last periodic audit (0 = clean).",
		}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "depositd_ledger_audits_total", Help: "Periodic ledger audits, by result (clean, breach, error).",
		}, []string{"result"}),
	}
	for _, r := range []string{"clean", "breach", "error"} { // exported at 0, so increase() sees the first
		a.runs.WithLabelValues(r)
	}
	reg.MustRegister(a.breaches, a.runs)
	return a
}

// Run audits at start and at every tick until ctx ends.
func (a *auditor) Run(ctx context.Context, tick <-chan time.Time) error {
	for {
		a.once(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
		}
	}
}

// confirmRuns is how many audits must all show a breach before it is
// reported: Verify reads accounts one after another while credits go on, so
// a step landing between two reads can show a passing difference; a real
// breach (a corrupted book, a lost event) shows the same way every time.
const confirmRuns = 3

// confirmGap separates the confirming audits.
const confirmGap = time.Second

// verify returns the breaches present, with the same detail, in every one
// of confirmRuns audits.
func (a *auditor) verify(ctx context.Context) ([]ledger.Breach, error) {
	var kept []ledger.Breach
	for i := range confirmRuns {
		bs, err := a.l.Verify(ctx)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			kept = bs
		} else {
			kept = intersect(kept, bs)
		}
		if len(kept) == 0 {
			return nil, nil
		}
		if i < confirmRuns-1 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(confirmGap):
			}
		}
	}
	return kept, nil
}

func intersect(a, b []ledger.Breach) []ledger.Breach {
	in := map[ledger.Breach]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []ledger.Breach
	for _, x := range a {
		if in[x] {
			out = append(out, x)
		}
	}
	return out
}

func (a *auditor) once(ctx context.Context) {
	bs, err := a.verify(ctx)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			a.runs.WithLabelValues("error").Inc()
			a.log.Warn("ledger audit", "err", err)
		}
	case len(bs) > 0:
		a.runs.WithLabelValues("breach").Inc()
		a.breaches.Set(float64(len(bs)))
		for _, b := range bs {
			a.log.Error("LEDGER INVARIANT BREACH", "invariant", b.Invariant, "detail", b.Detail)
		}
	default:
		a.runs.WithLabelValues("clean").Inc()
		a.breaches.Set(0)
	}
}
