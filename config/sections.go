package config

import (
	"log/slog"
	"net/url"
	"strings"

	"github.com/shopspring/decimal"
	"gopkg.in/yaml.v3"

	"github.com/depositd/depositd/money"
)

// root decodes the whole document onto the defaults in c.
func (d *decoder) root(n *yaml.Node, c *Config) {
	d.mapping(n, "", map[string]fieldFn{
		"mode":   func(v *yaml.Node, p string) { d.str((*string)(&c.Mode))(v, p) },
		"listen": d.str(&c.Listen),
		"log":    func(v *yaml.Node, p string) { d.log(v, p, &c.Log) },
		"redis":  func(v *yaml.Node, p string) { d.redis(v, p, &c.Redis) },
		"api": func(v *yaml.Node, p string) {
			d.mapping(v, p, map[string]fieldFn{
				"tokens": func(v *yaml.Node, p string) { c.API.Tokens = d.apiTokens(v, p) },
			})
		},
		"addresses": func(v *yaml.Node, p string) {
			d.mapping(v, p, map[string]fieldFn{
				"xpubs": func(v *yaml.Node, p string) {
					d.mapping(v, p, map[string]fieldFn{
						"evm":  d.str(&c.Addresses.XPubEVM),
						"tron": d.str(&c.Addresses.XPubTron),
					})
				},
			})
		},
		"chains":     func(v *yaml.Node, p string) { c.Chains = d.chains(v, p) },
		"settlement": func(v *yaml.Node, p string) { d.settlement(v, p, &c.Settlement) },
		"huawei":     func(v *yaml.Node, p string) { c.Huawei = d.huawei(v, p) },
		"webhooks": func(v *yaml.Node, p string) {
			d.mapping(v, p, map[string]fieldFn{
				"endpoints": func(v *yaml.Node, p string) { c.Webhooks.Endpoints = d.webhooks(v, p) },
			})
		},
		"lease": func(v *yaml.Node, p string) {
			d.mapping(v, p, map[string]fieldFn{"ttl": d.duration(&c.Lease.TTL)})
		},
	})
}

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
}

func (d *decoder) log(n *yaml.Node, path string, l *Log) {
	d.mapping(n, path, map[string]fieldFn{
		"level": func(v *yaml.Node, p string) {
			var s string
			d.str(&s)(v, p)
			if lv, ok := logLevels[s]; ok {
				l.Level = lv
			} else if s != "" {
				d.fail(p, v.Line, "unknown level %q (want debug, info, warn or error)", s)
			}
		},
		"format": d.str(&l.Format),
	})
}

