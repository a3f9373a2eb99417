package config

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// chainNameRE keeps chain names safe inside deposit ids ("chain:tx:index"),
// Redis keys and metric labels.
var chainNameRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// symbolRE keeps token symbols short and printable.
var symbolRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.]{0,15}$`)

// endpointSchemes are the RPC URL schemes each kind's adapter speaks.
var endpointSchemes = map[Kind][]string{
	KindEVM:    {"http", "https", "ws", "wss"},
	KindTron:   {"grpc", "grpcs"},
	KindSolana: {"http", "https"},
}

func (c *Config) validateChains(r *reporter) {
	if len(c.Chains) == 0 {
		r.errorf("chains", "required: at least one chain")
	}
	names := make([]string, len(c.Chains))
	for i, ch := range c.Chains {
		names[i] = ch.Name
	}
	lbl := labels(names)
	first := map[string]string{}
	for i := range c.Chains {
		ch := &c.Chains[i]
		p := elem("chains", lbl[i], i)
		switch {
		case ch.Name == "":
			r.errorf(join(p, "name"), "required")
		case !chainNameRE.MatchString(ch.Name):
			r.errorf(join(p, "name"), "%q: want lower-case letters, digits, - or _ (at most 32)", ch.Name)
		case first[ch.Name] != "":
			r.errorf(join(p, "name"), "duplicate chain %q (first at %s)", ch.Name, first[ch.Name])
		default:
			first[ch.Name] = p
		}
		if _, ok := policiesByKind[ch.Kind]; !ok {
			r.errorf(join(p, "kind"), "unknown kind %q (want evm, tron or solana)", ch.Kind)
			continue // the remaining rules depend on the kind
		}
		ch.validate(r, p)
	}
}

func (ch *Chain) validate(r *reporter, p string) {
	evm := ch.Kind == KindEVM
	switch {
	case evm && ch.ChainID == 0:
		r.errorf(join(p, "chain_id"), "required for kind evm (1 = Ethereum, 56 = BSC)")
	case !evm && ch.ChainID != 0:
		r.errorf(join(p, "chain_id"), "only for kind evm")
	}
	if len(ch.Endpoints) == 0 {
		r.errorf(join(p, "endpoints"), "required: at least one RPC endpoint")
	}
	checkEndpoints(r, join(p, "endpoints"), ch.Kind, ch.Endpoints)
	if ch.Kind != KindTron && len(ch.SolidityEndpoints) > 0 {
		r.errorf(join(p, "solidity_endpoints"), "only for kind tron")
	}
	checkEndpoints(r, join(p, "solidity_endpoints"), ch.Kind, ch.SolidityEndpoints)
	if ch.PollInterval < 100*time.Millisecond || ch.PollInterval > 10*time.Minute {
		r.errorf(join(p, "poll_interval"), "%s out of range 100ms..10m", ch.PollInterval)
	}
	ch.validateFinality(r, join(p, "finality"))
	switch {
	case evm && ch.MaxRange == 0:
		r.errorf(join(p, "max_range"), "must be at least 1")
	case !evm && ch.MaxRange != 0:
		r.errorf(join(p, "max_range"), "only for kind evm")
	}
	if ch.BatchSize < 1 || ch.BatchSize > 10_000 {
		r.errorf(join(p, "batch_size"), "%d out of range 1..10000", ch.BatchSize)
	}
	ch.validateTokens(r, join(p, "tokens"))
}

func checkEndpoints(r *reporter, path string, k Kind, eps []Endpoint) {
	for i, ep := range eps {
		p := elem(path, "", i)
		// The URL may carry a provider key: name the scheme, never the URL.
		u, err := url.Parse(ep.URL.Reveal())
		switch {
		case ep.URL == "":
			r.errorf(join(p, "url"), "required: set url, url_env or url_file")
		case err != nil:
			r.errorf(join(p, "url"), "not a URL")
		case !slices.Contains(endpointSchemes[k], u.Scheme):
			r.errorf(join(p, "url"), "scheme %q not allowed for kind %s (want %s)", u.Scheme, k, strings.Join(endpointSchemes[k], ", "))
		case u.Host == "" || u.Hostname() == "":
			r.errorf(join(p, "url"), "missing host")
		}
		if ep.APIKey != "" && k != KindTron {
			r.errorf(join(p, "api_key"), "only for kind tron")
		}
		if ep.Weight < 1 || ep.Weight > 1000 {
			r.errorf(join(p, "weight"), "%d out of range 1..1000", ep.Weight)
		}
	}
}

func (ch *Chain) validateFinality(r *reporter, p string) {
	f := ch.Finality
	allowed := policiesByKind[ch.Kind]
	if !slices.Contains(allowed, f.Policy) {
		want := make([]string, len(allowed))
		for i, a := range allowed {
			want[i] = string(a)
		}
		r.errorf(join(p, "policy"), "%q not valid for kind %s (want %s)", f.Policy, ch.Kind, strings.Join(want, " or "))
	}
	if f.Policy == PolicyConfirmations && f.Confirmations == 0 {
		r.errorf(join(p, "confirmations"), "must be at least 1 under policy confirmations")
	}
	if f.MaxLag == 0 {
		r.errorf(join(p, "max_lag"), "must be at least 1")
	}
}

func (ch *Chain) validateTokens(r *reporter, path string) {
	if len(ch.Tokens) == 0 {
		r.errorf(path, "required: at least one token")
	}
	syms := make([]string, len(ch.Tokens))
	for i, t := range ch.Tokens {
		syms[i] = t.Symbol
	}
	lbl := labels(syms)
	bySym, byAddr := map[string]string{}, map[string]string{}
	for i, t := range ch.Tokens {
		p := elem(path, lbl[i], i)
		switch {
		case t.Symbol == "":
			r.errorf(join(p, "symbol"), "required")
		case !symbolRE.MatchString(t.Symbol):
			r.errorf(join(p, "symbol"), "%q: want 1-16 letters, digits or dots", t.Symbol)
		case bySym[strings.ToUpper(t.Symbol)] != "":
			r.errorf(join(p, "symbol"), "duplicate token %q (first at %s)", t.Symbol, bySym[strings.ToUpper(t.Symbol)])
		default:
			bySym[strings.ToUpper(t.Symbol)] = p
		}
		addr, err := checkAddress(ch.Kind, t.Address)
		switch {
		case t.Address == "":
			r.errorf(join(p, "address"), "required: the token contract (mint) address")
		case err != nil:
			r.errorf(join(p, "address"), "%q: %v", t.Address, err)
		case byAddr[strings.ToLower(addr)] != "":
			r.errorf(join(p, "address"), "duplicate token address %s (first at %s)", addr, byAddr[strings.ToLower(addr)])
		default:
			byAddr[strings.ToLower(addr)] = p
		}
		known, isKnown := knownToken{}, false
		if err == nil {
			known, isKnown = lookupKnown(ch.Kind, ch.ChainID, addr)
		}
		ch.validateToken(r, p, t, known, isKnown)
	}
}

func (ch *Chain) validateToken(r *reporter, p string, t Token, known knownToken, isKnown bool) {
	switch {
	case t.Decimals == unsetDecimals:
		r.errorf(join(p, "decimals"), "required: no pinned decimals for this address")
	case t.Decimals < 0 || t.Decimals > 36:
		r.errorf(join(p, "decimals"), "%d out of range 0..36", t.Decimals)
	case isKnown && t.Decimals != known.decimals:
		r.errorf(join(p, "decimals"), "must be %d for %s %s at %s, config says %d",
			known.decimals, ch.Name, known.symbol, known.address, t.Decimals)
	}
	if isKnown && t.Symbol != "" && !strings.EqualFold(t.Symbol, known.symbol) {
		r.errorf(join(p, "symbol"), "%s is the pinned %s contract, not %s", known.address, known.symbol, t.Symbol)
	}
	switch {
	case ch.Kind != KindSolana && t.Program != "":
		r.errorf(join(p, "program"), "only for kind solana")
	case ch.Kind == KindSolana && t.Program != ProgramToken && t.Program != ProgramToken2022:
		r.errorf(join(p, "program"), "unknown program %q (want token or token2022)", t.Program)
	case isKnown && known.program != "" && t.Program != known.program:
		r.errorf(join(p, "program"), "mint %s belongs to program %s, config says %s", known.address, known.program, t.Program)
	}
	switch {
	case t.MinAmount.IsNegative():
		r.errorf(join(p, "min_amount"), "must not be negative, got %s", t.MinAmount)
	case t.Decimals >= 0 && t.Decimals <= 36 && -t.MinAmount.Exponent() > t.Decimals &&
		!t.MinAmount.Shift(t.Decimals).IsInteger():
		r.errorf(join(p, "min_amount"), "%s is finer than the token's %d decimals", t.MinAmount, t.Decimals)
	}
	if !t.USDRate.IsPositive() {
		r.errorf(join(p, "usd_rate"), "must be positive, got %s", t.USDRate)
	}
}
