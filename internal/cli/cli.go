// Package cli is the command line of depositd: it parses subcommands and
// flags and hands over to the daemon, the dev environment or the auditors.
// It is importable so tests run the exact commands users run.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/config"
	"github.com/depositd/depositd/internal/daemon"
	"github.com/depositd/depositd/internal/devmode"
	"github.com/depositd/depositd/settlement/ledger"
)

const usage = `usage:
  depositd run -c FILE                  run the daemon
  depositd dev [--listen ADDR] [--redis URL]
                                        run everything locally (chains, Redis, demo data)
  depositd config validate -c FILE      validate a config file (exit 1 on error)
  depositd verify (-c FILE | --redis URL)
                                        audit the ledger invariants (exit 1 on a breach)
`

// Main runs one depositd command and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = runCmd(ctx, args[1:], stderr)
	case "dev":
		err = devCmd(ctx, args[1:], stdout, stderr)
	case "config":
		if len(args) < 2 || args[1] != "validate" {
			fmt.Fprint(stderr, usage)
			return 2
		}
		err = validateCmd(args[2:], stdout)
	case "verify":
		err = verifyCmd(ctx, args[1:], stdout)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "depositd: unknown command %q\n%s", args[0], usage)
		return 2
	}
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "depositd: %v\n%s", err, usage)
		return 2
	default:
		fmt.Fprintf(stderr, "depositd: %v\n", err)
		return 1
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected arguments: " + strings.Join(fs.Args(), " ")}
	}
	return nil
}

func runCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlags("run")
	path := fs.String("c", "", "config file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *path == "" {
		return usageError{"run: -c FILE is required"}
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.Log.Level}))
	return daemon.Run(ctx, cfg, daemon.Options{Logger: logger})
}

func devCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("dev")
	listen := fs.String("listen", "127.0.0.1:8080", "API and ops page address")
	redisURL := fs.String("redis", "", "use this Redis instead of a private redis-server")
	if err := parse(fs, args); err != nil {
		return err
	}
	return devmode.Run(ctx, devmode.Options{
		Listen:   *listen,
		RedisURL: *redisURL,
		Token:    os.Getenv("DEPOSITD_DEV_TOKEN"),
		Stdout:   stdout,
		Logger:   newLogger(stderr),
	})
}

func validateCmd(args []string, stdout io.Writer) error {
	fs := newFlags("config validate")
	path := fs.String("c", "", "config file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *path == "" {
		return usageError{"config validate: -c FILE is required"}
	}
	if _, err := config.Load(*path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok\n", *path)
	return nil
}

func verifyCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("verify")
	path := fs.String("c", "", "config file (for its redis settings)")
	redisURL := fs.String("redis", "", "redis URL")
	if err := parse(fs, args); err != nil {
		return err
	}
	rdb, err := redisFor(*path, *redisURL)
	if err != nil {
		return err
	}
	defer rdb.Close()
	breaches, err := ledger.New(rdb, nil).Verify(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if len(breaches) == 0 {
		fmt.Fprintln(stdout, "ledger verified: every invariant holds")
		return nil
	}
	for _, b := range breaches {
		fmt.Fprintf(stdout, "BREACH %s: %s\n", b.Invariant, b.Detail)
	}
	return fmt.Errorf("%d invariant breach(es)", len(breaches))
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// redisFor returns a client from --redis, or from the config file's redis
// section.
func redisFor(path, url string) (redis.UniversalClient, error) {
	switch {
	case url != "" && path != "":
		return nil, usageError{"give -c FILE or --redis URL, not both"}
	case url != "":
		return daemon.RedisFromURL(url)
	case path != "":
		cfg, err := config.Load(path)
		if err != nil {
			return nil, err
		}
		return daemon.NewRedis(cfg.Redis)
	}
	return nil, usageError{"-c FILE or --redis URL is required"}
}
