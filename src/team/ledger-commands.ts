// The team ledger's Redis round trips: the reserve, seed and record scripts with their keys and arguments, and the
// pipelined read of the period hashes. redis-ledger.ts decides when to make them and keeps the view; the key layout
// is in ledger-hashes.ts.
import { MAX_STATE_AMOUNT } from "../state/state-numbers.ts";
import { LEGACY_STATS_FILE, legacyOwnerMarker } from "../budget/legacy-stats.ts";
import type { SpendReservation } from "../budget/spend-ledger.ts";
import { KEEP_DAYS, KEEP_MONTHS, type UsageLedger, withKeptPeriods } from "../budget/usage-ledger.ts";
import {
  baselineFieldsOf,
  baselineHashName,
  bucketOfHash,
  changesOfLedger,
  incrementsOf,
  ledgerPushPlan,
  parsePeriodHashName,
  periodHashName,
  providerCostField,
  pushMarker,
  type PendingEntry,
} from "./ledger-hashes.ts";
import { shown } from "../config/zod-issue-text.ts";
import { WRONG_TYPE } from "./redis-problems.ts";
import { BATCH_MARKER_TTL_SECONDS, type TeamConnection } from "./team-connection.ts";

/** A period hash's field that held no number, kept aside by a script that added to it (ADD_TO_LUA in redis-scripts). */
export interface KeptAside {
  key: string;
  field: string;
  value: string;
}

/** The fields a script's answer lists as kept aside, from `from` on (key, field, value each). */
function keptAsideIn(answer: ReadonlyArray<number | string>, from: number): KeptAside[] {
  const kept: KeptAside[] = [];
  for (let at = from; at + 2 < answer.length; at += 3)
    kept.push({ key: String(answer[at]), field: String(answer[at + 1]), value: String(answer[at + 2]) });
  return kept;
}

/** Why a ledger field's value is none the machines read (ledger-hashes.ts: bucketOfHash). */
const unreadable = (value: string): string =>
  value.trim() !== "" && Number.isFinite(Number(value))
    ? `out of range (expected a number from 0 to ${MAX_STATE_AMOUNT})`
    : "not a number";

/** What a machine says of a field of the team's ledger that holds no number or one out of range, read as nothing. */
export const unreadFieldWarning = (name: string, field: string, value: string): string =>
  `auto-router: team store: the spend ledger's ${name} field ${field} holds ${shown(value)}, ${unreadable(value)}: read as nothing (the next spend counted on it keeps it aside in ${name}:corrupt)`;

/** What a machine says of a name in the ledger's set of periods that is another kind of key, which it leaves out. */
export const notHashWarning = (set: string, name: string): string =>
  `auto-router: team store: the spend ledger's set of periods ${set} names ${name}, which is no hash: left out of the team's spend`;

/** What a machine says of fields kept aside: where each went, what it held, and that its earlier count is lost. */
export function keptAsideWarning(kept: readonly KeptAside[]): string {
  const each = kept.map(({ key, field, value }) =>
    field === ""
      ? `the spend ledger's ${key} was a Redis ${value}, not a hash, and is kept aside as ${key}:corrupt-${value}`
      : `the spend ledger's ${key} field ${field} held ${shown(value)}, ${unreadable(value)}, and is kept aside in ${key}:corrupt`,
  );
  const one = kept.length === 1;
  return `auto-router: team store: ${each.join("; ")}: ${one ? "it counts" : "they count"} again from this spend on, and what ${one ? "it" : "they"} held before is not counted`;
}

