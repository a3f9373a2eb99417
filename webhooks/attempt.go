package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// job is one leased delivery.
type job struct {
	id, endpoint, eventID string
	n                     int // attempts made in the current schedule
	body                  []byte
	disabled              bool
	status                string // at claim time; unchanged while leased
	token                 string
}

// claim leases up to limit due deliveries.
func (d *Dispatcher) claim(ctx context.Context, limit int) ([]job, error) {
	now := d.o.Now()
	token := d.token + "-" + strconv.FormatUint(d.seq.Add(1), 36)
	res, err := claimScript.Run(ctx, d.rdb, []string{d.k.due(), d.k.disabled()},
		now.UnixMilli(), now.Add(d.lease).UnixMilli(), limit, token, d.o.Prefix).Slice()
	if err != nil {
		return nil, fmt.Errorf("claim: %w", err)
	}
	jobs := make([]job, 0, len(res))
	for _, r := range res {
		f, ok := r.([]any)
		if !ok || len(f) != 7 {
			return nil, fmt.Errorf("claim: unexpected reply %v", r)
		}
		j := job{token: token}
		j.id, _ = f[0].(string)
		j.endpoint, _ = f[1].(string)
		j.eventID, _ = f[2].(string)
		if s, ok := f[3].(string); ok {
			j.n, _ = strconv.Atoi(s)
		}
		if s, ok := f[4].(string); ok {
			j.body = []byte(s)
		}
		dis, _ := f[5].(int64)
		j.disabled = dis == 1
		j.status, _ = f[6].(string)
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// outcome is the next state of a delivery after an attempt.
type outcome struct {
	status  string
	n       int
	nextAt  time.Time // zero: nothing due
	attempt *Attempt  // nil: no request was made
	disable bool
}

// decide sends one leased delivery, unless it cannot or must not be
// sent, and returns its outcome. When ctx ends before a response arrives
// the lease is given back instead, so another process sends it at once,
// and ok is false.
func (d *Dispatcher) decide(ctx context.Context, j job) (out outcome, ok bool) {
	ep := d.eps[j.endpoint]
	switch {
	case ep == nil:
		d.log.Error("webhook delivery for an endpoint no longer configured; dead-lettered",
			"delivery", j.id, "endpoint", j.endpoint)
		d.m.dead.WithLabelValues(j.endpoint).Inc()
		return outcome{status: StatusDead, n: j.n}, true
	case j.body == nil:
		d.log.Error("webhook event body missing; dead-lettered", "delivery", j.id, "endpoint", j.endpoint)
		d.m.dead.WithLabelValues(j.endpoint).Inc()
		return outcome{status: StatusDead, n: j.n}, true
	case j.disabled:
		return outcome{status: StatusDisabled, n: j.n}, true
	}
	a, retryAfter := d.send(ctx, ep, j)
	if a.Status == 0 && ctx.Err() != nil { // cut short by shutdown, not the receiver
		d.release(j)
		return outcome{}, false
	}
	return d.next(ep, j, a, retryAfter), true
}

// send makes one signed POST and classifies the response.
func (d *Dispatcher) send(ctx context.Context, ep *endpoint, j job) (Attempt, time.Duration) {
	now := d.o.Now()
	a := Attempt{At: now, Result: ResultFailed}
	actx, cancel := context.WithTimeout(ctx, ep.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, ep.URL, bytes.NewReader(j.body))
	if err != nil {
		a.Error = fmt.Sprintf("request: %v", err)
		return a, 0
	}
	ts := now.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "depositd-webhooks/1")
	req.Header.Set(HeaderID, j.eventID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, signatureHeader(ep.keys, j.eventID, ts, j.body))
	client := d.public
	if ep.AllowPrivate {
		client = d.private
	}
	start := time.Now()
	resp, err := client.Do(req)
	a.Latency = time.Since(start)
	d.m.latency.WithLabelValues(ep.Name).Observe(a.Latency.Seconds())
	if err != nil {
		a.Error = transportError(err, actx, ep.Timeout)
		return a, 0
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	resp.Body.Close()
	a.Status = resp.StatusCode
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		a.Result = ResultDelivered
	case resp.StatusCode == http.StatusGone:
		a.Result = ResultGone
		a.Error = "410 Gone: endpoint disabled"
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		a.Error = fmt.Sprintf("HTTP %d: redirects are not followed", resp.StatusCode)
	default:
		a.Error = fmt.Sprintf("HTTP %d", resp.StatusCode)
	}
	return a, retryAfter(resp.Header.Get("Retry-After"), now)
}

// transportError describes a failed request without the URL, which may
// carry a token.
func transportError(err error, actx context.Context, timeout time.Duration) string {
	if errors.Is(actx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("timeout after %s", timeout)
	}
	if errors.Is(err, errPrivate) {
		return errPrivate.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// retryAfter parses a Retry-After header (seconds or an HTTP date); 0 when
// absent or unparsable.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if s, err := strconv.ParseInt(h, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return min(time.Duration(s)*time.Second, maxRetryAfter)
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}

// next decides the state after an attempt: delivered, disabled on 410,
// else the next retry of the schedule (jittered, no sooner than
// Retry-After) or dead after the last.
func (d *Dispatcher) next(ep *endpoint, j job, a Attempt, wait time.Duration) outcome {
	n := j.n + 1
	d.m.attempts.WithLabelValues(ep.Name, a.Result).Inc()
	switch a.Result {
	case ResultDelivered:
		return outcome{status: StatusDelivered, n: n, attempt: &a}
	case ResultGone:
		d.m.failures.WithLabelValues(ep.Name).Inc()
		d.log.Warn("webhook endpoint answered 410 Gone; disabled until a redelivery",
			"endpoint", ep.Name, "host", ep.host, "delivery", j.id)
		return outcome{status: StatusDisabled, n: n, attempt: &a, disable: true}
	}
	d.m.failures.WithLabelValues(ep.Name).Inc()
	if n >= len(ep.Schedule) {
		d.m.dead.WithLabelValues(ep.Name).Inc()
		d.log.Error("webhook delivery dead-lettered after its last attempt",
			"endpoint", ep.Name, "host", ep.host, "delivery", j.id, "attempts", n,
			"status", a.Status, "err", a.Error)
		return outcome{status: StatusDead, n: n, attempt: &a}
	}
	delay := max(d.o.Jitter(ep.Schedule[n]), wait)
	at := d.o.Now().Add(delay)
	d.log.Warn("webhook attempt failed", "endpoint", ep.Name, "host", ep.host, "delivery", j.id,
		"attempt", n, "status", a.Status, "err", a.Error, "next_at", at)
	return outcome{status: StatusFailed, n: n, nextAt: at, attempt: &a}
}
