/** The directory's Lua scripts: each a check-and-write that must be atomic on Redis. */

/** Moves a session from one owner to another, only if it still has the first. KEYS: session, from's set, to's set. */
export const MOVE_SESSION = `
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'owner', ARGV[2])
  redis.call('SREM', KEYS[2], ARGV[3])
  redis.call('SADD', KEYS[3], ARGV[3])
  return 1
end
return 0`;

/** Forgets a session, only if this instance still owns it. KEYS: session, owner's set. */
export const DROP_SESSION = `
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] then
  redis.call('SREM', KEYS[2], ARGV[2])
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * Hands a dead instance's requests of one session over for ending, each only
 * if it is still among the dead instance's records: a reaper that retries (it
 * failed midway, or its lock expired) never reports one twice.
 * KEYS: dead's requests, session's lost requests, session's request owners.
 * ARGV: dead id, TTL ms, then per request: field, request id, lost record.
 */
export const REPORT_LOST = `
local reported = 0
for i = 3, #ARGV, 3 do
  if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then
    redis.call('HSET', KEYS[2], ARGV[i + 1], ARGV[i + 2])
    reported = reported + 1
  end
  if redis.call('HGET', KEYS[3], ARGV[i + 1]) == ARGV[1] then redis.call('HDEL', KEYS[3], ARGV[i + 1]) end
end
if reported > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return reported`;

/** Forgets a request's owner, only if it is still this instance (the id may have been reused elsewhere). */
export const DROP_REQUEST_OWNER = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0`;
