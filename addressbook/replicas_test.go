package addressbook

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/depositd/depositd/chains"
	"github.com/depositd/depositd/internal/redistest"
)

// TestRegisterWaitsForReplicas: with WaitReplicas a registration succeeds
// only once the replica has it; with the replica frozen (SIGSTOP) it fails
// with ErrUnconfirmed, and once the replica runs again the address is
// found on it.
func TestRegisterWaitsForReplicas(t *testing.T) {
	d := redistest.NewSentinel(t)
	ctx := context.Background()
	b, err := New(d.Client(t), Options{Mints: []SolanaMint{usdcMint, usdtMint}, WaitReplicas: 1, WaitTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Register(ctx, "acme", chains.FamilyEVM, "0x9e96e6f92d132a82ea8024682a633cc7d0f5c4c3"); err != nil {
		t.Fatalf("register with the replica up: %v", err)
	}
	if err := d.Replica().Pause(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Replica().Resume() })
	const frozen = "0x00000000000000000000000000000000000000aa"
	b.waitTimeout = 300 * time.Millisecond
	e, err := b.Register(ctx, "initech", chains.FamilyEVM, frozen)
	if !errors.Is(err, ErrUnconfirmed) {
		t.Fatalf("register with the replica frozen: err %v; want ErrUnconfirmed", err)
	}
	if err := d.Replica().Resume(); err != nil {
		t.Fatal(err)
	}
	replica := d.Replica().Client(t)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		owner, err := replica.Get(ctx, addrKey(e.Family, e.Address)).Result()
		if err == nil && owner == "initech" {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the unconfirmed registration never reached the resumed replica: %q, %v", owner, err)
		case <-tick.C:
		}
	}
}

func TestNewRefusesWaitWithoutTimeout(t *testing.T) {
	if _, err := New(nil, Options{WaitReplicas: 1}); err == nil {
		t.Fatal("New accepted WaitReplicas 1 with no timeout")
	}
}
