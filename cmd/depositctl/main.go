// Command depositctl is the admin CLI over depositd's HTTP API. See
// `depositctl help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/depositd/depositd/internal/ctl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := ctl.Main(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
