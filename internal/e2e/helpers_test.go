package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/settlement/ledger"
	"github.com/depositd/depositd/watchers"
)

// The kill -9 tests re-execute this test binary as a watcher process;
// childEnv names the chain it watches ("tron" or "solana"), the others
// carry what it needs.
const (
	childEnv   = "DEPOSITD_E2E_CHILD"
	childRedis = "DEPOSITD_E2E_REDIS"
	childArgs  = "DEPOSITD_E2E_ARGS" // chain-specific, comma-separated
)

func TestMain(m *testing.M) {
	if chain := os.Getenv(childEnv); chain != "" {
		if err := runChild(chain); err != nil {
			fmt.Fprintln(os.Stderr, "watcher child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild is the watcher process: it runs until killed.
func runChild(chain string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv(childRedis)})
	defer rdb.Close()
	args := strings.Split(os.Getenv(childArgs), ",")
	switch chain {
	case "tron":
		return runTronChild(ctx, rdb, args)
	case "solana":
		return runSolanaChild(ctx, rdb, args)
	}
	return fmt.Errorf("unknown chain %q", chain)
}

type child struct {
	cmd     *exec.Cmd
	started time.Time
}

func startChild(t *testing.T, env []string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start watcher child: %v", err)
	}
	c := &child{cmd: cmd, started: time.Now()}
	t.Cleanup(c.kill9)
	return c
}

// kill9 sends SIGKILL and reaps the child; calling it twice is harmless.
func (c *child) kill9() {
	if c.cmd.ProcessState != nil {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	_ = c.cmd.Wait()
}

// finalCursor reads the watcher's stored final cursor of chain (0 when none).
func finalCursor(ctx context.Context, rdb *redis.Client, chain string) (uint64, error) {
	s, err := rdb.Get(ctx, "chain:"+chain+":cursor_final").Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(s, 10, 64)
}

// waitFinal waits until chain's final cursor reaches target.
func waitFinal(t *testing.T, rdb *redis.Client, chain string, target uint64, limit time.Duration) {
	t.Helper()
	deadline := time.After(limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		n, err := finalCursor(context.Background(), rdb, chain)
		if err != nil {
			t.Fatal(err)
		}
		if n >= target {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("%s final cursor %d did not reach %d", chain, n, target)
		case <-tick.C:
		}
	}
}

// waitScanned waits until a status published after since (by the child
// started then, its predecessors being dead) reports head scanned.
func waitScanned(t *testing.T, rdb *redis.Client, chain string, since time.Time, head uint64) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := watchers.LoadStatus(context.Background(), rdb, chain)
		if err != nil {
			t.Fatal(err)
		}
		if st.UpdatedAt.After(since) && st.Scanned >= head {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("status %+v: head %d not scanned by the child started at %v", st, head, since)
		case <-tick.C:
		}
	}
}

// checkExactlyOnce compares the ledger's deposit ids with want (sorted) and
// fails on a miss, an extra, a repeat, a deposit of a forbidden transaction
// (txid → why it must not be credited), or a Verify breach.
func checkExactlyOnce(t *testing.T, l *ledger.Ledger, want []string, forbidden map[string]string) {
	t.Helper()
	got, err := l.DepositIDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Errorf("deposit %s credited more than once", got[i])
		}
	}
	for _, id := range got {
		if why, ok := forbidden[txOf(id)]; ok {
			t.Errorf("deposit %s credited, but it is %s", id, why)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("ledger holds %d deposit entries, want %d; missing %v extra %v", len(got), len(want), diff(want, got), diff(got, want))
	}
	breaches, err := l.Verify(context.Background())
	if err != nil || len(breaches) > 0 {
		t.Errorf("ledger verify: %v %v", breaches, err)
	}
}

func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// txOf returns the txid of a deposit id "chain:txid:index".
func txOf(id string) string {
	parts := strings.Split(id, ":")
	if len(parts) != 3 {
		return ""
	}
	return parts[1]
}
