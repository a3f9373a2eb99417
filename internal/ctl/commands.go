package ctl

// command is one depositctl command: an API route with its arguments.
type command struct {
	name    string   // words typed, e.g. "accounts get"
	args    []string // positional arguments, substituted for {arg} in path
	method  string
	path    string
	query   []string // flags sent as query parameters
	body    []string // flags sent as JSON body fields (strings)
	file    bool     // --file F (or - for stdin) is the request body
	csv     bool     // with file: send as text/csv when the file ends in .csv
	columns []string // what the table shows
	help    string
}

var commands = []command{
	{name: "accounts create", args: []string{"id"}, method: "POST", path: "/v1/accounts", body: []string{"name", "master", "credit_limit"},
		columns: []string{"id", "name", "cash", "credit_limit", "credit_used"}, help: "create a customer account"},
	{name: "accounts list", method: "GET", path: "/v1/accounts",
		columns: []string{"id", "name", "master", "cash", "credit_limit", "credit_used"}, help: "list accounts with balances"},
	{name: "accounts get", args: []string{"id"}, method: "GET", path: "/v1/accounts/{id}",
		columns: []string{"id", "name", "master", "cash", "credit_limit", "credit_used", "version"}, help: "show an account with its balances"},
	{name: "entries", args: []string{"id"}, method: "GET", path: "/v1/accounts/{id}/entries", query: []string{"limit", "cursor"},
		columns: []string{"id", "kind", "key", "at"}, help: "list an account's ledger entries"},

	{name: "addresses register", args: []string{"account", "family", "address"}, method: "POST", path: "/v1/addresses",
		columns: []string{"account", "family", "address"}, help: "register a deposit address (family: evm|tron|solana)"},
	{name: "addresses bulk", method: "POST", path: "/v1/addresses/bulk", file: true,
		columns: []string{"account", "family", "address", "error"}, help: "register many addresses from a JSON file ({\"items\":[…]})"},
	{name: "addresses derive", args: []string{"account", "family"}, method: "POST", path: "/v1/addresses/derive",
		columns: []string{"account", "family", "address", "index"}, help: "derive the next watch-only address from the configured xpub"},
	{name: "addresses lookup", args: []string{"family", "address"}, method: "GET", path: "/v1/addresses/{family}/{address}",
		columns: []string{"account", "family", "address"}, help: "show which account owns an address"},

	{name: "deposits list", method: "GET", path: "/v1/deposits", query: []string{"status", "chain", "account", "limit", "cursor"},
		columns: []string{"id", "token", "amount", "account", "status", "confirmations", "required"}, help: "list deposits"},
	{name: "deposits get", args: []string{"id"}, method: "GET", path: "/v1/deposits/{id}",
		columns: []string{"id", "chain", "token", "tx", "index", "block", "to", "account", "amount", "raw_amount", "status"}, help: "show a deposit"},

	{name: "chains list", method: "GET", path: "/v1/chains",
		columns: []string{"name", "head", "scanned", "final", "lag", "paused"}, help: "chain heads, scan progress and lag"},
	{name: "chains pause", args: []string{"name"}, method: "POST", path: "/v1/chains/{name}/pause",
		columns: []string{"name", "paused"}, help: "stop scanning and crediting a chain"},
	{name: "chains resume", args: []string{"name"}, method: "POST", path: "/v1/chains/{name}/resume",
		columns: []string{"name", "paused"}, help: "resume a paused chain"},

	{name: "statements import", method: "POST", path: "/v1/statements", query: []string{"id", "account", "month"}, file: true, csv: true,
		columns: []string{"id", "account", "month", "status", "amount", "due"}, help: "issue a statement from a JSON file, or CSV lines with --id --account --month"},
	{name: "statements list", method: "GET", path: "/v1/statements", query: []string{"status", "account"},
		columns: []string{"id", "account", "month", "status", "amount", "coupons", "cash", "credit", "due"}, help: "list statements"},
	{name: "statements get", args: []string{"id"}, method: "GET", path: "/v1/statements/{id}",
		columns: []string{"id", "account", "month", "status", "official_amount", "amount", "coupons", "cash", "credit", "due", "due_at"}, help: "show a statement"},
	{name: "settle", args: []string{"id"}, method: "POST", path: "/v1/accounts/{id}/settle",
		columns: []string{"account", "repaid", "payments", "unlocked"}, help: "run the automatic payment of an account now"},
	{name: "credit-limit set", args: []string{"id", "credit_limit"}, method: "PUT", path: "/v1/accounts/{id}/credit-limit",
		columns: []string{"id", "cash", "credit_limit", "credit_used"}, help: "set an account's credit line (USD)"},
	{name: "coupons add", method: "POST", path: "/v1/coupons", file: true,
		columns: []string{"id", "account", "balance", "expires"}, help: "grant a cash coupon from a JSON file"},
	{name: "coupons list", args: []string{"id"}, method: "GET", path: "/v1/accounts/{id}/coupons",
		columns: []string{"id", "balance", "locked", "granted", "expires"}, help: "list an account's cash coupons"},
	{name: "discounts add", method: "POST", path: "/v1/discounts", file: true,
		columns: []string{"id", "account", "kind", "rate", "services"}, help: "add a discount from a JSON file"},
	{name: "discounts list", args: []string{"id"}, method: "GET", path: "/v1/accounts/{id}/discounts",
		columns: []string{"id", "kind", "rate", "services", "from", "until"}, help: "list an account's discounts"},
	{name: "reconcile", method: "GET", path: "/v1/reconciliation", query: []string{"month", "account", "project", "format"},
		columns: []string{"month", "account", "opening", "credited", "paid", "closing"}, help: "reconciliation export (--format csv for CSV)"},
	{name: "credits record", args: []string{"id", "account", "amount"}, method: "POST", path: "/v1/credits",
		body:    []string{"proof_ref", "asset", "asset_amount", "method", "note"},
		columns: []string{"id", "account", "amount", "proof_ref", "status", "entered_by"}, help: "record an off-chain credit (USD) with its proof reference"},
	{name: "credits list", method: "GET", path: "/v1/credits", query: []string{"status", "account"},
		columns: []string{"id", "account", "amount", "asset", "asset_amount", "proof_ref", "status", "entered_by", "approved_by"}, help: "list off-chain credits"},
	{name: "credits get", args: []string{"id"}, method: "GET", path: "/v1/credits/{id}",
		columns: []string{"id", "account", "amount", "asset", "asset_amount", "method", "proof_ref", "status", "entered_by", "approved_by", "rejected_by", "reason", "entry_id"},
		help:    "show an off-chain credit"},
	{name: "credits approve", args: []string{"id"}, method: "POST", path: "/v1/credits/{id}/approve",
		columns: []string{"id", "account", "amount", "status", "entered_by", "approved_by"}, help: "approve a pending off-chain credit (not your own)"},
	{name: "credits reject", args: []string{"id"}, method: "POST", path: "/v1/credits/{id}/reject", body: []string{"reason"},
		columns: []string{"id", "account", "amount", "status", "rejected_by", "reason"}, help: "reject a pending off-chain credit"},
	{name: "webhooks deliveries", method: "GET", path: "/v1/webhooks/deliveries", query: []string{"status", "endpoint", "limit", "cursor"},
		columns: []string{"id", "event_type", "endpoint", "status", "next_at"}, help: "list webhook deliveries"},
	{name: "webhooks redeliver", args: []string{"id"}, method: "POST", path: "/v1/webhooks/deliveries/{id}/redeliver",
		columns: []string{"id", "endpoint", "status", "next_at"}, help: "queue one delivery again"},
	{name: "webhooks redeliver-failed", args: []string{"name"}, method: "POST", path: "/v1/webhooks/endpoints/{name}/redeliver", query: []string{"since"},
		columns: []string{"endpoint", "queued"}, help: "queue every failed delivery of an endpoint (--since RFC3339)"},
}
