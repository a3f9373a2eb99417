package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/config"
	"github.com/depositd/depositd/settlement/ledger"
)

// poolSize is the smallest connection pool the daemon runs with: the
// webhook dispatcher's blocking reader holds one connection per outbox
// shard, and the watchers, API and settlement need their own.
const poolSize = 64

// defaultReadTimeout is go-redis's own read timeout.
const defaultReadTimeout = 3 * time.Second

// NewRedis returns the client of the configured topology: a standalone URL,
// Sentinel (failover client) or Cluster.
func NewRedis(r config.Redis) (redis.UniversalClient, error) {
	switch {
	case r.Sentinel != nil:
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName:       r.Sentinel.Master,
			SentinelAddrs:    r.Sentinel.Addrs,
			Password:         r.Sentinel.Password.Reveal(),
			SentinelPassword: r.Sentinel.SentinelPassword.Reveal(),
			PoolSize:         poolSize,
			// WAIT blocks up to wait_timeout: the reply must not time out first.
			ReadTimeout: max(defaultReadTimeout, r.Sentinel.WaitTimeout+time.Second),
		}), nil
	case r.Cluster != nil:
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:    r.Cluster.Addrs,
			Password: r.Cluster.Password.Reveal(),
			PoolSize: poolSize,
		}), nil
	default:
		return RedisFromURL(r.URL.Reveal())
	}
}

// replicated returns the ledger that acknowledges a step only as durably
// as the topology needs: under Sentinel, once the configured number of
// replicas confirm it, so that a failover cannot lose it. The warnings say
// when the configuration gives that up.
func replicated(l *ledger.Ledger, r config.Redis) (*ledger.Ledger, []string) {
	s := r.Sentinel
	if s == nil {
		return l, nil
	}
	if s.WaitReplicas == 0 {
		return l, []string{"DANGER: redis.sentinel.wait_replicas is 0: a failover can lose acknowledged ledger writes that had not reached the promoted replica"}
	}
	return l.WithWaitReplicas(s.WaitReplicas, s.WaitTimeout), nil
}

// RedisFromURL returns a standalone client for a redis:// URL.
func RedisFromURL(url string) (redis.UniversalClient, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	if opt.PoolSize == 0 {
		opt.PoolSize = poolSize
	}
	return redis.NewClient(opt), nil
}

// ping checks that Redis answers.
func ping(ctx context.Context, rdb redis.UniversalClient) error {
	if err := rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

// redisStartWait is how long start-up waits for Redis to answer: a daemon
// started while redis-server restarts (refusing connections, or answering
// LOADING while it replays its AOF) waits for it instead of exiting.
const redisStartWait = time.Minute

// waitRedis pings Redis until it answers, ctx ends or limit passes,
// logging each failure; it returns the last error when Redis never
// answered.
func waitRedis(ctx context.Context, rdb redis.UniversalClient, limit time.Duration, log *slog.Logger) error {
	deadline := time.Now().Add(limit)
	for {
		err := ping(ctx, rdb)
		if err == nil || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		log.Warn("redis not ready at start; retrying", "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}
