// The atomic operations of team mode, as Lua scripts run by Redis (ioredis `defineCommand`): each runs as one
// indivisible step on the server, so two machines can never interleave inside it.
// Each change notice is sent last with redis.pcall: an ACL user without the team's channel (Redis 7 grants a new user
// none) has its PUBLISH refused, and a refusal raised there would make the script answer an error after its writes
// were made (the caller would take a done write for a failed one). The notice is only a shortcut: the other machines
// find the change at their 5 s re-check, and the subscriber's refused SUBSCRIBE says why once.
import { MAX_STATE_AMOUNT } from "../state/state-numbers.ts";

/**
 * Compare-and-set of one store's state, idempotent per write batch.
 * KEYS[1] state hash {v, json}; KEYS[2] the batch's marker key.
 * ARGV: expected version, new JSON, marker TTL in seconds, pub/sub channel, change message prefix, and (see
 * EPOCH_GUARD_LUA) the epoch key and the epoch the writer's view is synced with.
 * Returns {"epoch", 0} when the team store lost its data since (nothing written), {"dup", v} when this batch was
 * already applied (a retry after a lost reply), {"conflict", v} when another machine wrote first (the caller re-reads,
 * replays its operations on the fresh state and tries again), or {"ok", v+1}.
 */
export const COMPARE_AND_SET_LUA = `
local epoch = ARGV[7]
if epoch and epoch ~= '' and redis.call('GET', ARGV[6]) ~= epoch then return {'epoch', 0} end
-- A version that is no whole number (a hand edit) reads as 0, as the machines read it (teamVersion in
-- redis-store.ts): compared as it was, every write would conflict, and none land. The write that replaces it takes
-- the server's time in ms as its version, past any a machine may hold from before (each compares its own for
-- equality, and would take a new version 1 for the one it had).
local raw = redis.call('HGET', KEYS[1], 'v')
local current = tonumber(string.match(raw or '0', '^%d+$') or '0')
if redis.call('EXISTS', KEYS[2]) == 1 then return {'dup', current} end
if current ~= tonumber(ARGV[1]) then return {'conflict', current} end
local next = current + 1
if raw and not string.match(raw, '^%d+$') then
  local t = redis.call('TIME')
  next = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
redis.call('HSET', KEYS[1], 'v', string.format('%d', next), 'json', ARGV[2])
redis.call('SET', KEYS[2], '1', 'EX', tonumber(ARGV[3]))
redis.pcall('PUBLISH', ARGV[4], ARGV[5] .. ':' .. next)
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

/**
 * Lua that checks, before a script's first write, that the ACL user may run each of its writes (Redis 7's
 * acl_check_cmd; older servers skip it), and else ends the script with Redis's own words for a refused command.
 * `fixed`: Lua tables {command, args...}; every key from KEYS[periodsFrom] to `periodsTo` (a Lua expression, the last
 * key unless given) is a period hash (added to, expired, checked for existence), and every key after it a marker (set
 * with an expiry).
 */
function checkedBeforeWriting(fixed: string, periodsFrom: number, periodsTo = "#KEYS"): string {
  return `if redis.acl_check_cmd then
  local checks = {${fixed}}
  for i = ${periodsTo} + 1, #KEYS do table.insert(checks, {'SET', KEYS[i], '1', 'EX', '1'}) end
  for i = ${periodsFrom}, ${periodsTo} do
    table.insert(checks, {'HINCRBYFLOAT', KEYS[i], 'x', '1'})
    table.insert(checks, {'HGET', KEYS[i], 'x'})
    table.insert(checks, {'HSET', KEYS[i], 'x', '1'})
    table.insert(checks, {'EXPIRE', KEYS[i], '1'})
    table.insert(checks, {'EXISTS', KEYS[i]})
    table.insert(checks, {'TYPE', KEYS[i]})
    table.insert(checks, {'RENAME', KEYS[i], KEYS[i] .. ':corrupt-string'})
  end
  for _, check in ipairs(checks) do
    if not redis.acl_check_cmd(unpack(check)) then
      -- In Redis's own words for a refused command (a refused key would have stopped the commands sent before).
      return redis.error_reply("NOPERM this user has no permissions to run the '" .. string.lower(check[1]) .. "' command")
    end
  end
