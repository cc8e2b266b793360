/**
 * The compare-and-set append, one round trip: idempotency check, schema-version guard, revision
 * check, SET with TTL and the turn-id record happen atomically inside Redis.
 *
 * KEYS[1] session key, KEYS[2] turn-id index
 * ARGV[1] expected revision (0 = the session must not exist)
 * ARGV[2] new envelope (its revision is ARGV[1] + 1)
 * ARGV[3] turnId
 * ARGV[4] TTL seconds (0 = none)
 * ARGV[5] highest schemaVersion this instance may overwrite (0 = no check)
 * ARGV[6] turn ids to keep (0 = all)
 * ARGV[7] deadline, epoch ms by Redis's TIME (0 = none): past it the script refuses, so a write the
 *         service has already answered 503 (timeout) is not applied later when a stalled Redis resumes.
 *         The service sets it to half its budget from the send.
 *
 * Returns {status, revision, schemaVersion}; status codes are CAS_STATUS below.
 */
export const CAS_STATUS = { applied: 1, replayed: 2, conflict: 3, unsupported: 4, corrupt: 5, expired: 6 } as const;

export const CAS_APPEND_LUA = `
local applied = redis.call('ZSCORE', KEYS[2], ARGV[3])
if applied then return {2, tonumber(applied), 0} end
local deadline = tonumber(ARGV[7])
if deadline > 0 then
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > deadline then return {6, 0, 0} end
end
local cur = redis.call('GET', KEYS[1])
local rev, ver = 0, 0
if cur then
  local v, r = string.match(cur, '^{"schemaVersion":(%d+),"revision":(%d+),')
  if not v then
    local ok, doc = pcall(cjson.decode, cur)
    if not ok or type(doc) ~= 'table' or type(doc.revision) ~= 'number' or type(doc.schemaVersion) ~= 'number' then
      return {5, 0, 0}
    end
    v, r = doc.schemaVersion, doc.revision
  end
  rev, ver = tonumber(r), tonumber(v)
end
local maxv = tonumber(ARGV[5])
if maxv > 0 and ver > maxv then return {4, rev, ver} end
if rev ~= tonumber(ARGV[1]) then return {3, rev, ver} end
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[2])
end
redis.call('ZADD', KEYS[2], rev + 1, ARGV[3])
local keep = tonumber(ARGV[6])
if keep > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -keep - 1) end
if ttl > 0 then redis.call('EXPIRE', KEYS[2], ttl) end
return {1, rev + 1, ver}
`;

/**
 * Key layout 1 → 2 (keys.ts), on the new pair only, so it runs in the new slot of a cluster:
 * KEYS[1] new session key, KEYS[2] new turn-id index; ARGV[1] envelope, ARGV[2] TTL ms (0 = none),
 * ARGV[3..] score, member, … of the old index. Nothing is written if KEYS[1] exists: a session that
 * was moved (and maybe written since) is never overwritten with the older copy. Returns 1 if moved.
 */
export const ADOPT_LEGACY_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local ttl = tonumber(ARGV[2])
if ttl > 0 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl) else redis.call('SET', KEYS[1], ARGV[1]) end
for i = 3, #ARGV, 400 do
  redis.call('ZADD', KEYS[2], unpack(ARGV, i, math.min(i + 399, #ARGV)))
end
if ttl > 0 and #ARGV > 2 then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
`;
