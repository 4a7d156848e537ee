// Pure: the spend ledger as Redis hashes, one per calendar day and one per month. Field "<provider>|<model>|<metric>"
// holds a model's total; "<provider>|*|<metric>" the provider's, so a budget check reads one field (O(1)). The local
// view keeps the file ledger's format (src/budget/usage-ledger.ts); these functions convert between the two.
import { z } from "zod";
import { stateObject } from "../state/unknown-fields.ts";
import {
  addedTotals,
  emptyTotals,
  KEEP_DAYS,
  KEEP_MONTHS,
  roundAmount,
  usageTotalsSchema,
  type UsageLedger,
  type UsageTotals,
  withKeptPeriods,
} from "../budget/usage-ledger.ts";
import { LEGACY_MODEL_ID, LEGACY_STATS_FILE } from "../budget/legacy-stats.ts";
import { lazy } from "../lazy.ts";
import { ownEntry } from "../own-record.ts";
import { isStateAmount } from "../state/state-numbers.ts";

export const PROVIDER_TOTAL = "*";
const METRICS = [
  "requests",
  "estimated",
  "input",
  "output",
  "cacheRead",
  "cacheWrite",
  "costUsd",
] as const satisfies ReadonlyArray<keyof UsageTotals>;
/** Hashes expire a little after the file ledger would prune them. */
const DAY_TTL_SECONDS = (KEEP_DAYS + 7) * 86_400;
const MONTH_TTL_SECONDS = (KEEP_MONTHS * 31 + 31) * 86_400;

export type PeriodKind = "days" | "months";

const ledgerChangeSchema = () =>
  stateObject({
    period: z.enum(["days", "months"]),
    key: z.string(),
    provider: z.string(),
    modelId: z.string(),
    totals: usageTotalsSchema,
  });
export type LedgerChange = z.infer<ReturnType<typeof ledgerChangeSchema>>;

/** One unit written to the team ledger at once: an attempt's usage, or the difference another update made. */
const pendingEntrySchema = () =>
  stateObject({
    id: z.string(),
    at: z.number(),
    /** The provider whose reservation `id` this entry ends. */
    reservationProvider: z.string().optional(),
    changes: z.array(ledgerChangeSchema()),
    migrated: z.array(z.string()).default([]),
  });
export type PendingEntry = z.infer<ReturnType<typeof pendingEntrySchema>>;
/** Team mode only: built when the team store first reads its pending file. */
export const pendingStateSchema = lazy(() => stateObject({ entries: z.array(pendingEntrySchema()).default([]) }));
export type PendingState = z.infer<ReturnType<typeof pendingStateSchema>>;
export const emptyPending = (): PendingState => ({ entries: [] });

export const fieldOf = (provider: string, modelId: string, metric: string): string =>
  `${provider}|${modelId}|${metric}`;
export const providerCostField = (provider: string): string => fieldOf(provider, PROVIDER_TOTAL, "costUsd");

/** The hash key suffix of a period bucket ("usage:day:2026-11-29"). */
export const periodHashName = (period: PeriodKind, key: string): string =>
  `usage:${period === "days" ? "day" : "month"}:${key}`;

export function parsePeriodHashName(name: string): { period: PeriodKind; key: string } | undefined {
  const match = /usage:(day|month):([0-9-]+)$/.exec(name);
  return match ? { period: match[1] === "day" ? "days" : "months", key: match[2]! } : undefined;
}