end`;
}

/**
 * Lua: `addTo(key, field, amount, ttl)` adds to a period hash's field with HINCRBYFLOAT. A field holding something
 * other than a number (a hand edit, another tool's write) makes HINCRBYFLOAT fail, which would end the script half-way,
 * after the attempt's marker (or the push's mark) was set: the entry would then never count, on any machine. Such a
 * value is kept aside in `<hash>:corrupt` for as long as the hash lives, and the field starts again from the amount;
 * so is a number no real ledger reaches (below 0 or above MAX_STATE_AMOUNT, state-numbers.ts: the machines read such a
 * field as none), kept aside as it was before the addition. A period's key that holds another kind of value than a
 * hash goes aside whole as `<key>:corrupt-<kind>` (listed with the field '' and the kind as its value). `aside` lists
 * each as key, field, value, for the script's answer (the machine says so). Any other refusal (a full Redis) ends the
 * script as before.
 */
const ADD_TO_LUA = `
local aside = {}
local function keepAside(key, field, value, amount, ttl)
  redis.call('HSET', key .. ':corrupt', field, value)
  redis.call('EXPIRE', key .. ':corrupt', tonumber(ttl))
  redis.call('HSET', key, field, amount)
  table.insert(aside, key)
  table.insert(aside, field)
  table.insert(aside, value)
end
local function addTo(key, field, amount, ttl)
  local added = redis.pcall('HINCRBYFLOAT', key, field, amount)
  if type(added) ~= 'table' or not added.err then
    local total = tonumber(added)
    if not total or (total >= 0 and total <= ${MAX_STATE_AMOUNT}) then return end
    keepAside(key, field, tostring(total - tonumber(amount)), amount, ttl)
    return
  end
  if string.find(added.err, 'WRONGTYPE', 1, true) then
    -- The period's key holds another kind of value: it goes aside whole, and the period starts again from here.
    local kind = redis.call('TYPE', key).ok
    redis.call('RENAME', key, key .. ':corrupt-' .. kind)
    redis.call('EXPIRE', key .. ':corrupt-' .. kind, tonumber(ttl))
    redis.call('HINCRBYFLOAT', key, field, amount)
    table.insert(aside, key)
    table.insert(aside, '')
    table.insert(aside, kind)
    return
  end
  if not (string.find(added.err, 'not a float', 1, true) or string.find(added.err, 'NaN or Infinity', 1, true)) then
    error(added)
  end
  keepAside(key, field, redis.call('HGET', key, field), amount, ttl)
end`;

/**
 * One counted attempt into the spend ledger: a hash per day and per month (see redis-ledger.ts), each field added
 * with HINCRBYFLOAT, guarded by the attempt's marker set in the same step, so a re-sent write never counts twice.
 * KEYS[1] the attempt's marker; KEYS[2] the provider's reservations hash; KEYS[3] the set of period hashes;
 * KEYS[4] the set of imported old files; KEYS[5..] the period hashes. ARGV: marker TTL s, reservation id ('' for
 * none), JSON array (one entry per period hash: {"fields": {field: "amount"}, "ttl": seconds}), pub/sub channel,
 * change message, JSON array of the old files the entry imports ('' for none: an old file's spend counts once for the
 * whole team, whichever machine sends it first), the epoch key and the writer's epoch (as in COMPARE_AND_SET_LUA).
 * The first entry of a new day or month also forgets the period hashes Redis expired from the set.
 * Returns {1, <fields kept aside, as in ADD_TO_LUA>...} when counted, {0} when the attempt (or every old file it
 * imports) was already counted. Either way the reservation is ended. Returns {-1} (nothing written) when the team
 * store lost its data since the writer's last sync: an entry added to emptied hashes would make the re-seed of the
 * whole ledger think it still holds one.
 */
export const RECORD_USAGE_LUA = `
local epoch = ARGV[8]
if epoch and epoch ~= '' and redis.call('GET', ARGV[7]) ~= epoch then return {-1} end
-- Redis does not undo a script's writes when a later command of it fails: a command refused to the ACL user half-way
-- (EXPIRE for a user without @keyspace) would leave the attempt's marker set and its day counted but not its month,
-- and the retry would then find it counted. Every write is checked first, so a refusal writes nothing and the entry
-- counts whole once the user is granted the command.
${checkedBeforeWriting("{'HDEL', KEYS[2], 'x'}, {'SET', KEYS[1], '1', 'NX', 'EX', '1'}, {'SADD', KEYS[4], 'x'}, {'SADD', KEYS[3], 'x'}, {'SMEMBERS', KEYS[3]}, {'SREM', KEYS[3], 'x'}", 5)}
${ADD_TO_LUA}
if ARGV[2] ~= '' then redis.call('HDEL', KEYS[2], ARGV[2]) end
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[1])) then return {0} end
if ARGV[6] and ARGV[6] ~= '' then
  local added = 0
  for _, marker in ipairs(cjson.decode(ARGV[6])) do added = added + redis.call('SADD', KEYS[4], marker) end
  if added == 0 then return {0} end
