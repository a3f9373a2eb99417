package addressbook

import (
	"context"
	"errors"
	"fmt"
)

// ErrUnconfirmed is returned for a registration the master stored but too
// few replicas confirmed within Options.WaitTimeout: a failover may lose it.
// Look the address up (or register it again) before handing it out.
var ErrUnconfirmed = errors.New("registration not confirmed by the replicas")

// replFenceKey is written before WAIT so that WAIT covers every earlier
// write on the server, the registrations of this call included.
const replFenceKey = tag + ":replfence"

// confirm waits until Options.WaitReplicas replicas have every write the
// server made before it; nil at once when no wait is configured.
func (b *Book) confirm(ctx context.Context) error {
	if b.waitReplicas == 0 {
		return nil
	}
	pipe := b.rdb.Pipeline() // one connection: WAIT covers the fence write
	pipe.Incr(ctx, replFenceKey)
	wait := pipe.Do(ctx, "WAIT", b.waitReplicas, b.waitTimeout.Milliseconds())
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("%w: %v", ErrUnconfirmed, err)
	}
	n, err := wait.Int64()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnconfirmed, err)
	}
	if n < int64(b.waitReplicas) {
		return fmt.Errorf("%w: %d of %d replicas within %v", ErrUnconfirmed, n, b.waitReplicas, b.waitTimeout)
	}
	return nil
}
