package config

import (
	"encoding/base64"
	"fmt"
	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "time/tzdata" // settlement time zones must load on hosts without zoneinfo

	"github.com/depositd/depositd/outbox"
)

// Validate checks the whole configuration and returns every problem as
// Errors (each naming its key path and, for a parsed file, its line), or nil.
// It does not modify c.
func (c *Config) Validate() error {
	r := &reporter{file: c.file, lines: c.lines}
	c.validate(r)
	if len(r.errs) == 0 {
		return nil
	}
	return r.errs.sorted()
}

func (c *Config) validate(r *reporter) {
	if c.Mode != ModeProduction && c.Mode != ModeDev {
		r.errorf("mode", "unknown mode %q (want production or dev)", c.Mode)
	}
	if err := checkHostPort(c.Listen); err != nil {
		r.errorf("listen", "%v", err)
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		r.errorf("log.format", "unknown format %q (want json or text)", c.Log.Format)
	}
	c.validateRedis(r)
	c.validateAddresses(r)
	c.validateAPI(r)
	c.validateChains(r)
	c.validateSettlement(r)
	c.validateWebhooks(r)
	if t := c.Lease.TTL; t < MinLeaseTTL || t > MaxLeaseTTL {
		r.errorf("lease.ttl", "%s out of range %s..%s", t, MinLeaseTTL, MaxLeaseTTL)
	}
	c.validateHuawei(r)
}

// validateAddresses checks the xpubs: public, account level (depth 3).
func (c *Config) validateAddresses(r *reporter) {
	for key, x := range map[string]string{"evm": c.Addresses.XPubEVM, "tron": c.Addresses.XPubTron} {
		if x == "" {
			continue
		}
		path := "addresses.xpubs." + key
		k, err := hdkeychain.NewKeyFromString(x)
		switch {
		case err != nil:
			r.errorf(path, "not an extended public key: %v", err)
		case k.IsPrivate():
			r.errorf(path, "an extended PRIVATE key: depositd is watch-only; give the account-level xpub (m/44'/coin'/0')")
		case k.Depth() != 3:
			r.errorf(path, "key at depth %d: want the BIP44 account level (depth 3, m/44'/coin'/0')", k.Depth())
		}
	}
}

// checkHostPort accepts "host:port" with a numeric port 1–65535.
func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("want host:port, got %q", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q: want 1..65535", port)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("host %q: not a host name or address", host)
	}
	return nil
}

func (c *Config) validateRedis(r *reporter) {
	var given []string
	if c.Redis.URL != "" {
		given = append(given, "url")
	}
	if c.Redis.Sentinel != nil {
		given = append(given, "sentinel")
	}
	if c.Redis.Cluster != nil {
		given = append(given, "cluster")
	}
	switch len(given) {
	case 0:
		r.errorf("redis", "required: one of url_env, url_file, url, sentinel or cluster")
		return
	case 1:
	default:
		r.errorf("redis", "exactly one Redis topology: url, sentinel or cluster; got %s", strings.Join(given, " and "))
		return
	}
	if c.Redis.URL != "" {
		// The URL may carry a password: never echo it.
		u, err := url.Parse(c.Redis.URL.Reveal())
		switch {
		case err != nil:
			r.errorf("redis.url", "not a URL")
		case u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix":
			r.errorf("redis.url", "scheme %q: want redis, rediss or unix", u.Scheme)
		case u.Scheme != "unix" && u.Host == "":
			r.errorf("redis.url", "missing host")
		}
	}
	if s := c.Redis.Sentinel; s != nil {
		if s.Master == "" {
			r.errorf("redis.sentinel.master", "required: the monitored master's name")
		}
		checkAddrs(r, "redis.sentinel.addrs", s.Addrs)
		if s.WaitReplicas < 0 || s.WaitReplicas > maxWaitReplicas {
			r.errorf("redis.sentinel.wait_replicas", "%d out of range 0..%d", s.WaitReplicas, maxWaitReplicas)
		}
		if s.WaitTimeout <= 0 {
			r.errorf("redis.sentinel.wait_timeout", "must be positive (WAIT 0 would block forever)")
		}
	}
	if cl := c.Redis.Cluster; cl != nil {
		checkAddrs(r, "redis.cluster.addrs", cl.Addrs)
	}
}

// maxWaitReplicas bounds redis.sentinel.wait_replicas: more replicas than
// this is a typo, not a deployment.
const maxWaitReplicas = 5

func checkAddrs(r *reporter, path string, addrs []string) {
	if len(addrs) == 0 {
		r.errorf(path, "required: at least one host:port")
	}
	for i, a := range addrs {
		if err := checkHostPort(a); err != nil {
			r.errorf(elem(path, "", i), "%v", err)
		}
	}
}

// minTokenLen is the shortest API token accepted outside dev mode.
const minTokenLen = 16