/** A hard budget's check-and-reserve (RESERVE_LUA): 1 first when reserved, else the period and amounts that refused. */
export async function reserveInTeam(
  connection: TeamConnection,
  reservation: SpendReservation,
): Promise<Array<number | string>> {
  const answer = await connection.call((client) =>
    client.parReserve(
      connection.key(`usage:reserved:${reservation.provider}`),
      connection.key(periodHashName("days", reservation.calendar.day)),
      connection.key(periodHashName("months", reservation.calendar.month)),
      providerCostField(reservation.provider),
      reservation.id,
      String(reservation.amountUsd),
      reservation.ttlMs,
      reservation.dailyUsd === undefined ? "" : String(reservation.dailyUsd),
      reservation.monthlyUsd === undefined ? "" : String(reservation.monthlyUsd),
      connection.epochKey,
      connection.epoch,
    ),
  );
  if (Number(answer[0]) === -1) connection.assertEpoch(null);
  return answer;
}

/**
 * Writes `ledger` whole into a team store that holds no ledger yet; false when it holds one (or was seeded).
 * `heldEntries`: the pending entries `ledger` already holds, marked as counted in the same step; `baseline`: `ledger`
 * without them, which the other machines' views are merged against (mergeTeamLedger).
 */
export async function seedTeamLedger(
  connection: TeamConnection,
  ledger: UsageLedger,
  message: () => string,
  heldEntries: readonly string[] = [],
  baseline: UsageLedger = ledger,
): Promise<boolean> {
  const increments = incrementsOf(changesOfLedger(ledger));
  const base = baselineFieldsOf(baseline);
  const keys = [
    connection.key("usage:seeded"),
    connection.key("usage:periods"),
    ...increments.map((entry) => connection.key(entry.name)),
    ...base.map((hash) => connection.key(baselineHashName(hash.period, hash.key))),
    ...heldEntries.map((id) => connection.key("usage:attempt", id)),
  ];
  const payload = JSON.stringify(increments.map((entry) => ({ fields: entry.fields, ttl: entry.ttl })));
  const basePayload = JSON.stringify(base.map((hash) => ({ fields: hash.fields, ttl: hash.ttl })));
  const seeded = await connection.call((client) =>
    client.parSeedUsage(
      keys.length,
      ...keys,
      payload,
      connection.channel,
      message(),
      BATCH_MARKER_TTL_SECONDS,
      basePayload,
    ),
  );
  if (seeded === 1 && ledger.migratedFrom.length > 0)
    await connection.call((client) => client.sadd(connection.key("usage:migrated"), ...ledger.migratedFrom));
  return seeded === 1;
}

/**
 * Adds the spend `view` (a machine's view of the team ledger before a loss, without its pending entries) holds beyond
 * the ledger another machine re-seeded the team store with (MERGE_USAGE_LUA); the number of fields raised.
 */
export async function mergeTeamLedger(
  connection: TeamConnection,
  view: UsageLedger,
  message: () => string,
  onKeptAside: (kept: KeptAside[]) => void = () => {},
): Promise<number> {
  const hashes = baselineFieldsOf(view);
  const keys = [
    connection.key("usage:seeded"),
    connection.key("usage:periods"),
    connection.key("usage:migrated"),
    ...hashes.map((hash) => connection.key(periodHashName(hash.period, hash.key))),
    ...hashes.map((hash) => connection.key(baselineHashName(hash.period, hash.key))),
  ];
  const answer = await connection.call((client) =>
    client.parMergeUsage(
      keys.length,
      ...keys,
      JSON.stringify(hashes.map((hash) => ({ fields: hash.fields, ttl: hash.ttl }))),
      view.migratedFrom.length > 0 ? JSON.stringify(view.migratedFrom) : "",
      connection.channel,
      message(),
      connection.epochKey,
      connection.epoch,
    ),
  );
  const raised = Number(answer[0]);
  if (raised === -1) connection.assertEpoch(null);
  const kept = keptAsideIn(answer, 1);
  if (kept.length > 0) onKeptAside(kept);
  return raised;
}

/** What `state push` did with the usage ledger (PUSH_USAGE_LUA). */
export type LedgerPushOutcome =
  | { added: true; entries: number; importedSkipped: boolean }
  | { added: false; pushedAt: number };

