-- Ledger steps (see apply.go for the KEYS/ARGV layout). Within a step every
-- read and check happens before its first write: Redis does not roll a
-- script back. A script error (only a corrupt stored amount can raise one,
-- during a step's checks) ends the call after the earlier steps applied;
-- the caller retries the whole call, and those steps replay.
--
-- Amounts are int64 decimal strings. Lua numbers are doubles, exact only to
-- 2^53, so a value is held as a normalised pair h*1e9 + l with |l| < 1e9 and
-- h, l of the same sign; no intermediate leaves the exact range. Writes use
-- HINCRBY, which is int64 in Redis itself.
local B = 1000000000

local function parse(s)
  if not s or s == '' then return 0, 0 end
  local neg = false
  if string.sub(s, 1, 1) == '-' then
    neg = true
    s = string.sub(s, 2)
  end
  if not string.match(s, '^%d+$') or #s > 19 then error('ledger: not an int64 amount: ' .. s) end
  local n = #s
  local h, l = 0, 0
  if n > 9 then
    h = tonumber(string.sub(s, 1, n - 9))
    l = tonumber(string.sub(s, n - 8))
  else
    l = tonumber(s)
  end
  if neg then return -h, -l end
  return h, l
end

local function add(h1, l1, h2, l2)
  local h, l = h1 + h2, l1 + l2
  if l >= B then
    h, l = h + 1, l - B
  elseif l <= -B then
    h, l = h - 1, l + B
  end
  if h > 0 and l < 0 then
    h, l = h - 1, l + B
  elseif h < 0 and l > 0 then
    h, l = h + 1, l - B
  end
  return h, l
end

-- Normalised pairs order lexicographically.
local function cmp(h1, l1, h2, l2)
  if h1 ~= h2 then
    if h1 < h2 then return -1 end
    return 1
  end
  if l1 ~= l2 then
    if l1 < l2 then return -1 end
    return 1
  end
  return 0
end

local function str(h, l)
  if h == 0 then return string.format('%d', l) end
  local sign = ''
  if h < 0 then
    sign, h, l = '-', -h, -l
  end
  return sign .. string.format('%d%09d', h, l)
end

local MAXH, MAXL = parse('9223372036854775807')
local MINH, MINL = parse('-9223372036854775808')

-- step runs one step whose keys start at KEYS[k] and arguments at ARGV[a].
local function step(k, a)
  local acct, sys, idem, ents, outbox = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]
  local key, fp, eid, account = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local now_ms, kind, postings, meta, newlimit = tonumber(ARGV[a + 4]), ARGV[a + 5], ARGV[a + 6], ARGV[a + 7], ARGV[a + 8]
  local ng, nb, ns, ne = tonumber(ARGV[a + 9]), tonumber(ARGV[a + 10]), tonumber(ARGV[a + 11]), tonumber(ARGV[a + 12])

  -- Checks: nothing writes before the "Writes" line.
  local rec = redis.call('HGET', idem, key)
  if rec then
    local reid, racct, rsid, rfp = string.match(rec, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
    if rfp == fp then return {'dup', reid, racct, rsid} end
    return {'fingerprint', rfp or rec}
  end
  local head = redis.call('HMGET', acct, '_ver', '_limit', '_last')
  if not head[1] then return {'notfound'} end
  local limit = head[2] or '0'
  if newlimit ~= '' then limit = newlimit end
  local lh, ll = parse(limit)

  a, k = a + 13, k + 5
  for _ = 1, ng do
    local have = redis.call('HGET', KEYS[k], ARGV[a]) or ''
    if have ~= ARGV[a + 1] then return {'conflict', KEYS[k], ARGV[a], have, ARGV[a + 1]} end
    a, k = a + 2, k + 1
  end
  local books = a
  for _ = 1, nb do
    local h = acct
    if ARGV[a] == 's' then h = sys end
    local book, floor = ARGV[a + 1], ARGV[a + 3]
    local ch, cl = parse(redis.call('HGET', h, book))
    local dh, dl = parse(ARGV[a + 2])
    local nh, nl = add(ch, cl, dh, dl)
    if cmp(nh, nl, MAXH, MAXL) > 0 or cmp(nh, nl, MINH, MINL) < 0 then return {'range', book} end
    if string.find(floor, 'z', 1, true) and cmp(nh, nl, 0, 0) < 0 then
      return {'insufficient', book, str(nh, nl), '0'}
    end
    if string.find(floor, 'c', 1, true) and cmp(nh, nl, -lh, -ll) < 0 then
      return {'insufficient', book, str(nh, nl), str(-lh, -ll)}
    end
    a = a + 4
  end

  -- Writes.
  local ms = now_ms
  local last = tonumber(head[3] or '0')
  if last > ms then ms = last end
  local msid = string.format('%d', ms)

  local ea = a + 2 * ns
  local evs = {}
  for i = 1, ne do
    local sid = redis.call('XADD', outbox, '*', 'id', ARGV[ea], 'type', ARGV[ea + 1],
      'created_at', ARGV[ea + 2], 'data', ARGV[ea + 3])
    evs[i] = ARGV[ea] .. '@' .. sid
    ea = ea + 4
  end
  local sid = redis.call('XADD', ents, msid .. '-*', 'id', eid, 'key', key, 'kind', kind,
    'p', postings, 'm', meta, 'ev', table.concat(evs, ' '))
  redis.call('HSET', idem, key, eid .. '|' .. account .. '|' .. sid .. '|' .. fp)

  a = books
  for _ = 1, nb do
    local h = acct
    if ARGV[a] == 's' then h = sys end
    redis.call('HINCRBY', h, ARGV[a + 1], ARGV[a + 2])
    a = a + 4
  end
  if newlimit ~= '' then redis.call('HSET', acct, '_limit', newlimit) end
  redis.call('HINCRBY', acct, '_ver', 1)
  redis.call('HSET', acct, '_last', msid)
  for _ = 1, ns do
    redis.call('HSET', KEYS[k], ARGV[a], ARGV[a + 1])
    a, k = a + 2, k + 1
  end
  return {'ok', eid, sid}
end

-- A call carries one or more steps of one shard: ARGV[1] is their count and
-- each step's arguments are preceded by its key and argument counts. Steps
-- run in order, each with its own checks before its own writes, so a step
-- sees the steps before it (a repeated key is a replay).
local out = {}
local k, a = 1, 2
for i = 1, tonumber(ARGV[1]) do
  local nk, na = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  out[i] = step(k, a + 2)
  k, a = k + nk, a + 2 + na
end
return out
