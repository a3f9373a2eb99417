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
}
