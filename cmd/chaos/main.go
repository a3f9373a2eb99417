// Command chaos runs the seeded whole-pipeline fault campaign against the
// depositd binary (see internal/chaos) and prints its summary; it exits 1
// when a check fails.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/internal/chaos"
)

// quiet drops go-redis's own log lines: the campaign restarts Redis on
// purpose and counts what matters.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

func main() {
	var o chaos.Options
	flag.Uint64Var(&o.Seed, "seed", 1, "seed of the fault schedule and the workload")
	flag.DurationVar(&o.Duration, "duration", 5*time.Minute, "length of the fault phase")
	flag.IntVar(&o.Daemons, "daemons", 3, "depositd processes (1-8), sharing the chains by lease")
	flag.StringVar(&o.Bin, "bin", "bin/depositd", "depositd binary")
	flag.StringVar(&o.Dir, "dir", "", "work dir kept after the run (default: a temp dir, removed)")
	flag.Float64Var(&o.RPCFaultRate, "rpc-faults", 0.10, "share of RPC requests and webhook deliveries that fail while faults run")
	load := flag.Bool("load", false, "run the load test instead of the fault campaign")
	rate := flag.Int("rate", 500, "load: deposits per second across the chains")
	addrs := flag.Int("addresses", 1_000_000, "load: watched addresses")
	flag.Parse()
	o.Progress = os.Stderr
	redis.SetLogger(quiet{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *load {
		r, err := chaos.RunLoad(ctx, chaos.LoadOptions{Seed: o.Seed, Duration: o.Duration, Rate: *rate, Addresses: *addrs,
			Daemons: o.Daemons, Bin: o.Bin, Dir: o.Dir, Progress: os.Stderr})
		if err != nil {
			fmt.Fprintln(os.Stderr, "chaos load:", err)
			os.Exit(2)
		}
		r.Print(os.Stdout)
		return
	}
	s, err := chaos.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	s.Print(os.Stdout)
	if !s.OK() {
		os.Exit(1)
	}
}
