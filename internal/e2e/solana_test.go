package e2e

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

func runSolanaChild(ctx context.Context, rdb *redis.Client, args []string) error {
	return errors.New("solana child: not built yet")
}