/** The hash fields an entry adds, per period hash name, as the record script takes them. */
export function incrementsOf(
  changes: LedgerChange[],
): Array<{ name: string; fields: Record<string, string>; ttl: number }> {
  const byHash = new Map<string, { name: string; fields: Record<string, number>; ttl: number }>();
  for (const change of changes) {
    const name = periodHashName(change.period, change.key);
    const entry = byHash.get(name) ?? {
      name,
      fields: {},
      ttl: change.period === "days" ? DAY_TTL_SECONDS : MONTH_TTL_SECONDS,
    };
    byHash.set(name, entry);
    for (const metric of METRICS) {
      const amount = change.totals[metric];
      if (amount === 0) continue;
      for (const model of [change.modelId, PROVIDER_TOTAL]) {
        const field = fieldOf(change.provider, model, metric);
        entry.fields[field] = (entry.fields[field] ?? 0) + amount;
      }
    }
  }
  return [...byHash.values()].map((entry) => ({
    name: entry.name,
    ttl: entry.ttl,
    fields: Object.fromEntries(Object.entries(entry.fields).map(([field, amount]) => [field, String(amount)])),
  }));
}

/** A whole ledger as changes (the re-seed of a team store that lost its data, `state push`). */
export function changesOfLedger(ledger: UsageLedger): LedgerChange[] {
  const changes: LedgerChange[] = [];
  for (const period of ["days", "months"] as const) {
    for (const [key, providers] of Object.entries(ledger[period])) {
      for (const [provider, models] of Object.entries(providers)) {
        for (const [modelId, totals] of Object.entries(models))
          changes.push({ period, key, provider, modelId, totals });
      }
    }
  }
  return changes;
}

/** What `next` added to `previous` (updates other than an attempt's record: the legacy import). */
export function changesBetween(previous: UsageLedger, next: UsageLedger): LedgerChange[] {
  const changes: LedgerChange[] = [];
  for (const change of changesOfLedger(next)) {
    const before = previous[change.period][change.key]?.[change.provider]?.[change.modelId] ?? emptyTotals();
    const totals = Object.fromEntries(
      METRICS.map((metric) => [metric, roundAmount(change.totals[metric] - before[metric])]),
    ) as UsageTotals;
    if (METRICS.some((metric) => totals[metric] > 0)) changes.push({ ...change, totals });
  }
  return changes;
}

export function applyChanges(ledger: UsageLedger, changes: LedgerChange[], migrated: string[] = []): UsageLedger {
  if (changes.length === 0 && migrated.length === 0) return ledger;
  const next: UsageLedger = {
    ...ledger,
    days: { ...ledger.days },
    months: { ...ledger.months },
    migratedFrom: [...new Set([...ledger.migratedFrom, ...migrated])],
  };
  for (const change of changes) {
    const bucket = { ...next[change.period][change.key] };
    const models = { ...bucket[change.provider] };
    // The entry's fields this version does not count (a newer version's, read from its hash) stay as they are.
    models[change.modelId] = addedTotals(models[change.modelId] ?? emptyTotals(), change.totals);
    bucket[change.provider] = models;
    next[change.period][change.key] = bucket;
  }
  return withKeptPeriods(next);
}

/**
 * One period hash as read from Redis (HGETALL) into the ledger's bucket form; the provider totals are skipped, and so is a
 * field that holds no number or one out of range (told to `onUnread`). A model
 * field of a metric this version does not count (a newer version's, unknown-fields.ts) is kept in the model's totals
 * as the number it holds, as the file ledger keeps such a field, so the view written to the mirror file holds it too.
 */
export function bucketOfHash(
  hash: Record<string, string>,
  onUnread: (field: string, value: string) => void = () => {},
): UsageLedger["days"][string] {
  const bucket: UsageLedger["days"][string] = {};
  for (const [field, value] of Object.entries(hash)) {
    const parts = field.split("|");
    if (parts.length < 3) continue;
    const metric = parts.at(-1) as (typeof METRICS)[number];
    const provider = parts[0]!;
    const modelId = parts.slice(1, -1).join("|");
    const amount = Number(value);
    // A field that holds no number, or one no real ledger reaches (a hand edit, another tool's write: state-numbers.ts),
    // counts as nothing; `onUnread` is told.
    if (!isStateAmount(amount) || value.trim() === "") {
      onUnread(field, value);
      continue;
    }
    if (modelId === PROVIDER_TOTAL) continue;
    const models = ownEntry(bucket, provider, () => ({}));
    const totals = ownEntry(models, modelId, emptyTotals);
    if (METRICS.includes(metric)) totals[metric] = roundAmount(amount);
    else (totals as Record<string, number>)[metric] = amount;
  }
  return bucket;
}

