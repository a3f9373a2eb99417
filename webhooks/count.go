package webhooks

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Count returns how many deliveries are in status now, for endpoint (""
// for every endpoint), from the listing index: one ZCARD, no scan. It reads
// only; an unknown status is ErrBadFilter.
func (d *Dispatcher) Count(ctx context.Context, status, endpoint string) (int64, error) {
	if !slices.Contains(statuses, status) {
		return 0, fmt.Errorf("%w: status %q: want one of %s", ErrBadFilter, status, strings.Join(statuses, ", "))
	}
	n, err := d.rdb.ZCard(ctx, d.k.index(status, endpoint)).Result()
	if err != nil {
		return 0, fmt.Errorf("count %s deliveries: %w", status, err)
	}
	return n, nil
}
