package config

import (
	"net/url"
	"regexp"
	"time"

	"gopkg.in/yaml.v3"
)

// accountIDRE is the ledger's account id syntax (settlement/ledger.ParseAccountID).
var accountIDRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// Huawei configures the monthly statement import from Huawei Cloud's
// partner billing API (BSS v2). The AK/SK need billing read permission
// only; never use owner or admin credentials.
type Huawei struct {
	Endpoint   string        // BSS endpoint, default https://bss-intl.myhuaweicloud.com
	DomainID   string        // the partner's own account (domain) id
	AK, SK     Secret        // access key pair, from ak_env/ak_file and sk_env/sk_file
	ImportDay  int           // day of the month the previous month is imported from (settlement time zone), default 6
	ImportHour int           // hour of that day, default 0
	PageSize   int           // records per API page, default 100
	Timeout    time.Duration // per API call, default 30s
	Customers  []HuaweiCustomer
}

// HuaweiCustomer maps one Huawei sub-customer to a depositd account.
type HuaweiCustomer struct {
	CustomerID string
	Account    string
}

func huaweiDefaults() *Huawei {
	return &Huawei{Endpoint: "https://bss-intl.myhuaweicloud.com", ImportDay: 6, PageSize: 100, Timeout: 30 * time.Second}
}

func (d *decoder) huawei(n *yaml.Node, path string) *Huawei {
	h := huaweiDefaults()
	var ak, sk secretSrc
	fs := map[string]fieldFn{
		"endpoint":    d.str(&h.Endpoint),
		"domain_id":   d.str(&h.DomainID),
		"import_day":  d.int(&h.ImportDay),
		"import_hour": d.int(&h.ImportHour),
		"page_size":   d.int(&h.PageSize),
		"timeout":     d.duration(&h.Timeout),
		"customers": func(v *yaml.Node, p string) {
			lbl := d.labelsOf(v, "customer_id")
			d.list(v, p, func(i int, e *yaml.Node) {
				ep := elem(p, lbl[i], i)
				d.lines[ep] = e.Line
				var c HuaweiCustomer
				d.mapping(e, ep, map[string]fieldFn{"customer_id": d.str(&c.CustomerID), "account": d.str(&c.Account)})
				h.Customers = append(h.Customers, c)
			})
		},
	}
	d.secretKeys(fs, "ak", "", &ak)
	d.secretKeys(fs, "sk", "", &sk)
	d.mapping(n, path, fs)
	if s := d.secrets(path, "ak", &ak, true, inlineDevOnly); len(s) == 1 {
		h.AK = s[0]
	}
	if s := d.secrets(path, "sk", &sk, true, inlineDevOnly); len(s) == 1 {
		h.SK = s[0]
	}
	return h
}

func (c *Config) validateHuawei(r *reporter) {
	h := c.Huawei
	if h == nil {
		return
	}
	const p = "huawei"
	if u, err := url.Parse(h.Endpoint); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && c.Mode == ModeDev)) {
		r.errorf(join(p, "endpoint"), "want an https URL (http only in mode: dev), got %q", h.Endpoint)
	}
	if h.DomainID == "" {
		r.errorf(join(p, "domain_id"), "required: the partner account id (without it the SDK would ask IAM for it)")
	}
	if h.ImportDay < 1 || h.ImportDay > 28 {
		r.errorf(join(p, "import_day"), "%d out of range 1..28", h.ImportDay)
	}
	if h.ImportHour < 0 || h.ImportHour > 23 {
		r.errorf(join(p, "import_hour"), "%d out of range 0..23", h.ImportHour)
	}
	if h.PageSize < 1 || h.PageSize > 1000 {
		r.errorf(join(p, "page_size"), "%d out of range 1..1000", h.PageSize)
	}
	if h.Timeout <= 0 {
		r.errorf(join(p, "timeout"), "must be positive")
	}
	if len(h.Customers) == 0 {
		r.errorf(join(p, "customers"), "at least one customer_id → account mapping")
	}
	ids := make([]string, len(h.Customers))
	for i, cu := range h.Customers {
		ids[i] = cu.CustomerID
	}
	lbl := labels(ids)
	seenID, seenAcct := map[string]bool{}, map[string]string{}
	for i, cu := range h.Customers {
		ep := elem(join(p, "customers"), lbl[i], i)
		switch {
		case cu.CustomerID == "":
			r.errorf(join(ep, "customer_id"), "required")
		case seenID[cu.CustomerID]:
			r.errorf(join(ep, "customer_id"), "duplicate customer %q", cu.CustomerID)
		}
		seenID[cu.CustomerID] = true
		if !accountIDRE.MatchString(cu.Account) {
			r.errorf(join(ep, "account"), "account id %q: use 1..64 of A-Z a-z 0-9 _ . -", cu.Account)
		} else if prev, ok := seenAcct[cu.Account]; ok {
			r.errorf(join(ep, "account"), "account %q already mapped from customer %q: one statement per account and month", cu.Account, prev)
		} else {
			seenAcct[cu.Account] = cu.CustomerID
		}
	}
}