/**
 * After Redis lost its data, the machine that re-seeds it keeps a copy of the model fields it wrote (the baseline) in
 * a hash of its own per period; the others' views are raised to it (MERGE_USAGE_LUA).
 */
export const baselineHashName = (period: PeriodKind, key: string): string =>
  `usage:baseline:${period === "days" ? "day" : "month"}:${key}`;

/**
 * A ledger's model totals per period hash, for the baseline and the merge of a re-seeded team store: [model field,
 * provider field, amount] for each metric above 0.
 */
export function baselineFieldsOf(
  ledger: UsageLedger,
): Array<{ period: PeriodKind; key: string; fields: Array<[string, string, string]>; ttl: number }> {
  const byHash = new Map<string, ReturnType<typeof baselineFieldsOf>[number]>();
  for (const change of changesOfLedger(ledger)) {
    const name = periodHashName(change.period, change.key);
    const entry = byHash.get(name) ?? {
      period: change.period,
      key: change.key,
      fields: [],
      ttl: change.period === "days" ? DAY_TTL_SECONDS : MONTH_TTL_SECONDS,
    };
    byHash.set(name, entry);
    for (const metric of METRICS) {
      const amount = roundAmount(change.totals[metric]);
      if (amount > 0)
        entry.fields.push([
          fieldOf(change.provider, change.modelId, metric),
          fieldOf(change.provider, PROVIDER_TOTAL, metric),
          String(amount),
        ]);
    }
  }
  return [...byHash.values()].filter((entry) => entry.fields.length > 0);
}

/** `ledger` without what `entries` added (a view without its pending entries: what it held of the team's ledger). */
export function withoutEntries(ledger: UsageLedger, entries: readonly PendingEntry[]): UsageLedger {
  const negated = entries.flatMap((entry) =>
    entry.changes.map((change) => ({
      ...change,
      totals: Object.fromEntries(METRICS.map((metric) => [metric, -change.totals[metric]])) as UsageTotals,
    })),
  );
  return applyChanges(ledger, negated);
}

/**
 * What `state push` adds of a machine's file ledger: its own spend, and apart from it the spend it imported from the
 * earlier router's stats file (model "(legacy)"), which the team may hold already: that file's content markers decide
 * in Redis. A ledger without such a marker has nothing to tell apart, so all of it is its own.
 */
export interface LedgerPushPlan {
  own: LedgerChange[];
  legacy: LedgerChange[];
  legacyMarkers: string[];
}

export function ledgerPushPlan(ledger: UsageLedger): LedgerPushPlan {
  const changes = changesOfLedger(ledger);
  // The bare name (an import from before content markers) and `<name>#<content>`; not `<name>@<machine>...`.
  const legacyMarkers = ledger.migratedFrom.filter(
    (marker) => marker === LEGACY_STATS_FILE || marker.startsWith(`${LEGACY_STATS_FILE}#`),
  );
  if (legacyMarkers.length === 0) return { own: changes, legacy: [], legacyMarkers };
  return {
    own: changes.filter((change) => change.modelId !== LEGACY_MODEL_ID),
    legacy: changes.filter((change) => change.modelId === LEGACY_MODEL_ID),
    legacyMarkers,
  };
}

/**
 * The mark a machine's `state push` leaves in the team's set of imports ("usage:migrated", which a re-seed of an
 * emptied team store writes again): when and from which machine its file ledger was added.
 */
export const pushMarker = (machine: string, at: number): string => `state-push:${at}@${machine}`;
