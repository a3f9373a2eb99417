package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// call is one script invocation.
type call struct {
	keys []string
	args []any
}

// runScript runs one script call (plus WAITAOF when enabled).
func (l *Ledger) runScript(ctx context.Context, s *redis.Script, keys []string, args []any) (*redis.Cmd, error) {
	cmds, err := l.evalPipelined(ctx, s, []call{{keys: keys, args: args}})
	if err != nil {
		return nil, err
	}
	return cmds[0], cmds[0].Err()
}

// evalPipelined sends every call's EVALSHA in one pipeline, followed by
// WAITAOF when enabled (it must share the writing connection, which a
// pipeline guarantees on a single node). When the server has lost its script
// cache (a restart), the script is loaded and the pipeline sent again: no
// EVALSHA ran, so nothing was written twice.
func (l *Ledger) evalPipelined(ctx context.Context, s *redis.Script, calls []call) ([]*redis.Cmd, error) {
	cmds, wait, err := l.pipeline(ctx, s, calls)
	if isNoScript(err) {
		if err := s.Load(ctx, l.rdb).Err(); err != nil {
			return nil, fmt.Errorf("load script: %w", err)
		}
		cmds, wait, err = l.pipeline(ctx, s, calls)
	}
	if err != nil && !isScriptReply(err, cmds) {
		return nil, fmt.Errorf("redis: %w", err)
	}
	if wait.aof != nil {
		if err := checkWaitAOF(wait.aof); err != nil {
			return nil, err
		}
	}
	if wait.replicas != nil {
		if err := l.checkWaitReplicas(wait.replicas); err != nil {
			return nil, err
		}
	}
	return cmds, nil
}

// waits are the durability commands sent after a pipeline's scripts.
type waits struct{ aof, replicas *redis.Cmd }

// replFenceKey is written before WAIT so that WAIT covers every earlier
// write on the server, whichever connection made it: WAIT only waits for
// the calling connection's last write, and a replayed step's original
// write may have come from another connection.
const replFenceKey = "replfence"

func (l *Ledger) pipeline(ctx context.Context, s *redis.Script, calls []call) ([]*redis.Cmd, waits, error) {
	pipe := l.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(calls))
	for i, c := range calls {
		cmds[i] = s.EvalSha(ctx, pipe, c.keys, c.args...)
	}
	var wait waits
	if l.waitAOF {
		wait.aof = pipe.Do(ctx, "WAITAOF", 1, 0, 0)
	}
	if l.replicas > 0 {
		pipe.Incr(ctx, replFenceKey)
		wait.replicas = pipe.Do(ctx, "WAIT", l.replicas, l.replTimeout.Milliseconds())
	}
	_, err := pipe.Exec(ctx)
	for _, c := range cmds {
		if isNoScript(c.Err()) {
			return cmds, wait, c.Err()
		}
	}
	return cmds, wait, err
}

func isNoScript(err error) bool {
	return err != nil && (errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT"))
}

// isScriptReply reports whether err is only the first per-command error of
// the pipeline (a script error reply, which the caller decodes per step),
// as opposed to a transport failure.
func isScriptReply(err error, cmds []*redis.Cmd) bool {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return false
	}
	for _, c := range cmds {
		if c.Err() == err {
			return true
		}
	}
	return false
}

func (l *Ledger) checkWaitReplicas(c *redis.Cmd) error {
	n, err := c.Int64()
	if err != nil {
		return fmt.Errorf("wait: %w", err)
	}
	if n < int64(l.replicas) {
		return fmt.Errorf("wait: %d of %d replicas confirmed within %v; outcome unknown, retry", n, l.replicas, l.replTimeout)
	}
	return nil
}

func checkWaitAOF(c *redis.Cmd) error {
	v, err := c.Int64Slice()
	if err != nil {
		return fmt.Errorf("waitaof: %w", err)
	}
	if len(v) < 1 || v[0] < 1 {
		return fmt.Errorf("waitaof: write not fsynced locally (reply %v); outcome unknown, retry", v)
	}
	return nil
}
