-- One status move of one deposit record, its indexes and its outbox event,
-- atomically, all keys in the account's shard slot. Every check happens
-- before the first write; the first is the writer's fencing token against
-- the shard's fence copy (fenced, prepended from fence.go).
-- KEYS: 1 record, 2 all, 3 chain, 4 account, 5-8 status seen/credited/
--       orphaned/reversed, 9 pending (by block), 10 outbox stream,
--       11 the shard's fence copy for the chain
-- ARGV: 1 op, 2 id, 3 seq, 4 now, 5 block_hash, 6 block, 7 confirmations,
--       8 required, 9 event id, 10 event data, 11 alt (reversed) event id,
--       12 alt event data, 13 created_at, 14 token, 15.. field/value pairs
local stale = fenced(11, 14)
if stale then return stale end
local rec, id = KEYS[1], ARGV[2]
local statusKey = {seen = KEYS[5], credited = KEYS[6], orphaned = KEYS[7], reversed = KEYS[8]}
local cur = redis.call('HGET', rec, 'status')
local curHash = redis.call('HGET', rec, 'block_hash')
local op = ARGV[1]

local function create()
  redis.call('HSET', rec, 'seq', ARGV[3], 'seen_at', ARGV[4])
  redis.call('ZADD', KEYS[2], ARGV[3], id)
  redis.call('ZADD', KEYS[3], ARGV[3], id)
  redis.call('ZADD', KEYS[4], ARGV[3], id)
end

local function fields()
  for i = 15, #ARGV, 2 do
    redis.call('HSET', rec, ARGV[i], ARGV[i + 1])
  end
end

local function move(s)
  if cur then redis.call('ZREM', statusKey[cur], id) end
  redis.call('ZADD', statusKey[s], redis.call('HGET', rec, 'seq'), id)
  redis.call('HSET', rec, 'status', s)
  if s == 'seen' then
    redis.call('ZADD', KEYS[9], ARGV[6], id)
  else
    redis.call('ZREM', KEYS[9], id)
  end
end

local function emit(evt, typ, data)
  redis.call('XADD', KEYS[10], '*', 'id', evt, 'type', typ, 'created_at', ARGV[13], 'data', data)
end

if op == 'seen' then
  if cur == 'credited' or cur == 'reversed' then return '' end
  if cur == 'seen' and curHash == ARGV[5] then
    redis.call('HSET', rec, 'confirmations', ARGV[7])
    return ''
  end
  if not cur then create() end
  fields()
  move('seen')
  emit(ARGV[9], 'deposit.seen', ARGV[10])
  return 'seen'
elseif op == 'conf' then
  if cur == 'seen' and curHash == ARGV[5] then
    if redis.call('HGET', rec, 'confirmations') == ARGV[7] then return '' end
    redis.call('HSET', rec, 'confirmations', ARGV[7])
    return 'conf'
  end
  return ''
elseif op == 'orphan' then
  if curHash ~= ARGV[5] then return '' end
  if cur == 'seen' then
    move('orphaned')
    emit(ARGV[9], 'deposit.orphaned', ARGV[10])
    return 'orphaned'
  elseif cur == 'credited' then
    move('reversed')
    emit(ARGV[11], 'deposit.reversed', ARGV[12])
    return 'reversed'
  end
  return ''
elseif op == 'credit' then
  if cur == 'credited' or cur == 'reversed' then return '' end
  if not cur then create() end
  fields()
  move('credited')
  return 'credited'
elseif op == 'reverse' then
  if cur == 'credited' and curHash == ARGV[5] then
    move('reversed')
    emit(ARGV[9], 'deposit.reversed', ARGV[10])
    return 'reversed'
  end
  return ''
end
return redis.error_reply('unknown op ' .. tostring(op))