end
local changes = cjson.decode(ARGV[3])
for i, change in ipairs(changes) do
  local key = KEYS[4 + i]
  for field, amount in pairs(change.fields) do addTo(key, field, amount, change.ttl) end
  redis.call('EXPIRE', key, tonumber(change.ttl))
  if redis.call('SADD', KEYS[3], key) == 1 then
    -- A new day or month: the names of the hashes Redis expired since leave the set (once a day for the whole team).
    for _, name in ipairs(redis.call('SMEMBERS', KEYS[3])) do
      if redis.call('EXISTS', name) == 0 then redis.call('SREM', KEYS[3], name) end
    end
  end
end
redis.pcall('PUBLISH', ARGV[4], ARGV[5])
return {1, unpack(aside)}
`;

/**
 * A hard budget's check and reservation as one step: the provider's spend today and this month (O(1): its total
 * fields), plus its open reservations, plus this attempt's expected cost, against each limit. Expired reservations
 * (an attempt that never reported) are dropped on the way; the server's clock decides, so machines' clocks do not.
 * KEYS[1] the provider's reservations hash; KEYS[2] today's hash; KEYS[3] this month's hash.
 * ARGV: total-cost field, reservation id, amount, TTL ms, daily limit ('' none), monthly limit ('' none), the epoch
 * key and the caller's epoch (as in COMPARE_AND_SET_LUA).
 * Returns {1} when reserved (also for the same id asked again), {0, period, spent, reserved} as strings, or {-1} when
 * the team store lost its data since the caller's last sync (its totals are not the team's spend until re-seeded).
 */
export const RESERVE_LUA = `
local epoch = ARGV[8]
if epoch and epoch ~= '' and redis.call('GET', ARGV[7]) ~= epoch then return {-1} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local reserved = 0
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  if entries[i] == ARGV[2] then return {1} end
  local amount, expires = string.match(entries[i + 1], '^([^@]+)@(%d+)$')
  -- One that holds no amount, or one out of range (a hand edit), is dropped as an expired one is: it would end the
  -- script, and every check of the provider would read as a team store that is down, or block the provider for good.
  amount = tonumber(amount)
  if not expires or not amount or amount < 0 or amount > ${MAX_STATE_AMOUNT} or tonumber(expires) <= now then
    redis.call('HDEL', KEYS[1], entries[i])
  else reserved = reserved + amount end
