// The spend ledger (auto-router.usage.json): per calendar day and per calendar month, per provider and model, the
// tokens and USD of every counted attempt; and, with the file store, the hard budgets' open reservations of every
// process on the machine (ledger-reservations.ts). Shared by every pi window through one StateStore; every change is a pure
// operation built here (values captured in the closure), so concurrent windows add up instead of overwriting.
import { z } from "zod";
import { assertOwnShape, stateObject, unknownFieldsOf } from "../state/unknown-fields.ts";
import { lazy } from "../lazy.ts";
import { numberFromText } from "../number-from-text.ts";
import { salvageRecords } from "../state/salvage.ts";
import type { GrowingParse } from "../state/store-types.ts";
import { stateAmount } from "../state/state-numbers.ts";
import type { CalendarKeys } from "./calendar.ts";
import type { UsageRecord } from "./reconcile-usage.ts";

export const USAGE_STORE_NAME = "usage";
export const USAGE_LEDGER_VERSION = 1;
/** Day buckets older than this many days are dropped when a new one is written (months are kept longer). */
export const KEEP_DAYS = 62;
export const KEEP_MONTHS = 24;
/** Costs are rounded to this many decimals so sums do not drift with the order of additions. */
const COST_DECIMALS = 1e10;

/** A count, a sum or a time (a reservation's expiry, in ms): one beyond any real ledger is damage (state-numbers.ts). */
const strictCount = stateAmount();

function ledgerSchema(count: z.ZodType<number>, salvage: boolean) {
  const totals = stateObject({
    requests: count.default(0),
    estimated: count.default(0),
    input: count.default(0),
    output: count.default(0),
    cacheRead: count.default(0),
    cacheWrite: count.default(0),
    costUsd: count.default(0),
  });
  /** period key -> provider -> modelId -> totals */
  const period = z.record(z.string(), z.record(z.string(), z.record(z.string(), totals)));
  /** attempt id -> a hard budget's reservation (ledger-reservations.ts); a damaged one is dropped by the salvage. */
  const reservations = z
    .record(z.string(), stateObject({ provider: z.string(), amountUsd: count, expiresAt: count }))
    .default({});
  return {
    totals,
    // Every field has a default, so a file of another shape (`{"entries": [...]}`) would read as an empty ledger and be
    // overwritten: parseLedger takes a file with none of these keys for damage (kept aside with a warning). Other keys
    // beside these are a newer version's, kept (unknown-fields.ts).
    ledger: stateObject({
      version: z.number().int().default(USAGE_LEDGER_VERSION),
      days: period.default({}),
      months: period.default({}),
      /** The zone its day and month keys are dates in (calendar-move.ts moves them when it changes); file store only. */
      timeZone: z.string().optional(),
      /** Legacy files already imported (so a migration runs once across every window). */
      migratedFrom: z.array(z.string()).default([]),
      reservations: salvage ? reservations.catch({}) : reservations,
      /**
       * The last rewrite of a damaged file (json-store.ts): its id, and what it held (raised as windows merged their
       * views in), the baseline the other windows' earlier views are merged against (keepViewedSpend).
       */
      repair: stateObject({ id: z.string(), days: period, months: period }).optional(),
    }),
  };
}

// A wrong-typed count is damage, not zero: the strict schema rejects it, so the store keeps a copy and warns, and the
// lenient one salvages every value that can be read.
const strictSchemas = ledgerSchema(strictCount, false);
/**
 * Salvage: a number written as text ("0.5") is still that number; anything else unreadable counts as 0. Built when a
 * damaged ledger is read (a healthy session never needs it).
 */
const lenientSchemas = lazy(() => ledgerSchema(z.preprocess(numberFromText, strictCount).catch(0), true));
export const usageTotalsSchema = strictSchemas.totals;
export type UsageTotals = z.infer<typeof usageTotalsSchema>;
export const usageLedgerSchema = strictSchemas.ledger;
export type UsageLedger = z.infer<typeof usageLedgerSchema>;
type Period = UsageLedger["days"];

export const emptyLedger = (): UsageLedger => ({
  version: USAGE_LEDGER_VERSION,
  days: {},
  months: {},
  migratedFrom: [],
  reservations: {},
});
/**
 * Spend only grows within a period, so a window whose view of the file holds spend another window's repair of the
 * damaged file dropped puts it back (GrowingParse).
 */
const LEDGER_FIELDS: ReadonlySet<string> = new Set(Object.keys(usageLedgerSchema.shape));
export const parseLedger: GrowingParse<UsageLedger> = Object.assign(
  (raw: unknown): UsageLedger => {
    assertOwnShape(raw, LEDGER_FIELDS, "the spend ledger's {version, days, months, ...}");
    return usageLedgerSchema.parse(raw);
  },
  { growing: { repaired: markRepair, keepView: keepViewedSpend } },
);
/**
 * `view` with the fields of `held` this version does not know (a newer version's, unknown-fields.ts) at the top: the
 * team mode's view of the ledger is rebuilt from Redis's hashes, which hold none of the file's own fields, and is
 * written over a mirror file a newer version beside this one writes too. `view` itself when `held` has none.
 */
