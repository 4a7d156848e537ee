// The atomic operations of team mode, as Lua scripts run by Redis (ioredis `defineCommand`): each runs as one
// indivisible step on the server, so two machines can never interleave inside it.

/**
 * Compare-and-set of one store's state, idempotent per write batch.
 * KEYS[1] state hash {v, json}; KEYS[2] the batch's marker key.
 * ARGV: expected version, new JSON, marker TTL in seconds, pub/sub channel, change message prefix.
 * Returns {"dup", v} when this batch was already applied (a retry after a lost reply), {"conflict", v} when another
 * machine wrote first (the caller re-reads, replays its operations on the fresh state and tries again), or
 * {"ok", v+1}.
 */
export const COMPARE_AND_SET_LUA = `
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if redis.call('EXISTS', KEYS[2]) == 1 then return {'dup', current} end
if current ~= tonumber(ARGV[1]) then return {'conflict', current} end
local next = current + 1
redis.call('HSET', KEYS[1], 'v', next, 'json', ARGV[2])
redis.call('SET', KEYS[2], '1', 'EX', tonumber(ARGV[3]))
redis.call('PUBLISH', ARGV[4], ARGV[5] .. ':' .. next)
return {'ok', next}
`;

/**
 * A claim with expiry that exactly one caller gets (the half-open breaker probe across machines).
 * KEYS[1] claim key; ARGV: holder id, TTL in milliseconds. Returns 1 for the caller that got it, else 0.
 * A holder asking again keeps it (an idempotent retry after a lost reply).
 */
export const CLAIM_LUA = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then return 1 end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
return 1
`;

export interface TeamCommands {
  parCompareAndSet(stateKey: string, markerKey: string, expectedVersion: number, json: string, markerTtlSeconds: number, channel: string, message: string): Promise<[string, number]>;
  parClaim(key: string, holder: string, ttlMs: number): Promise<number>;
}
