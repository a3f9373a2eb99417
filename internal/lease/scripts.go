package lease

import "github.com/redis/go-redis/v9"

// acquireScript takes the lease when nobody holds it: the next token
// (INCR), the holder value "<holder> <token>" with a TTL. It returns
// {token, takeover} — takeover 1 when the previous term ended by expiry
// rather than release — or {0, current holder value} when held.
// KEYS: 1 holder, 2 token, 3 released. ARGV: 1 holder id, 2 ttl ms.
var acquireScript = redis.NewScript(`
local h = redis.call('GET', KEYS[1])
if h then return {0, h} end
local prev = redis.call('GET', KEYS[2])
local rel = redis.call('GET', KEYS[3])
local t = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. t, 'PX', ARGV[2])
local takeover = 0
if prev and prev ~= rel then takeover = 1 end
return {t, takeover}
`)

// renewScript extends the lease if the caller still holds this term.
// KEYS: 1 holder. ARGV: 1 holder value, 2 ttl ms. Returns 1 or 0.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`)

// releaseScript ends the caller's term early so another process need not
// wait for the TTL, and records it as released (not a takeover).
// KEYS: 1 holder, 2 released. ARGV: 1 holder value, 2 token.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('SET', KEYS[2], ARGV[2])
  return 1
end
return 0
`)

// raiseScript sets a fence copy to the token unless it is already higher.
// KEYS: 1 fence copy. ARGV: 1 token. Returns the copy's value afterwards.
var raiseScript = redis.NewScript(`
local f = tonumber(redis.call('GET', KEYS[1]) or '0')
local t = tonumber(ARGV[1])
if t > f then
  redis.call('SET', KEYS[1], ARGV[1])
  return t
end
return f
`)
