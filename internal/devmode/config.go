package devmode

import (
	"bytes"
	"text/template"
)

// devConfig is the YAML `depositd dev` runs on: local chains, inline dev
// secrets (allowed only in mode: dev) and fast finality settings. It goes
// through the same strict parser and validation as a production file.
var devConfig = template.Must(template.New("dev").Parse(`mode: dev
listen: {{.Listen}}
redis:
  url: {{.RedisURL}}
api:
  tokens:
    - name: dev
      scopes: [read, write]
      token: {{.Token}}
settlement:
  overdue_sweep: 10s
  low_balance_thresholds: ["100", "10"]
{{- if .Xpubs}}
addresses:
  xpubs:
{{- range $f, $x := .Xpubs}}
    {{$f}}: {{$x}}
{{- end}}
{{- end}}
chains:
{{- range .Chains}}
  - name: {{.Name}}
    kind: {{.Kind}}
{{- if .ChainID}}
    chain_id: {{.ChainID}}
{{- end}}
    endpoints:
      - url: {{.URL}}
{{- if .SolidityURL}}
    solidity_endpoints:
      - url: {{.SolidityURL}}
{{- end}}
    poll_interval: {{.Poll}}
    finality:
      policy: {{.Policy}}
      confirmations: {{.Confirmations}}
      max_lag: 1000
    batch_size: 100
    tokens:
{{- range .Tokens}}
      - symbol: {{.Symbol}}
        address: "{{.Address}}"
        decimals: {{.Decimals}}
{{- if .Program}}
        program: {{.Program}}
{{- end}}
        min_amount: "1"
{{- end}}
{{- end}}
{{- if .HuaweiURL}}
huawei:
  endpoint: {{.HuaweiURL}}
  domain_id: dev-partner
  ak: dev-ak
  sk: dev-sk
  import_day: 1
  customers:
    - customer_id: {{.HuaweiCustomer}}
      account: {{.HuaweiAccount}}
{{- end}}
webhooks:
  endpoints:
    - name: dev-receiver
      url: {{.WebhookURL}}
      secret: {{.WebhookSecret}}
      allow_private: true
      schedule: [0s, 1s, 5s, 30s]
`))

type devChain struct {
	Name, Kind, URL, SolidityURL, Poll, Policy string
	ChainID, Confirmations                     uint64
	Tokens                                     []devToken
}

type devToken struct {
	Symbol, Address, Program string
	Decimals                 int
}

type devParams struct {
	Listen, RedisURL, Token, WebhookURL, WebhookSecret string
	HuaweiURL, HuaweiCustomer, HuaweiAccount           string
	Xpubs                                              map[string]string
	Chains                                             []devChain
}

func renderConfig(p devParams) ([]byte, error) {
	var b bytes.Buffer
	err := devConfig.Execute(&b, p)
	return b.Bytes(), err
}
