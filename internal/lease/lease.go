// Package lease lets several depositd processes share one Redis: a lease
// per chain with a fencing token, so that one process at a time scans a
// chain and a holder that lost its lease cannot write the chain's state.
//
// Keys, one set per lease name, in one hash slot:
//
//	{lease:<name>}:holder    "<holder id> <token>", expiring after the TTL
//	{lease:<name>}:token     the last token handed out (INCR: monotonic)
//	{lease:<name>}:released  the token of the last term ended by release
//
// On acquire the holder raises every fence copy (Config.Fences: keys the
// writer's scripts compare their token with, one in each hash slot the
// writes touch) to its token before work starts, so from then on a writer
// with an older token is refused by the script it calls.
//
// Clock safety: a holder times its term from the moment it sent the
// acquire or the last successful renewal (monotonic clock, so before
// Redis started the TTL) and stops work at a quarter of the TTL before it
// could expire, renewing every TTL/3 meanwhile. A dead holder's lease
// expires after at most one TTL and the others try every TTL/3, so a
// takeover happens within 4/3 of a TTL of the last renewal.
package lease

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config is one lease.
type Config struct {
	Name   string        // what is leased (a chain name)
	Holder string        // this process's id, unique among the processes
	TTL    time.Duration // lease lifetime after each renewal
	Fences []string      // fence copies raised to the token on acquire
	Logger *slog.Logger
	// Metrics is required.
	Metrics *Metrics
}

// Lease runs work only while this process holds the lease.
type Lease struct {
	rdb redis.UniversalClient
	cfg Config
	log *slog.Logger
}

// New returns a lease over rdb; nothing is read until Run.
func New(rdb redis.UniversalClient, cfg Config) (*Lease, error) {
	var errs []error
	if cfg.Name == "" || strings.ContainsAny(cfg.Name, "{} ") {
		errs = append(errs, fmt.Errorf("name %q: want a non-empty name without braces or spaces", cfg.Name))
	}
	if cfg.Holder == "" || strings.Contains(cfg.Holder, " ") {
		errs = append(errs, fmt.Errorf("holder %q: want a non-empty id without spaces", cfg.Holder))
	}
	if cfg.TTL < 30*time.Millisecond {
		errs = append(errs, fmt.Errorf("ttl %s: too short", cfg.TTL))
	}
	if cfg.Metrics == nil {
		errs = append(errs, errors.New("no metrics"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("lease %s: %w", cfg.Name, err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Lease{rdb: rdb, cfg: cfg, log: cfg.Logger.With("lease", cfg.Name, "holder", cfg.Holder)}, nil
}

func (l *Lease) key(what string) string { return "{lease:" + l.cfg.Name + "}:" + what }

// margin is how long before the lease could expire its holder stops work.
func (l *Lease) margin() time.Duration { return l.cfg.TTL / 4 }

// Holder reads who holds lease name and the term's token; ok is false
// when nobody does.
func Holder(ctx context.Context, rdb redis.UniversalClient, name string) (holder string, token int64, ok bool, err error) {
	v, err := rdb.Get(ctx, "{lease:"+name+"}:holder").Result()
	if errors.Is(err, redis.Nil) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, fmt.Errorf("lease %s holder: %w", name, err)
	}
	id, tok, found := strings.Cut(v, " ")
	n, perr := strconv.ParseInt(tok, 10, 64)
	if !found || perr != nil {
		return "", 0, false, fmt.Errorf("lease %s holder: malformed value %q", name, v)
	}
	return id, n, true, nil
}

// Run tries to acquire the lease every TTL/3 until ctx ends (then returns
// nil). Each time it holds it, it runs work with the term's token and a
// context that is cancelled when the term ends: renewal refused (another
// process holds it), renewal impossible until the safety margin, or ctx
// done. A term also ends when work returns; the lease is then released.
func (l *Lease) Run(ctx context.Context, work func(ctx context.Context, token int64) error) error {
	var lastErr string
	for {
		sent := time.Now()
		tok, takeover, err := l.acquire(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			if err.Error() != lastErr {
				l.log.Warn("lease acquire", "err", err)
				lastErr = err.Error()
			}
		case tok > 0:
			lastErr = ""
			l.hold(ctx, tok, takeover, sent.Add(l.cfg.TTL-l.margin()), work)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(l.cfg.TTL / 3):
		}
	}
}

func (l *Lease) acquire(ctx context.Context) (token int64, takeover bool, err error) {
	res, err := acquireScript.Run(ctx, l.rdb, []string{l.key("holder"), l.key("token"), l.key("released")},
		l.cfg.Holder, l.cfg.TTL.Milliseconds()).Slice()
	if err != nil {
		return 0, false, fmt.Errorf("lease %s: acquire: %w", l.cfg.Name, err)
	}
	if len(res) != 2 {
		return 0, false, fmt.Errorf("lease %s: acquire: unexpected reply %v", l.cfg.Name, res)
	}
	tok, _ := res[0].(int64)
	flag, _ := res[1].(int64)
	return tok, flag == 1, nil
}

// raise sets every fence copy to tok; it fails if one is already higher
// (this term is stale before it began).
func (l *Lease) raise(ctx context.Context, tok int64) error {
	for _, k := range l.cfg.Fences {
		v, err := raiseScript.Run(ctx, l.rdb, []string{k}, tok).Int64()
		if err != nil {
			return fmt.Errorf("raise fence %s: %w", k, err)
		}
		if v > tok {
			return fmt.Errorf("fence %s is at %d, above token %d", k, v, tok)
		}
	}
	return nil
}

// release ends the term early (best effort: otherwise it expires).
func (l *Lease) release(tok int64) {
	ctx, cancel := context.WithTimeout(context.Background(), l.margin())
	defer cancel()
	val := l.cfg.Holder + " " + strconv.FormatInt(tok, 10)
	if err := releaseScript.Run(ctx, l.rdb, []string{l.key("holder"), l.key("released")}, val, tok).Err(); err != nil {
		l.log.Warn("lease release", "token", tok, "err", err)
	}
}
