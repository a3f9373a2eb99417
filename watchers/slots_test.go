package watchers

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// clusterSlot is Redis Cluster's key → slot map: CRC16 (XMODEM) of the
// key, or of its hash tag (the first non-empty {…}), mod 16384.
func clusterSlot(key string) int {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	var crc uint16
	for _, c := range []byte(key) {
		crc ^= uint16(c) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc % 16384)
}

// scriptKeys records the keys of every script call through a client.
type scriptKeys struct {
	mu    sync.Mutex
	calls [][]string
}

func (h *scriptKeys) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *scriptKeys) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h *scriptKeys) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if name := cmd.Name(); name == "evalsha" || name == "eval" {
			args := cmd.Args()
			n, _ := strconv.Atoi(fmt.Sprint(args[2]))
			keys := make([]string, n)
			for i := range keys {
				keys[i] = fmt.Sprint(args[3+i])
			}
			h.mu.Lock()
			h.calls = append(h.calls, keys)
			h.mu.Unlock()
		}
		return next(ctx, cmd)
	}
}

// TestScriptKeysShareASlot: every script the watcher and the lease run —
// fenced cursor, status and deposit writes, acquire, renew, fence raises —
// keeps all its keys in one Redis Cluster slot. (Renew and release are
// one-key and two-key scripts on the lease's own tag.)
func TestScriptKeysShareASlot(t *testing.T) {
	if got := clusterSlot("foo"); got != 12182 { // Redis Cluster spec's example
		t.Fatalf("slot(foo) = %d, want 12182", got)
	}
	if clusterSlot("{chain:x:cursor_tip}:fence") != clusterSlot("chain:x:cursor_tip") {
		t.Fatal("a fence copy is not in its key's slot")
	}
	r := newRig(t, 2)
	hook := &scriptKeys{}
	r.rdb.AddHook(hook)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hold := make(chan struct{})
	defer close(hold)
	w := r.watcher(t)
	w.token = startTerm(t, ctx, r.rdb, "A", time.Second, hold)
	for i := range 8 {
		r.chain.Mine(usdt("alice", int64(100+i)), usdt("bob", int64(200+i)))
	}
	r.chain.Mine()
	poll(t, w)
	checkExactlyOnce(t, r)

	hook.mu.Lock()
	defer hook.mu.Unlock()
	shapes := map[int]bool{}
	for _, keys := range hook.calls {
		if strings.HasPrefix(keys[0], recCreditPrefix) {
			continue // the test's ledger model (recorder), not a depositd script
		}
		shapes[len(keys)] = true
		for _, k := range keys[1:] {
			if clusterSlot(k) != clusterSlot(keys[0]) {
				t.Errorf("script keys %v span slots %d and %d", keys, clusterSlot(keys[0]), clusterSlot(k))
			}
		}
	}
	// 1 fence raise, 2 fenced set/hset, 3 acquire, 11 deposit writes.
	for _, n := range []int{1, 2, 3, 11} {
		if !shapes[n] {
			t.Errorf("no script call with %d keys recorded (shapes %v): the check did not see every script", n, shapes)
		}
	}
}
