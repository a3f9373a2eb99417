package webhooks

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/depositd/depositd/outbox"
)

// DefaultSchedule is the delay before each attempt: the first is
// immediate, the last comes about three days after the event.
var DefaultSchedule = []time.Duration{
	0, 5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 14 * time.Hour, 20 * time.Hour, 24 * time.Hour,
}

// DefaultTimeout is the per-attempt timeout when an endpoint sets none.
const DefaultTimeout = 15 * time.Second

// Endpoint is one configured webhook consumer.
type Endpoint struct {
	// Name identifies the endpoint in delivery ids, metrics and logs
	// (letters, digits, '-' and '_').
	Name string
	// URL is the http(s) target. It is never logged whole: it may carry
	// a token.
	URL string
	// Secrets are "whsec_…" keys; every request is signed with each of
	// them, so a receiver can rotate.
	Secrets []string
	// Events filters event types: exact names, "prefix.*" or "*". Empty
	// means every event.
	Events []string
	// Timeout bounds one attempt; 0 means DefaultTimeout.
	Timeout time.Duration
	// Schedule is the delay before each attempt (its length is the
	// number of attempts); nil means DefaultSchedule.
	Schedule []time.Duration
	// AllowPrivate permits loopback, private and link-local targets
	// (dev and tests); otherwise they are refused.
	AllowPrivate bool
}

// endpoint is a validated Endpoint with decoded keys.
type endpoint struct {
	Endpoint
	keys [][]byte
	host string // for logs: the URL's host only
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (e Endpoint) validate() (*endpoint, error) {
	if !nameRE.MatchString(e.Name) {
		return nil, fmt.Errorf("name %q: want 1-64 letters, digits, '-' or '_'", e.Name)
	}
	u, err := url.Parse(e.URL)
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: url: %w", e.Name, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("endpoint %s: url: want http(s)://host/…", e.Name)
	}
	if !e.AllowPrivate && privateHost(u.Hostname()) {
		return nil, fmt.Errorf("endpoint %s: url host %s is private; set AllowPrivate to permit it", e.Name, u.Hostname())
	}
	if len(e.Secrets) == 0 {
		return nil, fmt.Errorf("endpoint %s: no secrets", e.Name)
	}
	ep := &endpoint{Endpoint: e, host: u.Host}
	for i, s := range e.Secrets {
		k, err := ParseSecret(s)
		if err != nil {
			return nil, fmt.Errorf("endpoint %s: secrets[%d]: %w", e.Name, i, err)
		}
		ep.keys = append(ep.keys, k)
	}
	for _, f := range e.Events {
		if !validFilter(f) {
			return nil, fmt.Errorf("endpoint %s: events: unknown event type %q", e.Name, f)
		}
	}
	if ep.Timeout < 0 {
		return nil, fmt.Errorf("endpoint %s: timeout %s is negative", e.Name, ep.Timeout)
	}
	if ep.Timeout == 0 {
		ep.Timeout = DefaultTimeout
	}
	if ep.Schedule == nil {
		ep.Schedule = DefaultSchedule
	}
	if len(ep.Schedule) == 0 {
		return nil, fmt.Errorf("endpoint %s: schedule is empty", e.Name)
	}
	for i, d := range ep.Schedule {
		if d < 0 {
			return nil, fmt.Errorf("endpoint %s: schedule[%d] %s is negative", e.Name, i, d)
		}
	}
	return ep, nil
}

func validFilter(f string) bool {
	if f == "*" {
		return true
	}
	if prefix, ok := strings.CutSuffix(f, ".*"); ok {
		return slices.ContainsFunc(outbox.Types, func(t string) bool { return strings.HasPrefix(t, prefix+".") })
	}
	return slices.Contains(outbox.Types, f)
}

// wants reports whether the endpoint's filter selects an event type.
func (e *endpoint) wants(eventType string) bool {
	if len(e.Events) == 0 {
		return true
	}
	for _, f := range e.Events {
		if f == "*" || f == eventType {
			return true
		}
		if prefix, ok := strings.CutSuffix(f, "*"); ok && strings.HasPrefix(eventType, prefix) {
			return true
		}
	}
	return false
}

// privateHost reports whether a URL host names a non-public address
// literally; names that resolve to one are caught again at dial time.
func privateHost(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && privateAddr(a)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

func privateAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() || cgnat.Contains(a)
}

// errPrivate is recorded when a target resolves to a refused address.
var errPrivate = errors.New("target address is private or link-local")

// newClient builds the HTTP client of one endpoint class: redirects are
// returned, not followed, and unless allowPrivate every dial is checked
// after name resolution, so DNS cannot point a public name inward.
func newClient(allowPrivate bool, maxConns int) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("dial %s: %w", address, err)
			}
			if privateAddr(ap.Addr()) {
				return errPrivate
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:               nil, // a proxy would hide the real target from the guard
		DialContext:         dialer.DialContext,
		MaxIdleConns:        maxConns,
		MaxIdleConnsPerHost: maxConns,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