end
local amount = tonumber(ARGV[3])
local periods = {{'daily', KEYS[2], ARGV[5]}, {'monthly', KEYS[3], ARGV[6]}}
for _, period in ipairs(periods) do
  if period[3] ~= '' then
    -- A total that holds no number, or one out of range, is read as 0, as the machines' views read it, until a write
    -- keeps it aside.
    local total = redis.pcall('HGET', period[2], ARGV[1])
    if type(total) ~= 'string' then total = '0' end -- none, or a period key of another kind (kept aside at a write)
    local spent = tonumber(total)
    if not spent or spent < 0 or spent > ${MAX_STATE_AMOUNT} then spent = 0 end
    if spent + reserved + amount > tonumber(period[3]) + 1e-9 then
      return {0, period[1], tostring(spent), tostring(reserved)}
    end
  end
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3] .. '@' .. tostring(now + tonumber(ARGV[4])))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
return {1}
`;

/**
 * Keeps a hard budget's open reservation open while its attempt still runs (RESERVE_LUA's reservations live only
 * their TTL, and an attempt may stream longer). Only one still open by the server's clock: an ended or expired one
 * is not opened again without its check. The hash lives at least as long as its newest entry.
 * KEYS[1] the provider's reservations hash; ARGV: reservation id, TTL ms. Returns 1 when renewed, else 0.
 */
export const RENEW_LUA = `
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local amount, expires = string.match(entry, '^([^@]+)@(%d+)$')
if not expires or tonumber(expires) <= now then return 0 end
local ttl = tonumber(ARGV[2])
if tonumber(expires) < now + ttl then redis.call('HSET', KEYS[1], ARGV[1], amount .. '@' .. tostring(now + ttl)) end
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`;

/**
 * A team store without a ledger (it lost its data, or `state push` fills it) gets one whole ledger once: the first
 * machine to ask writes its view; every later one finds the periods or the seed flag and only replays what it has
 * not written yet. The pending entries the view holds get their attempt markers in the same step: another process
 * that has them queued too (one sharing this machine's state dir) then finds them counted instead of adding them again.
 * The seeder's view without those entries (what it held of the team's ledger before the loss) is kept as the
 * baseline, which the seed flag's value "2" announces: MERGE_USAGE_LUA adds what another machine's view held beyond it.
 * KEYS[1] the seed flag; KEYS[2] the set of period hashes; KEYS[3..] the period hashes (one per ARGV[1] entry), the
 * baseline hashes (one per ARGV[5] entry), then the markers of the pending entries the view holds.
 * ARGV: JSON array as in RECORD_USAGE_LUA (fields set, not added), pub/sub channel, change message, marker TTL s,
 * JSON array of the baseline ({"fields": [[model field, provider field, "amount"], ...], "ttl": seconds}).
 */
export const SEED_USAGE_LUA = `
if redis.call('SCARD', KEYS[2]) > 0 then return 0 end
-- Seeded already (a key of another kind there too: SET NX would not set it): nothing to write, whatever the rights.
if redis.pcall('GET', KEYS[1]) then return 0 end
local periodsTo = 2 + #cjson.decode(ARGV[1]) + #cjson.decode(ARGV[5])
-- As in RECORD_USAGE_LUA: a seed refused half-way would leave the seed flag set and some periods written, and the
-- seed tried again once the user is granted would find it done.
${checkedBeforeWriting("{'SET', KEYS[1], '2', 'NX'}, {'SADD', KEYS[2], 'x'}", 3, "periodsTo")}
if not redis.call('SET', KEYS[1], '2', 'NX') then return 0 end
local changes = cjson.decode(ARGV[1])
for i, change in ipairs(changes) do
  local key = KEYS[2 + i]
  for field, amount in pairs(change.fields) do redis.call('HSET', key, field, amount) end
  redis.call('EXPIRE', key, tonumber(change.ttl))
  redis.call('SADD', KEYS[2], key)
