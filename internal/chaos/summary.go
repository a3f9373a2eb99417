package chaos

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/depositd/depositd/money"
	"github.com/depositd/depositd/settlement"
)

// maxProblems bounds the problems a summary lists (the counts stay exact).
const maxProblems = 50

// Summary is what a campaign did and what the checker found.
type Summary struct {
	Seed     uint64
	Duration time.Duration
	Daemons  int
	Plan     int // faults planned from the seed

	Faults        map[string]int // applied, by kind
	ReorgsSkipped int            // planned reorgs with no room above finality at that moment
	UnplannedExit int            // depositd exits the campaign did not cause
	RPCRequests   int
	RPCFaults     map[string]int // by kind (EVM and Solana proxies; Tron: armed Unavailable)
	HookFailures  int            // deliveries the receiver refused

	Sent          map[string]int // deposits sent, by chain
	SendErrors    int
	Issued        int // statements issued
	FinalByChain  map[string]int
	FinalDeposits int
	Credited      int
	Lost          int
	Doubled       int
	Unfounded     int // credits without a final transfer
	DepositedUSD  money.Units
	Payments      int
	Statements    map[settlement.Status]int

	Events, Delivered, DeadLettered, Undelivered int

	Verify   string // `depositd verify` output
	VerifyOK bool

	Problems  []string
	nProblems int
}

func (s *Summary) problem(format string, args ...any) {
	s.nProblems++
	if len(s.Problems) < maxProblems {
		s.Problems = append(s.Problems, fmt.Sprintf(format, args...))
	}
}

// OK reports whether every check held.
func (s *Summary) OK() bool {
	return s.nProblems == 0 && s.VerifyOK && s.Lost == 0 && s.Doubled == 0 && s.Unfounded == 0 && s.Undelivered == 0
}

func (s *Summary) collectFaults(in *injector, daemons []*daemon, recv *receiver) {
	s.Faults, s.RPCFaults = map[string]int{}, map[string]int{}
	s.FinalByChain, s.Statements = map[string]int{}, map[settlement.Status]int{}
	in.mu.Lock()
	for k := range nKinds {
		s.Faults[k.String()] = in.applied[k]
	}
	s.ReorgsSkipped = in.skipped
	for _, e := range in.errs {
		s.problem("fault injection: %s", e)
	}
	s.RPCRequests += in.tronReqs
	s.RPCFaults["tron unavailable"] += in.tronErrs
	in.mu.Unlock()
	kills := 0
	for _, d := range daemons {
		k, e := d.counts()
		kills += k
		s.UnplannedExit += e
	}
	s.Faults[kindKill.String()] = kills
	for _, p := range in.proxies() {
		reqs, fs := p.counts()
		s.RPCRequests += reqs
		for k, v := range fs {
			s.RPCFaults[rpcFault(k).String()] += v
		}
	}
	s.HookFailures = recv.failures()
}

func (s *Summary) collectLoad(w *workload) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s.Sent = map[string]int{}
	for k, v := range w.sent {
		s.Sent[k] = v
	}
	s.SendErrors, s.Issued = w.sendErrs, w.statements
}

// verifyCLI runs `depositd verify` on the campaign's Redis.
func (s *Summary) verifyCLI(ctx context.Context, bin, redisURL string) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "verify", "--redis", redisURL)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	s.Verify = strings.TrimSpace(out.String())
	s.VerifyOK = err == nil
	if err != nil {
		s.problem("depositd verify: %v: %s", err, s.Verify)
	}
}

// RPCFaultShare is the share of RPC requests that were answered with a fault.
func (s *Summary) RPCFaultShare() float64 {
	if s.RPCRequests == 0 {
		return 0
	}
	n := 0
	for _, v := range s.RPCFaults {
		n += v
	}
	return float64(n) / float64(s.RPCRequests)
}

// Print writes the summary table.
func (s *Summary) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(tw, "  %s\t%v\n", k, v) }
	fmt.Fprintf(tw, "chaos campaign: seed %d, %s of faults, %d depositd processes, %d faults planned\n", s.Seed, s.Duration, s.Daemons, s.Plan)
	fmt.Fprintln(tw, "faults injected")
	for _, k := range sortedKeys(s.Faults) {
		row(k, s.Faults[k])
	}
	row("reorgs skipped (no room above finality)", s.ReorgsSkipped)
	row("rpc requests", s.RPCRequests)
	for _, k := range sortedKeys(s.RPCFaults) {
		row("rpc fault: "+k, s.RPCFaults[k])
	}
	row("rpc fault share", fmt.Sprintf("%.1f%%", 100*s.RPCFaultShare()))
	row("webhook requests refused", s.HookFailures)
	row("depositd exits not caused by the campaign", s.UnplannedExit)
	fmt.Fprintln(tw, "deposits")
	for _, k := range sortedKeys(s.Sent) {
		row("sent on "+k, s.Sent[k])
	}
	row("send errors", s.SendErrors)
	for _, k := range sortedKeys(s.FinalByChain) {
		row("final on "+k, s.FinalByChain[k])
	}
	row("final transfers to watched addresses", s.FinalDeposits)
	row("credited", s.Credited)
	row("lost", s.Lost)
	row("doubled", s.Doubled)
	row("credited without a transfer", s.Unfounded)
	row("USD deposited", s.DepositedUSD)
	fmt.Fprintln(tw, "settlement")
	row("statements issued", s.Issued)
	for _, st := range []settlement.Status{settlement.Paid, settlement.PartiallyPaid, settlement.Pending, settlement.Overdue} {
		row("statements "+string(st), s.Statements[st])
	}
	row("payments", s.Payments)
	fmt.Fprintln(tw, "events")
	row("events", s.Events)
	row("delivered", s.Delivered)
	row("dead-lettered", s.DeadLettered)
	row("neither", s.Undelivered)
	row("depositd verify", map[bool]string{true: "clean", false: "FAILED"}[s.VerifyOK])
	verdict := "PASS"
	if !s.OK() {
		verdict = fmt.Sprintf("FAIL (%d problems)", s.nProblems)
	}
	fmt.Fprintf(tw, "result: %s\n", verdict)
	_ = tw.Flush()
	for _, p := range s.Problems {
		fmt.Fprintln(w, "  problem:", p)
	}
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