export function withNewerFields(held: UsageLedger, view: UsageLedger): UsageLedger {
  const newer = unknownFieldsOf(held, LEDGER_FIELDS);
  return newer ? { ...newer, ...view } : view;
}
/**
 * Every field that can be read is kept, field by field (salvage.ts): a wrong-typed `version` or `timeZone` takes its
 * default instead of costing the whole ledger, and a damaged day or month bucket is dropped alone.
 */
export const salvageLedger: (raw: unknown) => UsageLedger = salvageRecords(
  () => lenientSchemas().ledger as unknown as z.ZodType<UsageLedger>,
  emptyLedger,
);

export const emptyTotals = (): UsageTotals => ({
  requests: 0,
  estimated: 0,
  input: 0,
  output: 0,
  cacheRead: 0,
  cacheWrite: 0,
  costUsd: 0,
});

/**
 * `value` to COST_DECIMALS places; one too large for that (~9e5 and up, where a double holds no such places) as it is:
 * rounding it would move it by its last bits, past MAX_STATE_AMOUNT at the top of the range.
 */
export const roundAmount = (value: number): number =>
  Math.abs(value) < Number.MAX_SAFE_INTEGER / COST_DECIMALS ? Math.round(value * COST_DECIMALS) / COST_DECIMALS : value;

export function addTotals(left: UsageTotals, right: UsageTotals): UsageTotals {
  return {
    requests: left.requests + right.requests,
    estimated: left.estimated + right.estimated,
    input: left.input + right.input,
    output: left.output + right.output,
    cacheRead: left.cacheRead + right.cacheRead,
    cacheWrite: left.cacheWrite + right.cacheWrite,
    costUsd: roundAmount(left.costUsd + right.costUsd),
  };
}

/**
 * `held` plus `added`, as written into the ledger: the fields of `held` this version does not count (a newer
 * version's, unknown-fields.ts) stay as they are. Sums that are only read (a provider's total) use addTotals.
 */
export function addedTotals(held: UsageTotals, added: UsageTotals): UsageTotals {
  return { ...held, ...addTotals(held, added) };
}

export function totalsOf(record: UsageRecord): UsageTotals {
  return {
    requests: 1,
    estimated: record.estimated ? 1 : 0,
    input: record.input,
    output: record.output,
    cacheRead: record.cacheRead,
    cacheWrite: record.cacheWrite,
    costUsd: roundAmount(record.costUsd),
  };
}

function withTotals(period: Period, key: string, provider: string, modelId: string, totals: UsageTotals): Period {
  const bucket = period[key] ?? {};
  return { ...period, [key]: { ...bucket, [provider]: { ...bucket[provider], [modelId]: totals } } };
}

const totalsOn = (period: Period, key: string, provider: string, modelId: string): UsageTotals =>
  period[key]?.[provider]?.[modelId] ?? emptyTotals();

function addTo(period: Period, key: string, provider: string, modelId: string, totals: UsageTotals): Period {
  return withTotals(period, key, provider, modelId, addedTotals(totalsOn(period, key, provider, modelId), totals));
}

const TOTAL_FIELDS = Object.keys(emptyTotals()) as Array<keyof UsageTotals>;

/** The ledger a damaged file is rewritten with, marked as repair `id` with what it holds as the baseline. */
function markRepair(ledger: UsageLedger, id: string): UsageLedger {
  return { ...ledger, repair: { id, days: ledger.days, months: ledger.months } };
}

/**
 * What `view` holds beyond `base`, added to `disk` (model by model, field by field), and the baseline raised to
 * `view`: a second view from before the repair adds only what neither the repair nor the first view held.
 */
function addedBeyond(disk: Period, base: Period, view: Period): { period: Period; base: Period } {
  let period = disk;
  let raised = base;
  for (const [key, providers] of Object.entries(view))
    for (const [provider, models] of Object.entries(providers))
      for (const [modelId, seen] of Object.entries(models)) {
        const held = totalsOn(base, key, provider, modelId);
        if (!TOTAL_FIELDS.some((field) => seen[field] > held[field])) continue;
        const beyond = Object.fromEntries(TOTAL_FIELDS.map((field) => [field, Math.max(0, seen[field] - held[field])]));
        period = addTo(period, key, provider, modelId, beyond as UsageTotals);
        const larger = Object.fromEntries(TOTAL_FIELDS.map((field) => [field, Math.max(seen[field], held[field])]));
        raised = withTotals(raised, key, provider, modelId, larger as UsageTotals);
      }
  return { period, base: raised };
}