end
local baseline = cjson.decode(ARGV[5])
for i, hash in ipairs(baseline) do
  local key = KEYS[2 + #changes + i]
  for _, field in ipairs(hash.fields) do redis.call('HSET', key, field[1], field[3]) end
  redis.call('EXPIRE', key, tonumber(hash.ttl))
end
for i = 3 + #changes + #baseline, #KEYS do redis.call('SET', KEYS[i], '1', 'EX', tonumber(ARGV[4])) end
redis.pcall('PUBLISH', ARGV[2], ARGV[3])
return 1
`;

/**
 * A machine that finds the team store re-seeded by another after a loss adds the spend its view held beyond the
 * seeder's: per model field, what it holds above the baseline (SEED_USAGE_LUA) is added to the field and its provider's
 * total, and the baseline raised to it. Both views were the team's ledger at some moment, so the later one's totals
 * hold the earlier one's; spend recorded since the re-seed is above the baseline and not compared. Running again, or
 * from another process of the machine, adds nothing more. Without a baseline (a seed by an older version) nothing.
 * KEYS[1] the seed flag; KEYS[2] the set of period hashes; KEYS[3] the set of imported old files; KEYS[4..] the period
 * hashes (one per ARGV[1] entry), then their baseline hashes.
 * ARGV: JSON array as SEED_USAGE_LUA's baseline (the view's totals), JSON array of the view's imports ('' for none),
 * pub/sub channel, change message, the epoch key and the writer's epoch (as in COMPARE_AND_SET_LUA).
 * Returns {the number of fields raised, <fields kept aside, as in ADD_TO_LUA>...}, or {-1} (nothing written) when the
 * team store lost its data again.
 */
export const MERGE_USAGE_LUA = `
if ARGV[6] ~= '' and redis.call('GET', ARGV[5]) ~= ARGV[6] then return {-1} end
if redis.call('GET', KEYS[1]) ~= '2' then return {0} end
-- As in RECORD_USAGE_LUA: a merge refused half-way would have added some fields without raising their baseline, and
-- the merge run again once the user is granted would add them twice.
${checkedBeforeWriting("{'SADD', KEYS[2], 'x'}, {'SADD', KEYS[3], 'x'}", 4)}
${ADD_TO_LUA}
local hashes = cjson.decode(ARGV[1])
local raised = 0
for i, hash in ipairs(hashes) do
  local key, base = KEYS[3 + i], KEYS[3 + #hashes + i]
  for _, field in ipairs(hash.fields) do
    local delta = tonumber(field[3]) - (tonumber(redis.call('HGET', base, field[1])) or 0)
    if delta > 1e-10 then
      addTo(key, field[1], delta, hash.ttl)
      addTo(key, field[2], delta, hash.ttl)
      redis.call('HSET', base, field[1], field[3])
      redis.call('EXPIRE', key, tonumber(hash.ttl))
      redis.call('EXPIRE', base, tonumber(hash.ttl))
      redis.call('SADD', KEYS[2], key)
      raised = raised + 1
    end
  end
end
if ARGV[2] ~= '' then
  for _, marker in ipairs(cjson.decode(ARGV[2])) do redis.call('SADD', KEYS[3], marker) end
end
if raised > 0 then redis.pcall('PUBLISH', ARGV[3], ARGV[4]) end
return {raised, unpack(aside)}
`;

/**
 * `state push` of the usage ledger: adds a machine's file ledger to the team's, once per machine. The machine's mark
 * ("state-push:<ms>@<machine>", in the set of imports) is checked and written in the same step as the additions, so
 * a second push, or two at once, add nothing more. The spend the file ledger imported from the earlier router's
 * stats file is added only when none of that file's markers is in the team's imports (the team imported the same file,
 * or a machine pushed it, or this machine imported its file in team mode, before); the markers are added either way.
 * KEYS[1] the set of imports; KEYS[2] the set of period hashes; KEYS[3..] the period hashes of the own spend (one per
 * entry of ARGV[3]), then those of the imported spend (ARGV[4]).
 * ARGV: machine name, its mark, own and imported spend as JSON arrays as in RECORD_USAGE_LUA, JSON array of the
 * stats file's content markers and the machine's marker of a team-mode import of its file ('' for none), pub/sub channel, change message, the epoch key and the writer's epoch
 * (as in COMPARE_AND_SET_LUA).
 * Returns {1, 1 | 0 (the imported spend was added or not), <fields kept aside, as in ADD_TO_LUA>...}, {0, "<ms>"}
 * when the machine pushed before, or {-1}
 * (nothing written) when the team store lost its data since the writer's last sync.
 */
export const PUSH_USAGE_LUA = `
local epoch = ARGV[9]
if epoch and epoch ~= '' and redis.call('GET', ARGV[8]) ~= epoch then return {-1} end
for _, marker in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local at, machine = string.match(marker, '^state%-push:(%d+)@(.*)$')
  if machine == ARGV[1] then return {0, at} end
end
-- As in RECORD_USAGE_LUA: a push refused half-way would have added some periods without its mark, and the push
-- run again once the user is granted would add them twice.
${checkedBeforeWriting("{'SADD', KEYS[1], 'x'}, {'SISMEMBER', KEYS[1], 'x'}, {'SADD', KEYS[2], 'x'}", 3)}
local own = cjson.decode(ARGV[3])
local imported = cjson.decode(ARGV[4])
local withImported = 1
if ARGV[5] ~= '' then
  local markers = cjson.decode(ARGV[5])
  for _, marker in ipairs(markers) do
    if redis.call('SISMEMBER', KEYS[1], marker) == 1 then withImported = 0 end
  end
  for _, marker in ipairs(markers) do redis.call('SADD', KEYS[1], marker) end
end
${ADD_TO_LUA}
local function add(changes, offset)
  for i, change in ipairs(changes) do
    local key = KEYS[offset + i]
    for field, amount in pairs(change.fields) do addTo(key, field, amount, change.ttl) end
    redis.call('EXPIRE', key, tonumber(change.ttl))
    redis.call('SADD', KEYS[2], key)
  end
end
add(own, 2)
if withImported == 1 then add(imported, 2 + #own) end
redis.call('SADD', KEYS[1], ARGV[2])
redis.pcall('PUBLISH', ARGV[6], ARGV[7])
return {1, withImported, unpack(aside)}
`;

/**
 * Forgets period hashes that expired (a day after 69 days, a month after about two years) from the set of period
 * hashes, which the ledger's readers list: without it the set, and every machine's full read of it, would grow by a day
 * and a month for as long as the team runs. A name is removed only when its hash does not exist at that moment, so a
 * write that (re)creates it is never lost from the set. KEYS[1] the set of period hashes; KEYS[2..] the names read
 * empty. Returns how many were removed.
 */
export const FORGET_PERIODS_LUA = `
local removed = 0
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then removed = removed + redis.call('SREM', KEYS[1], KEYS[i]) end
end
return removed
`;

/**
 * Keeps aside a team value's key that holds another kind of value than its hash {v, json} (a hand edit, another tool):
 * every read and write of it fails with WRONGTYPE, and the machines would never share that state again. Renamed only
 * while it is still no hash, so that a machine that read it before another moved it aside never moves the new value;
 * the key then holds the state the machine continues from, at the server's time in ms as its version, past any a
 * machine holds (as in COMPARE_AND_SET_LUA), so that every machine reads it.
 * KEYS[1] the key; KEYS[2] where it goes; ARGV: TTL s, the state's JSON. Returns the kind it held, or '' when nothing
 * was moved.
 */
export const KEEP_WRONG_TYPE_ASIDE_LUA = `
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'none' or kind == 'hash' then return '' end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[1]))
local t = redis.call('TIME')
local version = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'v', string.format('%d', version), 'json', ARGV[2])
return kind
`;

export interface TeamCommands {
  parCompareAndSet(
    stateKey: string,
    markerKey: string,
    expectedVersion: number,
    json: string,
    markerTtlSeconds: number,
    channel: string,
    message: string,
    epochKey: string,
    epoch: string,
  ): Promise<[string, number]>;
  parClaim(key: string, holder: string, ttlMs: number): Promise<number>;
  parRecordUsage(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<Array<number | string>>;
  parReserve(
    reservations: string,
    day: string,
    month: string,
    field: string,
    id: string,
    amount: string,
    ttlMs: number,
    daily: string,
    monthly: string,
    epochKey: string,
    epoch: string,
  ): Promise<Array<number | string>>;
  parRenew(reservations: string, id: string, ttlMs: number): Promise<number>;
  parSeedUsage(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<number>;
  parMergeUsage(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<Array<number | string>>;
  parPushUsage(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<Array<number | string>>;
  parForgetPeriods(numberOfKeys: number, ...keys: string[]): Promise<number>;
  parKeepWrongTypeAside(key: string, aside: string, ttlSeconds: number, json: string): Promise<string>;
}