// redis decodes exactly one topology: url / url_env / url_file, sentinel or
// cluster.
func (d *decoder) redis(n *yaml.Node, path string, r *Redis) {
	var src secretSrc
	var topo []string // topologies given, as their keys
	fields := map[string]fieldFn{}
	d.secretKeys(fields, "url", "", &src)
	for _, k := range []string{"url", "url_env", "url_file"} {
		f := fields[k]
		fields[k] = func(v *yaml.Node, p string) { topo = append(topo, k); f(v, p) }
	}
	fields["sentinel"] = func(v *yaml.Node, p string) {
		topo = append(topo, "sentinel")
		s := &Sentinel{WaitReplicas: DefaultWaitReplicas, WaitTimeout: DefaultWaitTimeout}
		var pw, spw secretSrc
		fs := map[string]fieldFn{"master": d.str(&s.Master), "addrs": d.strs(&s.Addrs),
			"wait_replicas": d.int(&s.WaitReplicas), "wait_timeout": d.duration(&s.WaitTimeout)}
		d.secretKeys(fs, "password", "", &pw)
		d.secretKeys(fs, "sentinel_password", "", &spw)
		d.mapping(v, p, fs)
		if pws := d.secrets(p, "password", &pw, false, inlineDevOnly); len(pws) == 1 {
			s.Password = pws[0]
		}
		if pws := d.secrets(p, "sentinel_password", &spw, false, inlineDevOnly); len(pws) == 1 {
			s.SentinelPassword = pws[0]
		}
		r.Sentinel = s
	}
	fields["cluster"] = func(v *yaml.Node, p string) {
		topo = append(topo, "cluster")
		c := &Cluster{}
		var pw secretSrc
		fs := map[string]fieldFn{"addrs": d.strs(&c.Addrs)}
		d.secretKeys(fs, "password", "", &pw)
		d.mapping(v, p, fs)
		if pws := d.secrets(p, "password", &pw, false, inlineDevOnly); len(pws) == 1 {
			c.Password = pws[0]
		}
		r.Cluster = c
	}
	d.mapping(n, path, fields)
	if len(topo) > 1 {
		p := join(path, topo[1])
		d.failed[path] = true
		d.fail(p, d.line(p), "exactly one Redis topology: url (or url_env, url_file), sentinel or cluster; got %s",
			strings.Join(topo, " and "))
		return
	}
	if len(topo) == 0 {
		return // Validate reports the missing topology
	}
	if urls := d.secrets(path, "url", &src, false, inlineAllowed); len(urls) == 1 {
		r.URL = urls[0]
		if u, err := url.Parse(urls[0].Reveal()); err == nil && d.mode != ModeDev && len(src.inline) == 1 {
			if _, hasPW := u.User.Password(); hasPW {
				p := join(path, "url")
				d.fail(p, d.line(p), "inline password not allowed outside mode: dev; use url_env or url_file")
			}
		}
	}
}

func (d *decoder) apiTokens(n *yaml.Node, path string) []APIToken {
	var out []APIToken
	lbl := d.labelsOf(n, "name")
	d.list(n, path, func(i int, e *yaml.Node) {
		p := elem(path, lbl[i], i)
		d.lines[p] = e.Line
		var t APIToken
		var scopes []string
		var src secretSrc
		fs := map[string]fieldFn{"name": d.str(&t.Name), "scopes": d.strs(&scopes)}
		d.secretKeys(fs, "token", "", &src)
		d.mapping(e, p, fs)
		for _, s := range scopes {
			t.Scopes = append(t.Scopes, Scope(s))
		}
		if ts := d.secrets(p, "token", &src, true, inlineDevOnly); len(ts) == 1 {
			t.Token = ts[0]
		}
		out = append(out, t)
	})
	return out
}

func (d *decoder) chains(n *yaml.Node, path string) []Chain {
	var out []Chain
	lbl := d.labelsOf(n, "name")
	d.list(n, path, func(i int, e *yaml.Node) {
		p := elem(path, lbl[i], i)
		d.lines[p] = e.Line
		c := chainDefaults(d.scalarOf(e, "name"), Kind(d.scalarOf(e, "kind")))
		d.mapping(e, p, map[string]fieldFn{
			"name":               d.str(&c.Name),
			"kind":               func(v *yaml.Node, p string) { d.str((*string)(&c.Kind))(v, p) },
			"chain_id":           d.uint(&c.ChainID),
			"endpoints":          func(v *yaml.Node, p string) { c.Endpoints = d.endpoints(v, p) },
			"solidity_endpoints": func(v *yaml.Node, p string) { c.SolidityEndpoints = d.endpoints(v, p) },
			"poll_interval":      d.duration(&c.PollInterval),
			"finality": func(v *yaml.Node, p string) {
				d.mapping(v, p, map[string]fieldFn{
					"policy":        func(v *yaml.Node, p string) { d.str((*string)(&c.Finality.Policy))(v, p) },
					"confirmations": d.uint(&c.Finality.Confirmations),
					"max_lag":       d.uint(&c.Finality.MaxLag),
				})
			},
			"start_block": d.uint(&c.StartBlock),
			"max_range":   d.uint(&c.MaxRange),
			"batch_size":  d.int(&c.BatchSize),
			"tokens":      func(v *yaml.Node, p string) { c.Tokens = d.tokens(v, p, &c) },
		})
		out = append(out, c)
	})
	return out
}

