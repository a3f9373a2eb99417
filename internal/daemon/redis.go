package daemon

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/config"
)

// poolSize is the smallest connection pool the daemon runs with: the
// webhook dispatcher's blocking reader holds one connection per outbox
// shard, and the watchers, API and settlement need their own.
const poolSize = 64

// NewRedis returns the client of the configured topology: a standalone URL,
// Sentinel (failover client) or Cluster.
func NewRedis(r config.Redis) (redis.UniversalClient, error) {
	switch {
	case r.Sentinel != nil:
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName:    r.Sentinel.Master,
			SentinelAddrs: r.Sentinel.Addrs,
			Password:      r.Sentinel.Password.Reveal(),
			PoolSize:      poolSize,
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