/**
 * `disk` plus what `view` (this process's last view of the file, from before the file's last repair) held that the
 * repair dropped: merged against the repair's baseline as the team store merges views against a re-seed's
 * (MERGE_USAGE_LUA), so spend written after the repair is not counted twice. `disk` itself when the view is from after
 * that repair or holds nothing more. Only on one calendar: a move to another zone (calendar-move.ts) changes the keys, and the team
 * store's mirror (no zone) shows the team's ledger as read. The reservations are the file's (a view's may have ended).
 */
export function keepViewedSpend(disk: UsageLedger, view: UsageLedger): UsageLedger {
  const repair = disk.repair;
  if (!repair || repair.id === view.repair?.id || disk.timeZone === undefined || disk.timeZone !== view.timeZone)
    return disk;
  const days = addedBeyond(disk.days, repair.days, view.days);
  const months = addedBeyond(disk.months, repair.months, view.months);
  const imported = view.migratedFrom.filter((name) => !disk.migratedFrom.includes(name));
  if (days.period === disk.days && months.period === disk.months && imported.length === 0) return disk;
  return {
    ...disk,
    days: prune(days.period, KEEP_DAYS),
    months: prune(months.period, KEEP_MONTHS),
    migratedFrom: [...disk.migratedFrom, ...imported],
    repair: { id: repair.id, days: days.base, months: months.base },
  };
}

/** The ledger with only its newest KEEP_DAYS days and KEEP_MONTHS months (the same object when it holds no more). */
export function withKeptPeriods(ledger: UsageLedger): UsageLedger {
  const days = prune(ledger.days, KEEP_DAYS);
  const months = prune(ledger.months, KEEP_MONTHS);
  return days === ledger.days && months === ledger.months ? ledger : { ...ledger, days, months };
}

/** Keeps the newest `keep` keys (keys sort chronologically as YYYY-MM[-DD]). */
function prune(period: Period, keep: number): Period {
  const keys = Object.keys(period);
  if (keys.length <= keep) return period;
  keys.sort();
  const kept: Period = {};
  for (const key of keys.slice(-keep)) kept[key] = period[key]!;
  return kept;
}

/**
 * The operation adding one attempt's usage to its day and month. Only a new day or month can take a period past what
 * is kept, so the older buckets are only looked at then (a ledger two months old holds 62 + 24 of them).
 */
export function recordUsageOperation(keys: CalendarKeys, provider: string, modelId: string, totals: UsageTotals) {
  const added = (period: Period, key: string, keep: number) => {
    const next = addTo(period, key, provider, modelId, totals);
    return Object.hasOwn(period, key) ? next : prune(next, keep);
  };
  return (ledger: UsageLedger): UsageLedger => ({
    ...ledger,
    days: added(ledger.days, keys.day, KEEP_DAYS),
    months: added(ledger.months, keys.month, KEEP_MONTHS),
  });
}

/** Sum over the models of one provider in one period bucket. */
export function providerTotals(period: Period, key: string, provider: string): UsageTotals {
  return Object.values(period[key]?.[provider] ?? {}).reduce(addTotals, emptyTotals());
}

/** Providers that have any spend in either bucket. */
export function providersWithUsage(ledger: UsageLedger, keys: CalendarKeys): string[] {
  return [
    ...new Set([...Object.keys(ledger.days[keys.day] ?? {}), ...Object.keys(ledger.months[keys.month] ?? {})]),
  ].sort();
}

export interface ProviderSpend {
  day: UsageTotals;
  month: UsageTotals;
}

export function providerSpend(ledger: UsageLedger, keys: CalendarKeys, provider: string): ProviderSpend {
  return {
    day: providerTotals(ledger.days, keys.day, provider),
    month: providerTotals(ledger.months, keys.month, provider),
  };
}

/**
 * The USD `provider` spent since its month's spend was `mark` (kept with a balance reading when it was fetched): this
 * month's spend beyond the mark; after a month's end, what the mark's month spent beyond it plus every month after it
 * up to this one (a month pruned from the ledger counts as 0). No month counts below 0: a calendar move
 * (calendar-move.ts) can put some of the mark's month in another, and a mark from a later month (a clock set back)
 * leaves nothing to count.
 * At most KEEP_MONTHS buckets are looked at, and only after a month's end: computed with the budget views, once per
 * instant.
 */
export function spendSince(
  ledger: UsageLedger,
  keys: CalendarKeys,
  provider: string,
  mark: { month: string; usd: number },
): number {
  if (mark.month > keys.month) return 0;
  let spent = Math.max(0, providerTotals(ledger.months, mark.month, provider).costUsd - mark.usd);
  if (mark.month < keys.month)
    for (const month of Object.keys(ledger.months))
      if (month > mark.month && month <= keys.month) spent += providerTotals(ledger.months, month, provider).costUsd;
  return roundAmount(spent);
}
