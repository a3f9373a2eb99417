-- Ledger steps (see apply.go for the KEYS/ARGV layout). Within a step every
-- read and check happens before its first write: Redis does not roll a
-- script back. A script error (only a corrupt stored amount can raise one,
-- during a step's checks) ends the call after the earlier steps applied;
-- the caller retries the whole call, and those steps replay.
--
-- Amounts are int64 decimal strings. Lua numbers are doubles, exact only to
-- 2^53, so a value is held as a normalised pair h*1e9 + l with |l| < 1e9 and
-- h, l of the same sign; no intermediate leaves the exact range, and a new
-- value is written as its exact decimal string (never a float).
local B = 1000000000
local call, tonumber, unpack = redis.call, tonumber, unpack
local sub, match, find, format = string.sub, string.match, string.find, string.format
local KEYS, ARGV = KEYS, ARGV

local function parse(s)
  if not s or s == '' then return 0, 0 end
  local neg = false
  if sub(s, 1, 1) == '-' then
    neg = true
    s = sub(s, 2)
  end
  if not match(s, '^%d+$') or #s > 19 then error('ledger: not an int64 amount: ' .. s) end
  local n = #s
  local h, l = 0, 0
  if n > 9 then
    h = tonumber(sub(s, 1, n - 9))
    l = tonumber(sub(s, n - 8))
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
  if h == 0 then return format('%d', l) end
  local sign = ''
  if h < 0 then
    sign, h, l = '-', -h, -l
  end
  return sign .. format('%d%09d', h, l)
end

local MAXH, MAXL = parse('9223372036854775807')
local MINH, MINL = parse('-9223372036854775808')

-- Per-call state. Every step of a call belongs to one shard, and while it
-- runs only this call writes the ledger's own hashes (account, system books,
-- idempotency records), so they are read once and written once per call:
-- cached[hash][field] is the current value (a string, or false when
-- missing), read with one HMGET for the fields not cached yet; put changes
-- it and marks it dirty; flush writes every dirty field with one HSET per
-- hash. flush runs before any guard reads a key, and at the end of the call
-- or when a step raises an error, so the stored state is always the one the
-- applied steps produced.
local cached, dirty = {}, {}