/** Adds `ledger` (a machine's file ledger) to the team's once per machine; see PUSH_USAGE_LUA. */
export async function pushTeamLedger(
  connection: TeamConnection,
  ledger: UsageLedger,
  machine: string,
  now: number,
  message: () => string,
  onKeptAside: (kept: KeptAside[]) => void = () => {},
): Promise<LedgerPushOutcome> {
  const plan = ledgerPushPlan(ledger);
  const own = incrementsOf(plan.own);
  const imported = incrementsOf(plan.legacy);
  const keys = [
    connection.key("usage:migrated"),
    connection.key("usage:periods"),
    ...[...own, ...imported].map((entry) => connection.key(entry.name)),
  ];
  const payload = (increments: typeof own) =>
    JSON.stringify(increments.map((entry) => ({ fields: entry.fields, ttl: entry.ttl })));
  const answer = await connection.call((client) =>
    client.parPushUsage(
      keys.length,
      ...keys,
      machine,
      pushMarker(machine, now),
      payload(own),
      payload(imported),
      // With this machine's marker of a team-mode import of its file: whatever the file held then (the earlier router
      // may have changed it since the file store's import), this machine's file is in the team's already.
      plan.legacyMarkers.length > 0
        ? JSON.stringify([...plan.legacyMarkers, legacyOwnerMarker(LEGACY_STATS_FILE, { machine, teamMode: true })])
        : "",
      connection.channel,
      message(),
      connection.epochKey,
      connection.epoch,
    ),
  );
  const code = Number(answer[0]);
  if (code === -1) {
    connection.assertEpoch(null);
    throw new Error("the team store lost its data since this machine last read it: nothing was pushed");
  }
  if (code === 0) return { added: false, pushedAt: Number(answer[1]) };
  const importedAdded = Number(answer[1]) === 1;
  const kept = keptAsideIn(answer, 2);
  if (kept.length > 0) onKeptAside(kept);
  return {
    added: true,
    entries: plan.own.length + (importedAdded ? plan.legacy.length : 0),
    importedSkipped: !importedAdded && plan.legacy.length > 0,
  };
}

/**
 * Records one pending entry; true when it was counted now, false when it had been counted before. Throws (nothing
 * written, the entry stays pending) when the team store lost its data since the last sync: the connection re-seeds.
 */
export async function sendLedgerEntry(
  connection: TeamConnection,
  entry: PendingEntry,
  message: () => string,
  onKeptAside: (kept: KeptAside[]) => void = () => {},
): Promise<boolean> {
  const increments = incrementsOf(entry.changes);
  const keys = [
    connection.key("usage:attempt", entry.id),
    connection.key(`usage:reserved:${entry.reservationProvider ?? "-"}`),
    connection.key("usage:periods"),
    connection.key("usage:migrated"),
    ...increments.map((increment) => connection.key(increment.name)),
  ];
  const payload = JSON.stringify(increments.map((increment) => ({ fields: increment.fields, ttl: increment.ttl })));
  const reservation =
    entry.reservationProvider && entry.id.startsWith("attempt:") ? entry.id.slice("attempt:".length) : "";
  const answer = await connection.call((client) =>
    client.parRecordUsage(
      keys.length,
      ...keys,
      BATCH_MARKER_TTL_SECONDS,
      reservation,
      payload,
      connection.channel,
      message(),
      entry.migrated.length > 0 ? JSON.stringify(entry.migrated) : "",
      connection.epochKey,
      connection.epoch,
    ),
  );
  const counted = Number(answer[0]);
  if (counted === -1) connection.assertEpoch(null);
  const kept = keptAsideIn(answer, 1);
  if (kept.length > 0) onKeptAside(kept);
  return counted === 1;
}

/**
 * Reads the team ledger: every period hash (`full`, or nothing `known` yet), else the newest day and month plus any
 * period not seen before, on top of what is known. Undefined while the connection is not writable.
 */
