// Migration of the earlier public pi-auto-router's `auto-router.stats.json` v2 (shared/docs/legacy-formats.md):
//   {"version":2,
//    "daily":   {"YYYY-MM-DD": {"<provider>": {"inputTokens":n,"outputTokens":n,"estimatedCost":usd}}},
//    "monthly": {"YYYY-MM":    {"<provider>": {...same...}}},
//    "limits":  {"<provider>": {"dailyUsd"?:usd,"monthlyUsd"?:usd}}}
// Spend is keyed by provider only, so it is imported under the model id "(legacy)"; day and month keys are UTC
// dates, each put on the ledger's calendar (budgets.timeZone, else the local zone) as the day or month in which it
// ended, or is now if it has not ended (onCalendar): the spend of the current UTC day counts for today's budget
// wherever the machine is. `limits` were set by command in the original, so they become command-set limits here
// (only where the user has not set that provider's period since). Everything is imported once per agent dir (the
// ledger remembers the file name, a hash of what it held and, for team mode, the machine); a later change of the old
// file is reported once and not imported; the old file is never changed.
import { join } from "node:path";
import { z } from "zod";
import { lazy } from "../lazy.ts";
import { readOptionalText } from "../state/read-optional-file.ts";
import { legacyMarker } from "../state/legacy-import.ts";
import type { LimitsState } from "./budget-limits.ts";
import { addTotals, emptyTotals, type UsageLedger, type UsageTotals } from "./usage-ledger.ts";

export const LEGACY_STATS_FILE = "auto-router.stats.json";
export const LEGACY_MODEL_ID = "(legacy)";

// Built when a legacy stats file is there to read (a plain session never has one).
const legacyStatsSchema = lazy(() => {
  const usd = z.number().finite().nonnegative();
  const tokens = z.number().int().nonnegative();
  // Strict: the earlier router wrote exactly these fields. A cost under another name (`cost`) would otherwise be
  // dropped and the file imported as $0, and then never looked at again.
  const providerUsageSchema = z.strictObject(
    {
      inputTokens: tokens.default(0),
      outputTokens: tokens.default(0),
      estimatedCost: usd.default(0),
    },
    {
      error: (issue) =>
        issue.code === "unrecognized_keys"
          ? `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((key) => JSON.stringify(key)).join(", ")}; expected {inputTokens, outputTokens, estimatedCost} (the cost in USD is estimatedCost)`
          : undefined,
    },
  );
  const periodSchema = (key: RegExp, shape: string) =>
    z
      .record(z.string(), z.record(z.string(), providerUsageSchema))
      .superRefine((period, context) => {
        for (const name of Object.keys(period)) {
          if (!key.test(name))
            context.addIssue({
              code: z.ZodIssueCode.custom,
              path: [name],
              message: `expected a ${shape} key (a UTC date)`,
            });
        }
      })
      .default({});
  return z.object({
    version: z.literal(2),
    daily: periodSchema(/^\d{4}-\d{2}-\d{2}$/, "YYYY-MM-DD"),
    monthly: periodSchema(/^\d{4}-\d{2}$/, "YYYY-MM"),
    limits: z.record(z.string(), z.object({ dailyUsd: usd.optional(), monthlyUsd: usd.optional() })).default({}),
  });
});
export type LegacyStats = z.infer<ReturnType<typeof legacyStatsSchema>>;

type Period = UsageLedger["days"];
export interface LegacyImport {
  days: Period;
  months: Period;
  limits: LegacyStats["limits"];
}

function toPeriod(source: LegacyStats["daily"]): Period {
  const period: Period = {};
  for (const [key, providers] of Object.entries(source)) {
    period[key] = {};
    for (const [provider, usage] of Object.entries(providers)) {
      const totals: UsageTotals = {
        ...emptyTotals(),
        input: usage.inputTokens,
        output: usage.outputTokens,
        costUsd: usage.estimatedCost,
      };
      period[key]![provider] = { [LEGACY_MODEL_ID]: totals };
    }
  }
  return period;
}

/** What to import from a parsed legacy file. Throws with the path and what was expected when it is not v2. */
export function parseLegacyStats(raw: unknown): LegacyImport {
  const parsed = legacyStatsSchema().safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(
      `${issue.path.length ? issue.path.join(".") : "(top level)"}: ${issue.message} (expected the v2 format)`,
    );
  }
  return { days: toPeriod(parsed.data.daily), months: toPeriod(parsed.data.monthly), limits: parsed.data.limits };
}

function merge(target: Period, source: Period): Period {
  const result: Period = { ...target };
  for (const [key, providers] of Object.entries(source)) {
    const bucket = { ...result[key] };
    for (const [provider, models] of Object.entries(providers)) {
      const existing = { ...bucket[provider] };
      for (const [modelId, totals] of Object.entries(models))
        existing[modelId] = addTotals(existing[modelId] ?? emptyTotals(), totals);
      bucket[provider] = existing;
    }
    result[key] = bucket;
  }
  return result;
}

