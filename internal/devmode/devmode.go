// Package devmode is `depositd dev`: the whole product on one machine with
// no internet and no accounts — a private redis-server, local chains that
// mine blocks on a timer, demo accounts with addresses, statements, coupons
// and a discount, a local Huawei Cloud partner billing API the statement
// import reads, a stream of test deposits, and a local webhook receiver
// that verifies and prints every event.
package devmode

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"

	"golang.org/x/sync/errgroup"

	"github.com/depositd/depositd/config"
	"github.com/depositd/depositd/internal/daemon"
	"github.com/depositd/depositd/internal/redistest"
	"github.com/depositd/depositd/webhooks"
)

// Options configure the dev environment.
type Options struct {
	Listen   string // API and ops page, default 127.0.0.1:8080
	RedisURL string // "" = start a private redis-server in a temp dir
	Token    string // dev API token (read and write); "" = a random one
	Stdout   io.Writer
	Logger   *slog.Logger
}

// Run starts everything and blocks until ctx ends.
func Run(ctx context.Context, opts Options) error {
	log := opts.Logger
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:8080"
	}
	if opts.Token == "" {
		opts.Token = randomHex(16)
	}
	if opts.RedisURL == "" {
		dir, err := os.MkdirTemp("", "depositd-dev-redis-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		srv, err := redistest.Start(ctx, dir)
		if err != nil {
			return fmt.Errorf("dev redis: %w", err)
		}
		defer srv.Stop()
		opts.RedisURL = srv.URL()
		log.Info("dev: private redis-server started", "addr", srv.Addr(), "dir", dir)
	}

	nets, err := startChains(ctx, log)
	if err != nil {
		return err
	}
	defer nets.close()

	secret := "whsec_" + base64.StdEncoding.EncodeToString(randomBytes(32))
	recv := webhooks.NewReceiver([]string{secret}, log.With("part", "dev-receiver"))
	recvLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	recvSrv := &http.Server{Handler: recv}
	defer recvSrv.Close()

	hw, err := startHuawei(ctx, opts.RedisURL)
	if err != nil {
		return err
	}
	defer hw.Close()

	yml, err := renderConfig(devParams{
		Listen: opts.Listen, RedisURL: opts.RedisURL, Token: opts.Token,
		HuaweiURL: hw.URL, HuaweiCustomer: devHuaweiCustomer, HuaweiAccount: devHuaweiAccount,
		WebhookURL: "http://" + recvLn.Addr().String() + "/webhooks", WebhookSecret: secret,
		Chains: nets.configs(),
	})
	if err != nil {
		return err
	}
	cfg, err := config.Parse(yml, "depositd-dev.yml")
	if err != nil {
		return fmt.Errorf("dev config: %w", err)
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", opts.Listen, err)
	}

	g, gctx := errgroup.WithContext(ctx)
	started := make(chan *daemon.Daemon, 1)
	g.Go(func() error {
		if err := recvSrv.Serve(recvLn); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		defer recvSrv.Close()
		return daemon.Run(gctx, cfg, daemon.Options{Logger: log, Listener: ln, Started: func(d *daemon.Daemon) { started <- d }})
	})
	g.Go(func() error { return nets.mine(gctx) })
	g.Go(func() error {
		var d *daemon.Daemon
		select {
		case <-gctx.Done():
			return nil
		case d = <-started:
		}
		demo, err := seed(gctx, d, nets)
		if err != nil {
			return fmt.Errorf("dev demo data: %w", err)
		}
		fmt.Fprintf(opts.Stdout, "\ndepositd dev is running\n  ops page:  http://%s/\n  API:       http://%s/v1/  (Authorization: Bearer %s)\n  try:       DEPOSITD_DEV_TOKEN=%s bin/depositctl deposits list --url http://%s\n\n",
			d.Addr, d.Addr, opts.Token, opts.Token, d.Addr)
		return nets.generate(gctx, demo, log)
	})
	err = g.Wait()
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }
