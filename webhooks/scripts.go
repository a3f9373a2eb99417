package webhooks

import "github.com/redis/go-redis/v9"

// The scripts keep each state change of a delivery atomic: its hash, its
// due-set entry and its index entries move together. Every script reads
// and checks before its first write.

// enqueueScript creates the deliveries of one event, skipping those that
// exist (a re-consumed outbox entry), and stores the event body once.
//
// KEYS: event, due, ix:pending, ix:(all); then per delivery: hash,
// ix:pending:<ep>, ix::<ep>.
// ARGV: body, now ms, event id, event type, created ms, index member
// prefix; then per delivery: id, endpoint.
// Returns the number of deliveries created.
var enqueueScript = redis.NewScript(`
local exists = {}
local n = (#KEYS - 4) / 3
for i = 0, n - 1 do
  exists[i] = redis.call('EXISTS', KEYS[5 + 3*i])
end
redis.call('SET', KEYS[1], ARGV[1], 'NX')
local created = 0
for i = 0, n - 1 do
  if exists[i] == 0 then
    local id, ep = ARGV[7 + 2*i], ARGV[8 + 2*i]
    local m = ARGV[6] .. id
    redis.call('HSET', KEYS[5 + 3*i], 'id', id, 'event_id', ARGV[3], 'event_type', ARGV[4],
      'endpoint', ep, 'status', 'pending', 'n', '0', 'created', ARGV[5],
      'updated', ARGV[2], 'next_at', ARGV[2], 'member', m, 'lease', '', 'lease_until', '0', 'redeliver', '0')
    redis.call('ZADD', KEYS[2], ARGV[2], id)
    redis.call('ZADD', KEYS[3], 0, m)
    redis.call('ZADD', KEYS[4], 0, m)
    redis.call('ZADD', KEYS[6 + 3*i], 0, m)
    redis.call('ZADD', KEYS[7 + 3*i], 0, m)
    created = created + 1
  end
end
return created
`)

// claimScript leases up to a limit of due deliveries: each is pushed out
// in the due set to the lease's end (so no other process sees it due) and
// stamped with the lease token that completeScript checks.
//
// KEYS: due, disabled. ARGV: now ms, lease end ms, limit, token, key prefix.
// Returns per delivery {id, endpoint, event id, n, body or nil,
// endpoint disabled 0|1, status}.
var claimScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local dk = ARGV[5] .. 'd:' .. id
  local f = redis.call('HMGET', dk, 'endpoint', 'event_id', 'n', 'status')
  if not f[1] then
    redis.call('ZREM', KEYS[1], id)
  else
    local body = redis.call('GET', ARGV[5] .. 'ev:' .. f[2])
    local dis = redis.call('HEXISTS', KEYS[2], f[1])
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    redis.call('HSET', dk, 'lease', ARGV[4], 'lease_until', ARGV[2])
    out[#out + 1] = {id, f[1], f[2], f[3], body, dis, f[4]}
  end
end
return out
`)

// completeScript records an attempt's outcome if the caller still holds
// the lease; a redelivery requested meanwhile turns the outcome into a
// fresh pending delivery.
//
// KEYS: hash, attempts, due, disabled, then index pairs (all endpoints,
// this endpoint) of the old status, the new status and pending.
// ARGV: token, now ms, status, n, next_at ms or "", attempt JSON or "",
// disable endpoint "1"|"0", endpoint.
// Returns 1 when applied, 0 when the lease was lost.
var completeScript = redis.NewScript(`
local d = KEYS[1]
if redis.call('HGET', d, 'lease') ~= ARGV[1] then return 0 end
local f = redis.call('HMGET', d, 'id', 'member', 'redeliver')
local status, n, nextAt, k = ARGV[3], ARGV[4], ARGV[5], 7
if f[3] == '1' then status, n, nextAt, k = 'pending', '0', ARGV[2], 9 end
if ARGV[6] ~= '' then redis.call('RPUSH', KEYS[2], ARGV[6]) end
if ARGV[7] == '1' then redis.call('HSET', KEYS[4], ARGV[8], ARGV[2]) end
redis.call('HSET', d, 'status', status, 'n', n, 'next_at', nextAt, 'updated', ARGV[2],
  'lease', '', 'lease_until', '0', 'redeliver', '0')
if nextAt ~= '' then redis.call('ZADD', KEYS[3], nextAt, f[1]) else redis.call('ZREM', KEYS[3], f[1]) end
redis.call('ZREM', KEYS[5], f[2])
redis.call('ZREM', KEYS[6], f[2])
redis.call('ZADD', KEYS[k], 0, f[2])
redis.call('ZADD', KEYS[k + 1], 0, f[2])
return 1
`)

// releaseScript gives a lease back unused (shutdown during an attempt),
// making the delivery due at once for any process.
//
// KEYS: hash, due. ARGV: token, now ms. Returns 1 when released.
var releaseScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'lease') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'lease', '', 'lease_until', '0')
redis.call('ZADD', KEYS[2], ARGV[2], redis.call('HGET', KEYS[1], 'id'))
return 1
`)

// redeliverScript queues a delivery again with a fresh schedule and
// re-enables its endpoint. A delivery whose lease is live is only flagged:
// completeScript requeues it when the attempt in flight ends, so one
// delivery is never sent twice at once.
//
// KEYS: hash, due, disabled, then the 10 status indexes. ARGV: now ms,
// endpoint. Returns -1 when the delivery does not exist, else 1.
var redeliverScript = redis.NewScript(`
local d = KEYS[1]
if redis.call('EXISTS', d) == 0 then return -1 end
local f = redis.call('HMGET', d, 'id', 'member', 'lease', 'lease_until')
redis.call('HDEL', KEYS[3], ARGV[2])
if f[3] and f[3] ~= '' and tonumber(f[4] or '0') > tonumber(ARGV[1]) then
  redis.call('HSET', d, 'redeliver', '1')
  return 1
end
redis.call('HSET', d, 'status', 'pending', 'n', '0', 'next_at', ARGV[1], 'updated', ARGV[1],
  'lease', '', 'lease_until', '0', 'redeliver', '0')
redis.call('ZADD', KEYS[2], ARGV[1], f[1])
for i = 4, 13 do redis.call('ZREM', KEYS[i], f[2]) end
redis.call('ZADD', KEYS[4], 0, f[2])
redis.call('ZADD', KEYS[5], 0, f[2])
return 1
`)
