// Command depositd is the deposit daemon. See README.md.
//
//	depositd run -c depositd.yml          the daemon
//	depositd dev [--listen ADDR] [--redis URL]   everything local, for trying it out
//	depositd config validate -c FILE      check a config file
//	depositd verify (-c FILE | --redis URL)     audit the ledger invariants
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/depositd/depositd/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if code != 0 {
		os.Exit(code)
	}
}