export async function readTeamLedger(
  connection: TeamConnection,
  full: boolean,
  read: {
    /** The view as last read (undefined before the first read). */
    known: () => UsageLedger | undefined;
    defaults: () => UsageLedger;
    /** A period hash's field that holds no number. */
    onUnread?: (name: string, field: string, value: string) => void;
    /** A name in usage:periods that is another kind of key than a hash. */
    onNotHash?: (name: string) => void;
  },
): Promise<UsageLedger | undefined> {
  const { known, defaults, onUnread = () => {}, onNotHash = () => {} } = read;
  if (!connection.writable) return undefined;
  const names = (await connection.call((client) => client.smembers(connection.key("usage:periods")))).sort();
  const last = known();
  const newest = (period: "days" | "months") =>
    names.filter((name) => parsePeriodHashName(name)?.period === period).at(-1);
  // A view holding all the periods it keeps does not read again those older than its oldest (it would drop them).
  const oldestKept = (period: "days" | "months") => {
    const keys = last ? Object.keys(last[period]) : [];
    return keys.length >= (period === "days" ? KEEP_DAYS : KEEP_MONTHS) ? keys.sort()[0] : undefined;
  };
  const oldest = { days: oldestKept("days"), months: oldestKept("months") };
  const wanted =
    full || !last
      ? names
      : names.filter((name) => {
          const parsed = parsePeriodHashName(name);
          if (!parsed) return false; // no period's name: read (and forgotten when it names nothing) by a full read
          const before = oldest[parsed.period];
          return (
            name === newest("days") ||
            name === newest("months") ||
            (last[parsed.period][parsed.key] === undefined && (before === undefined || parsed.key > before))
          );
        });
  const [hashes, migrated, epoch] = await connection.call(async (client) => {
    const pipeline = client.pipeline();
    for (const name of wanted) pipeline.hgetall(name);
    pipeline.smembers(connection.key("usage:migrated"));
    // Read after the hashes: an emptied (flushed, evicted) team store read above has lost its epoch key too.
    pipeline.get(connection.epochKey);
    const results = (await pipeline.exec()) ?? [];
    // A name in the set that is some other kind of key (a hand edit) is left out and said, not a failure of every
    // read: the machine would never see the team's spend again.
    const failed = results.find(
      ([error], index) => error && !(index < wanted.length && WRONG_TYPE.test(error.message)),
    )?.[0];
    if (failed) throw failed;
    results.slice(0, wanted.length).forEach(([error], index) => {
      if (error) onNotHash(wanted[index]!);
    });
    return [
      results.slice(0, wanted.length).map(([error, value]) => (error ? null : (value as Record<string, string>))),
      results.at(-2)?.[1] as string[],
      results.at(-1)?.[1] as string | null,
    ] as const;
  });
  // A team store that lost its data is not the team's spend: the view keeps its totals for the re-seed.
  connection.assertEpoch(epoch);
  // A period hash read empty has expired (its name stays in the set): it is no day of the view, and leaves the set.
  const expired = wanted.filter((_, index) => hashes[index] !== null && Object.keys(hashes[index] ?? {}).length === 0);
  if (expired.length > 0)
    await connection.call((client) =>
      client.parForgetPeriods(expired.length + 1, connection.key("usage:periods"), ...expired),
    );
  const base = full || !last ? defaults() : last;
  const next: UsageLedger = {
    ...base,
    days: { ...base.days },
    months: { ...base.months },
    migratedFrom: migrated ?? [],
  };
  wanted.forEach((name, index) => {
    const parsed = parsePeriodHashName(name);
    if (parsed && !expired.includes(name) && hashes[index] !== null)
      next[parsed.period][parsed.key] = bucketOfHash(hashes[index] ?? {}, (field, value) =>
        onUnread(name, field, value),
      );
  });
  // A process that stays connected reads each new day on top of what it knew: the oldest go, as in the file ledger.
  return withKeptPeriods(next);
}