/**
 * Where this agent dir (this machine, in team mode) stands with the old file: `import` it, it is `imported` (this
 * content, or this file's content anywhere in the team), or it `changed` since this dir imported it. A change is never
 * imported: the old router adds each day's spend to the same file, so importing again would count what was imported
 * before a second time. The file store's ledger is this dir's own, so any marker of the file means this dir imported
 * it; the team ledger is shared, so there it is this machine's ownership marker (`<name>@<machine>`) that says so.
 */
export type LegacyCheck = "import" | "imported" | "changed" | "changed-noted";
export interface LegacyScope {
  machine: string;
  teamMode: boolean;
}

export const legacyContentMarker = (name: string, legacy: LegacyImport): string => `${name}#${legacyMarker(legacy)}`;
export const legacyOwnerMarker = (name: string, scope: LegacyScope): string => `${name}@${scope.machine}`;
/** Remembers that the change was reported, so it is said once. */
export const legacyChangeMarker = (name: string, scope: LegacyScope): string => `${name}@${scope.machine}#changed`;

export function checkLegacyImport(
  migratedFrom: readonly string[],
  name: string,
  legacy: LegacyImport,
  scope: LegacyScope,
): LegacyCheck {
  // A bare name is an import from before content markers: what it held is unknown, so nothing more is imported.
  if (migratedFrom.includes(name) || migratedFrom.includes(legacyContentMarker(name, legacy))) return "imported";
  const importedHere = scope.teamMode
    ? migratedFrom.includes(legacyOwnerMarker(name, scope))
    : migratedFrom.some((marker) => marker.startsWith(`${name}#`) || marker.startsWith(`${name}@`));
  if (!importedHere) return "import";
  return migratedFrom.includes(legacyChangeMarker(name, scope)) ? "changed-noted" : "changed";
}

/**
 * Replayable: imports the spend unless the ledger on disk (or in Redis: checked in the step that adds the content
 * marker) says this dir imported the file already; whichever window or team machine gets there first. The same file
 * copied to two machines counts once, two machines' own files add up.
 */
export function importLegacyOperation(
  name: string,
  legacy: LegacyImport,
  scope: LegacyScope,
  /** The same spend keyed on the ledger's calendar (onCalendar); the marker stays that of the file's content. */
  placed: LegacyImport = legacy,
) {
  const marker = legacyContentMarker(name, legacy);
  return (ledger: UsageLedger): UsageLedger => {
    if (checkLegacyImport(ledger.migratedFrom, name, legacy, scope) !== "import") return ledger;
    return {
      ...ledger,
      days: merge(ledger.days, placed.days),
      months: merge(ledger.months, placed.months),
      migratedFrom: [...ledger.migratedFrom, marker],
    };
  };
}

/**
 * The old spend on the ledger's calendar: each UTC day (month) goes to the day (month) of `keysAt` at its last instant,
 * or at `now` while it runs; two that land on one key add up. On a UTC calendar every key stays as it is.
 */
export function onCalendar(
  legacy: LegacyImport,
  now: number,
  keysAt: (instant: number) => { day: string; month: string },
): LegacyImport {
  const place = (period: Period, lastInstant: (key: string) => number, pick: "day" | "month"): Period => {
    let placed: Period = {};
    for (const [key, providers] of Object.entries(period)) {
      const end = lastInstant(key);
      const target = Number.isFinite(end) ? keysAt(Math.min(now, end))[pick] : key;
      placed = merge(placed, { [target]: providers });
    }
    return placed;
  };
  const dayEnd = (key: string) => Date.parse(`${key}T23:59:59.999Z`);
  const monthEnd = (key: string) => {
    const [year, month] = key.split("-").map(Number);
    return Date.UTC(year!, month!, 1) - 1; // Date.UTC's months count from 0: this is the next month's first instant
  };
  return { ...legacy, days: place(legacy.days, dayEnd, "day"), months: place(legacy.months, monthEnd, "month") };
}

/** Replayable: adds a marker that carries no spend (ownership, a reported change). */
export function addMarkerOperation(marker: string) {
  return (ledger: UsageLedger): UsageLedger =>
    ledger.migratedFrom.includes(marker) ? ledger : { ...ledger, migratedFrom: [...ledger.migratedFrom, marker] };
}

/** The old limits as command-set limits; a period the user has set (or switched off) here since is kept. */
export function importLegacyLimitsOperation(legacy: LegacyImport, at: number) {
  return (state: LimitsState): LimitsState => {
    const providers = { ...state.providers };
    for (const [provider, old] of Object.entries(legacy.limits)) {
      const current = { ...providers[provider] };
      let changed = false;
      if (old.dailyUsd !== undefined && current.daily === undefined) [current.daily, changed] = [old.dailyUsd, true];
      if (old.monthlyUsd !== undefined && current.monthly === undefined)
        [current.monthly, changed] = [old.monthlyUsd, true];
      if (changed) providers[provider] = { ...current, updatedAt: at };
    }
    return { ...state, providers };
  };
}

/** Reads the legacy file from the state dir; undefined when absent. Unparseable content throws (caller warns). */
export function readLegacyStats(stateDir: string): LegacyImport | undefined {
  const text = readOptionalText(join(stateDir, LEGACY_STATS_FILE));
  return text === undefined ? undefined : parseLegacyStats(JSON.parse(text));
}