local function fetch(hash, fields)
  local c = cached[hash]
  if not c then
    c = {}
    cached[hash] = c
  end
  local miss = {}
  for i = 1, #fields do
    if c[fields[i]] == nil then miss[#miss + 1] = fields[i] end
  end
  if #miss > 0 then
    local v = call('HMGET', hash, unpack(miss))
    for i = 1, #miss do c[miss[i]] = v[i] or false end
  end
  return c
end

local function put(hash, field, value)
  cached[hash][field] = value
  local d = dirty[hash]
  if not d then
    d = {n = 0, set = {}, list = {}}
    dirty[hash] = d
    dirty[#dirty + 1] = hash
  end
  if not d.set[field] then
    d.set[field] = true
    d.n = d.n + 1
    d.list[d.n] = field
  end
end

local function flush()
  for i = 1, #dirty do
    local hash = dirty[i]
    local d, c, args = dirty[hash], cached[hash], {}
    for j = 1, d.n do
      args[2 * j - 1] = d.list[j]
      args[2 * j] = c[d.list[j]]
    end
    call('HSET', hash, unpack(args))
  end
  dirty = {}
end

-- step runs one step whose keys start at KEYS[k] and arguments at ARGV[a].
local function step(k, a)
  local acct, sys, idem, ents, outbox = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]
  local key, fp, eid, account = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local now_ms, kind, postings, meta, newlimit = tonumber(ARGV[a + 4]), ARGV[a + 5], ARGV[a + 6], ARGV[a + 7], ARGV[a + 8]
  local ng, nb, ns, ne = tonumber(ARGV[a + 9]), tonumber(ARGV[a + 10]), tonumber(ARGV[a + 11]), tonumber(ARGV[a + 12])
  local ga, gk = a + 13, k + 5 -- guards
  local ba = ga + 2 * ng -- books
  local sa, sk = ba + 4 * nb, gk + ng -- sets
  local ea = sa + 2 * ns -- events

  -- Checks: nothing writes before the "Writes" line.
  local ic = fetch(idem, {key})
  local rec = ic[key]
  if rec then
    local reid, racct, rsid, rfp = match(rec, '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
    if rfp == fp then return {'dup', reid, racct, rsid} end
    return {'fingerprint', rfp or rec}
  end
  local af, sf, climit = {'_ver', '_limit', '_last'}, {}, newlimit ~= ''
  for i = 0, nb - 1 do
    local p = ba + 4 * i
    if ARGV[p] == 's' then sf[#sf + 1] = ARGV[p + 1] else af[#af + 1] = ARGV[p + 1] end
    if find(ARGV[p + 3], 'c', 1, true) then climit = true end
  end
  local av = fetch(acct, af)
  if not av._ver then return {'notfound'} end
  local sv = {}
  if #sf > 0 then sv = fetch(sys, sf) end
  local lh, ll = 0, 0 -- the credit limit, parsed only when a floor needs it
  if climit then
    local limit = av._limit or '0'
    if newlimit ~= '' then limit = newlimit end
    lh, ll = parse(limit)
  end

  if ng > 0 then flush() end
  for i = 0, ng - 1 do
    local have = call('HGET', KEYS[gk + i], ARGV[ga + 2 * i]) or ''
    if have ~= ARGV[ga + 2 * i + 1] then
      return {'conflict', KEYS[gk + i], ARGV[ga + 2 * i], have, ARGV[ga + 2 * i + 1]}
    end
  end
  local nv = {} -- new value of each book, exact
  for i = 0, nb - 1 do
    local p = ba + 4 * i
    local book, floor, cur = ARGV[p + 1], ARGV[p + 3], av
    if ARGV[p] == 's' then cur = sv end
    local ch, cl = parse(cur[book] or nil)
    local dh, dl = parse(ARGV[p + 2])
    local nh, nl = add(ch, cl, dh, dl)
    if cmp(nh, nl, MAXH, MAXL) > 0 or cmp(nh, nl, MINH, MINL) < 0 then return {'range', book} end
    if find(floor, 'z', 1, true) and cmp(nh, nl, 0, 0) < 0 then
      return {'insufficient', book, str(nh, nl), '0'}
    end
    if find(floor, 'c', 1, true) and cmp(nh, nl, -lh, -ll) < 0 then
      return {'insufficient', book, str(nh, nl), str(-lh, -ll)}
    end
    nv[i] = str(nh, nl)
  end

  -- Writes.
  local ms = now_ms
  local last = tonumber(av._last or '0')
  if last > ms then ms = last end
  local msid = format('%d', ms)

  local evs = {}
  for i = 1, ne do
    local sid = call('XADD', outbox, '*', 'id', ARGV[ea], 'type', ARGV[ea + 1],
      'created_at', ARGV[ea + 2], 'data', ARGV[ea + 3])
    evs[i] = ARGV[ea] .. '@' .. sid
    ea = ea + 4
  end
  local sid = call('XADD', ents, msid .. '-*', 'id', eid, 'key', key, 'kind', kind,
    'p', postings, 'm', meta, 'ev', table.concat(evs, ' '))
  put(idem, key, eid .. '|' .. account .. '|' .. sid .. '|' .. fp)
  for i = 0, nb - 1 do
    local p = ba + 4 * i
    if ARGV[p] == 's' then put(sys, ARGV[p + 1], nv[i]) else put(acct, ARGV[p + 1], nv[i]) end
  end
  -- _ver stays far below 2^53.
  put(acct, '_ver', format('%d', tonumber(av._ver) + 1))
  put(acct, '_last', msid)
  if newlimit ~= '' then put(acct, '_limit', newlimit) end
  for i = 0, ns - 1 do
    call('HSET', KEYS[sk + i], ARGV[sa + 2 * i], ARGV[sa + 2 * i + 1])
  end
  return {'ok', eid, sid}
end

-- A call carries one or more steps of one shard: ARGV[1] is their count and
-- each step's arguments are preceded by its key and argument counts. Steps
-- run in order, each with its own checks before its own writes, so a step
-- sees the steps before it (a repeated key is a replay). Before the first
-- step, the idempotency records of every step are read in one HMGET per hash.
local n = tonumber(ARGV[1])
local want = {}
local k, a = 1, 2
for _ = 1, n do
  local nk, na = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local idem = KEYS[k + 2]
  if not want[idem] then want[idem] = {} end
  local w = want[idem]
  w[#w + 1] = ARGV[a + 2]
  k, a = k + nk, a + 2 + na
end
for idem, keys in pairs(want) do fetch(idem, keys) end

local out = {}
k, a = 1, 2
for i = 1, n do
  local nk, na = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local ok, r = pcall(step, k, a + 2)
  if not ok then
    flush()
    error(r, 0)
  end
  out[i] = r
  k, a = k + nk, a + 2 + na
end
flush()
return out