func (c *Config) validateAPI(r *reporter) {
	names := make([]string, len(c.API.Tokens))
	for i, t := range c.API.Tokens {
		names[i] = t.Name
	}
	lbl := labels(names)
	seenName := map[string]bool{}
	seenToken := map[Secret]string{}
	for i, t := range c.API.Tokens {
		p := elem("api.tokens", lbl[i], i)
		switch {
		case t.Name == "":
			r.errorf(join(p, "name"), "required")
		case seenName[t.Name]:
			r.errorf(join(p, "name"), "duplicate token name %q", t.Name)
		}
		seenName[t.Name] = true
		if len(t.Scopes) == 0 {
			r.errorf(join(p, "scopes"), "required: read, write or both")
		}
		scopes := map[Scope]bool{}
		for j, s := range t.Scopes {
			switch {
			case s != ScopeRead && s != ScopeWrite:
				r.errorf(elem(join(p, "scopes"), "", j), "unknown scope %q (want read or write)", s)
			case scopes[s]:
				r.errorf(elem(join(p, "scopes"), "", j), "scope %q given twice", s)
			}
			scopes[s] = true
		}
		switch {
		case t.Token == "":
			r.errorf(join(p, "token"), "required: set token_env or token_file")
		case c.Mode != ModeDev && len(t.Token) < minTokenLen:
			r.errorf(join(p, "token"), "too short: at least %d characters", minTokenLen)
		case seenToken[t.Token] != "":
			r.errorf(join(p, "token"), "same value as token %q: each token needs its own", seenToken[t.Token])
		}
		if t.Token != "" && seenToken[t.Token] == "" {
			seenToken[t.Token] = t.Name
		}
	}
}

func (c *Config) validateSettlement(r *reporter) {
	s := c.Settlement
	if s.Timezone == "" || s.Timezone == "Local" {
		r.errorf("settlement.timezone", "want an IANA time zone such as \"Asia/Shanghai\", got %q", s.Timezone)
	} else if _, err := time.LoadLocation(s.Timezone); err != nil {
		r.errorf("settlement.timezone", "unknown time zone %q", s.Timezone)
	} else if s.Location == nil || s.Location.String() != s.Timezone {
		r.errorf("settlement.timezone", "location not loaded for %q", s.Timezone)
	}
	if s.DueDays < 1 || s.DueDays > 365 {
		r.errorf("settlement.due_days", "%d out of range 1..365", s.DueDays)
	}
	for i, u := range s.LowBalanceThresholds {
		if u <= 0 {
			r.errorf(elem("settlement.low_balance_thresholds", "", i), "must be positive, got %s", u)
		}
	}
	if s.OverdueSweep <= 0 {
		r.errorf("settlement.overdue_sweep", "must be positive")
	}
	if s.OffchainApprovalAbove < 0 {
		r.errorf("settlement.offchain_approval_above", "must not be negative, got %s", s.OffchainApprovalAbove)
	}
}

func (c *Config) validateWebhooks(r *reporter) {
	names := make([]string, len(c.Webhooks.Endpoints))
	for i, w := range c.Webhooks.Endpoints {
		names[i] = w.Name
	}
	lbl := labels(names)
	seen := map[string]bool{}
	for i, w := range c.Webhooks.Endpoints {
		p := elem("webhooks.endpoints", lbl[i], i)
		switch {
		case w.Name == "":
			r.errorf(join(p, "name"), "required")
		case seen[w.Name]:
			r.errorf(join(p, "name"), "duplicate endpoint name %q", w.Name)
		}
		seen[w.Name] = true
		if err := checkWebhookURL(w.URL, w.AllowPrivate); err != nil {
			r.errorf(join(p, "url"), "%v", err)
		}
		if len(w.Secrets) == 0 {
			r.errorf(join(p, "secret"), "required: set secret_env, secret_file, secrets_env or secrets_file")
		}
		for j, s := range w.Secrets {
			if err := checkWebhookSecret(s); err != nil {
				r.errorf(join(p, "secret"), "secret %d of %d: %v", j+1, len(w.Secrets), err)
			}
		}
		events := map[string]bool{}
		for j, e := range w.Events {
			switch {
			case !slices.Contains(outbox.Types, e):
				r.errorf(elem(join(p, "events"), "", j), "unknown event type %q (want one of %s)", e, strings.Join(outbox.Types, ", "))
			case events[e]:
				r.errorf(elem(join(p, "events"), "", j), "event type %q given twice", e)
			}
			events[e] = true
		}
		if w.Timeout <= 0 || w.Timeout > 5*time.Minute {
			r.errorf(join(p, "timeout"), "%s out of range (0, 5m]", w.Timeout)
		}
		if len(w.Schedule) == 0 || len(w.Schedule) > 50 {
			r.errorf(join(p, "schedule"), "want 1..50 attempts, got %d", len(w.Schedule))
		}
	}
}

// checkWebhookURL accepts an http(s) URL with a host. Literal loopback,
// private, link-local and unspecified addresses (and "localhost") need
// allowPrivate; host names are checked again when resolved at delivery.
func checkWebhookURL(s string, allowPrivate bool) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return fmt.Errorf("want an http or https URL with a host, got %q", s)
	}
	if u.User != nil {
		return fmt.Errorf("credentials in the URL are not allowed; sign with the webhook secret")
	}
	if allowPrivate {
		return nil
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return fmt.Errorf("host %q is loopback; set allow_private: true to allow it", host)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap()
		if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
			ip.IsUnspecified() || ip.IsMulticast() {
			return fmt.Errorf("address %s is not public; set allow_private: true to allow it", ip)
		}
	}
	return nil
}

// checkWebhookSecret accepts a Standard Webhooks secret: "whsec_" and the
// base64 of 24–64 bytes. The error never contains the secret.
func checkWebhookSecret(s Secret) error {
	v, ok := strings.CutPrefix(s.Reveal(), "whsec_")
	if !ok {
		return fmt.Errorf("want \"whsec_\" + base64 of 24-64 random bytes")
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return fmt.Errorf("the part after \"whsec_\" is not base64")
	}
	if len(b) < 24 || len(b) > 64 {
		return fmt.Errorf("key is %d bytes, want 24-64", len(b))
	}
	return nil
}
