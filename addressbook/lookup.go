package addressbook

import (
	"context"
	"errors"
	"fmt"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/chains/address"
	"github.com/redis/go-redis/v9"
)

// Owner returns the account that registered addr (any accepted spelling:
// it is normalised first). Errors: address.ErrInvalid, ErrNotFound, or a
// wrapped Redis error.
func (b *Book) Owner(ctx context.Context, f chains.Family, addr string) (string, error) {
	norm, _, err := address.Parse(f, addr)
	if err != nil {
		return "", err
	}
	account, err := b.rdb.Get(ctx, addrKey(f, norm)).Result()
	if errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("%s address %s: %w", f, norm, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("owner of %s %s: %w", f, norm, err)
	}
	return account, nil
}

// AddressesOf returns the account's deposit address per family (empty map
// for an account without any).
func (b *Book) AddressesOf(ctx context.Context, account string) (map[chains.Family]string, error) {
	m, err := b.rdb.HGetAll(ctx, acctKey(account)).Result()
	if err != nil {
		return nil, fmt.Errorf("addresses of %s: %w", account, err)
	}
	out := make(map[chains.Family]string, len(m))
	for f, a := range m {
		out[chains.Family(f)] = a
	}
	return out, nil
}