func (d *decoder) endpoints(n *yaml.Node, path string) []Endpoint {
	out := []Endpoint{}
	d.list(n, path, func(i int, e *yaml.Node) {
		p := elem(path, "", i)
		d.lines[p] = e.Line
		ep := Endpoint{Weight: 1}
		var u, key secretSrc
		fs := map[string]fieldFn{"weight": d.int(&ep.Weight)}
		d.secretKeys(fs, "url", "", &u)
		d.secretKeys(fs, "api_key", "", &key)
		d.mapping(e, p, fs)
		if us := d.secrets(p, "url", &u, true, inlineAllowed); len(us) == 1 {
			ep.URL = us[0]
		}
		if ks := d.secrets(p, "api_key", &key, false, inlineDevOnly); len(ks) == 1 {
			ep.APIKey = ks[0]
		}
		out = append(out, ep)
	})
	return out
}

// unsetDecimals marks a token whose decimals the YAML did not give.
const unsetDecimals = -1

func (d *decoder) tokens(n *yaml.Node, path string, c *Chain) []Token {
	var out []Token
	lbl := d.labelsOf(n, "symbol")
	d.list(n, path, func(i int, e *yaml.Node) {
		p := elem(path, lbl[i], i)
		d.lines[p] = e.Line
		t := Token{Decimals: unsetDecimals, USDRate: decimal.NewFromInt(1)}
		d.mapping(e, p, map[string]fieldFn{
			"symbol":  d.str(&t.Symbol),
			"address": d.str(&t.Address),
			"decimals": func(v *yaml.Node, p string) {
				if x, ok := d.integer(v, p); ok {
					t.Decimals = x
				}
			},
			"program":    func(v *yaml.Node, p string) { d.str((*string)(&t.Program))(v, p) },
			"min_amount": d.dec(&t.MinAmount),
			"usd_rate":   d.dec(&t.USDRate),
		})
		out = append(out, t)
	})
	return out
}

func (d *decoder) settlement(n *yaml.Node, path string, s *Settlement) {
	d.mapping(n, path, map[string]fieldFn{
		"timezone": d.str(&s.Timezone),
		"due_days": d.int(&s.DueDays),
		"low_balance_thresholds": func(v *yaml.Node, p string) {
			out := []money.Units{}
			d.list(v, p, func(i int, e *yaml.Node) {
				ep := elem(p, "", i)
				d.lines[ep] = e.Line
				x, ok := d.decimalOf(e, ep)
				if !ok {
					return
				}
				u, err := money.FromDecimal(x)
				if err != nil {
					d.fail(ep, e.Line, "%v", err)
					return
				}
				out = append(out, u)
			})
			s.LowBalanceThresholds = out
		},
		"overdue_sweep": d.duration(&s.OverdueSweep),
		"offchain_approval_above": func(v *yaml.Node, p string) {
			x, ok := d.decimalOf(v, p)
			if !ok {
				return
			}
			u, err := money.FromDecimal(x)
			if err != nil {
				d.fail(p, v.Line, "%v", err)
				return
			}
			s.OffchainApprovalAbove = u
		},
	})
}

func (d *decoder) webhooks(n *yaml.Node, path string) []WebhookEndpoint {
	var out []WebhookEndpoint
	lbl := d.labelsOf(n, "name")
	d.list(n, path, func(i int, e *yaml.Node) {
		p := elem(path, lbl[i], i)
		d.lines[p] = e.Line
		w := webhookDefaults()
		var src secretSrc
		fs := map[string]fieldFn{
			"name":          d.str(&w.Name),
			"url":           d.str(&w.URL),
			"events":        d.strs(&w.Events),
			"timeout":       d.duration(&w.Timeout),
			"schedule":      d.durations(&w.Schedule),
			"allow_private": d.boolean(&w.AllowPrivate),
		}
		d.secretKeys(fs, "secret", "secrets", &src)
		d.mapping(e, p, fs)
		w.Secrets = d.secrets(p, "secret", &src, true, inlineDevOnly)
		out = append(out, w)
	})
	return out
}
