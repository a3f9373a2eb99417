package watchers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/depositd/depositd/outbox"
)

// Fencing. Every write of a chain's state (cursors, status, deposit
// records) runs in a script that compares the writer's token with a fence
// copy in the written key's own hash slot and refuses a lower token; a
// higher one raises the copy. The lease (internal/lease) raises every copy
// of FenceKeys to a new holder's token before the holder starts, so a
// stalled former holder can no longer write. Token 0 is a watcher without
// a lease: it may write only while no lease was ever taken on the chain.
//
//	{chain:<name>:cursor_final}:fence   same slot as chain:<name>:cursor_final
//	{chain:<name>:cursor_tip}:fence     same slot as chain:<name>:cursor_tip
//	{chain:<name>:status}:fence         same slot as chain:<name>:status
//	{sNN}:fence:<name>                  each deposit shard's copy

// ErrStaleFence is a write refused because a newer lease term fenced the
// chain: this process no longer owns it.
var ErrStaleFence = errors.New("stale fencing token")

// staleTag is the error prefix the scripts reply with.
const staleTag = "STALEFENCE"

// fenceLua checks the token ARGV[ti] against the copy KEYS[fi]; every
// script that writes chain state begins with it.
const fenceLua = `
local function fenced(fi, ti)
  local f = tonumber(redis.call('GET', KEYS[fi]) or '0')
  local t = tonumber(ARGV[ti])
  if t < f then return redis.error_reply('` + staleTag + ` token ' .. ARGV[ti] .. ' below fence ' .. f) end
  if t > f then redis.call('SET', KEYS[fi], ARGV[ti]) end
  return nil
end
`

// fenceOf names the fence copy in key's slot (key has no hash tag).
func fenceOf(key string) string { return "{" + key + "}:fence" }

func shardFence(shard int, chain string) string { return outbox.Tag(shard) + ":fence:" + chain }

// FenceKeys lists every fence copy of chain, for the lease to raise.
func FenceKeys(chain string) []string {
	out := []string{
		fenceOf(chainKey(chain, "cursor_final")), fenceOf(chainKey(chain, "cursor_tip")),
		fenceOf(chainKey(chain, "status")),
	}
	for i := range outbox.Shards {
		out = append(out, shardFence(i, chain))
	}
	return out
}

// staleErr turns a script's refusal into ErrStaleFence.
func staleErr(err error) error {
	var re redis.Error
	if errors.As(err, &re) && strings.HasPrefix(re.Error(), staleTag) {
		return fmt.Errorf("%w: %s", ErrStaleFence, strings.TrimPrefix(re.Error(), staleTag+" "))
	}
	return err
}

// setScript: SET KEYS[1] ARGV[2] under the fence KEYS[2], token ARGV[1].
var setScript = redis.NewScript(fenceLua + `
local e = fenced(2, 1)
if e then return e end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`)

// hsetScript: HSET KEYS[1] with the pairs ARGV[2..] under the fence
// KEYS[2], token ARGV[1].
var hsetScript = redis.NewScript(fenceLua + `
local e = fenced(2, 1)
if e then return e end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
return 1
`)

func fencedSet(ctx context.Context, rdb redis.UniversalClient, token int64, key string, v any) error {
	return staleErr(setScript.Run(ctx, rdb, []string{key, fenceOf(key)}, token, v).Err())
}

func fencedHSet(ctx context.Context, rdb redis.UniversalClient, token int64, key string, pairs ...any) error {
	return staleErr(hsetScript.Run(ctx, rdb, []string{key, fenceOf(key)}, append([]any{token}, pairs...)...).Err())
}
