-- Opens an account (see ledger.go CreateAccount). KEYS: account hash, entry
-- stream. ARGV: name, master, created, credit limit, now ms, entry id, key,
-- meta JSON. The existence check comes before any write.
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
redis.call('XADD', KEYS[2], ARGV[5] .. '-*', 'id', ARGV[6], 'key', ARGV[7], 'kind', 'account.open',
  'p', '[]', 'm', ARGV[8], 'ev', '')
redis.call('HSET', KEYS[1], '_name', ARGV[1], '_master', ARGV[2], '_created', ARGV[3],
  '_limit', ARGV[4], '_ver', '1', '_last', ARGV[5], 'cash', '0', 'credit', '0')
return 'ok'
