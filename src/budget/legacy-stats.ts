// Migration of the earlier public pi-auto-router's `auto-router.stats.json` v2 (shared/docs/legacy-formats.md):
//   {"version":2,
//    "daily":   {"YYYY-MM-DD": {"<provider>": {"inputTokens":n,"outputTokens":n,"estimatedCost":usd}}},
//    "monthly": {"YYYY-MM":    {"<provider>": {...same...}}},
//    "limits":  {"<provider>": {"dailyUsd"?:usd,"monthlyUsd"?:usd}}}
// Spend is keyed by provider only, so it is imported under the model id "(legacy)"; day and month keys are UTC
// dates, each put on the ledger's calendar (budgets.timeZone, else the local zone) by calendar-move.ts (a day in the
// day it ended in, or today, a month in the month holding its middle): the spend of the current UTC day counts for
// today's budget wherever the machine is, and last month's stays last month's. `limits` were set by command in the
// original, so they become command-set limits here (only where the user has not set that provider's period since).
// Everything is imported once per agent dir (the ledger remembers the file name, a hash of what it held and, for team
// mode, the machine); a later change of the old file, to its spend or its limits, is reported once and not imported;
// the old file is never changed. An entry that cannot be read is left out and named, the rest imported, as the earlier
// router kept what it could read of the file. A limit of 0 or less, no limit to the earlier router, is not imported.
import { join } from "node:path";
import { z } from "zod";
import { shown } from "../config/zod-issue-text.ts";
import { isObject } from "../is-object.ts";
import { lazy } from "../lazy.ts";
import { numberFromText } from "../number-from-text.ts";
import { parseJsonText } from "../state/json-text.ts";
import { readOptionalText } from "../state/read-optional-file.ts";
import { legacyMarker } from "../state/legacy-import.ts";
import { stateFile } from "../state/state-paths.ts";
import { clearedAtOf, type LimitsState } from "./budget-limits.ts";
import { mergePeriods, moveToCalendar } from "./calendar-move.ts";
import { emptyTotals, USAGE_STORE_NAME, type UsageLedger, type UsageTotals } from "./usage-ledger.ts";
import { ownEntry } from "../own-record.ts";

export const LEGACY_STATS_FILE = "auto-router.stats.json";
export const LEGACY_MODEL_ID = "(legacy)";

const TOKENS = "expected a whole number of tokens, 0 or more";
const USD = "expected USD, a number of 0 or more";
const LIMIT_USD = "expected USD, a number";
const USAGE_FIELDS = "{inputTokens, outputTokens, estimatedCost} (the cost in USD is estimatedCost)";
const LIMIT_KEYS = ["dailyUsd", "monthlyUsd"] as const;
const LIMIT_FIELDS = "{dailyUsd, monthlyUsd} (limits in USD are dailyUsd and monthlyUsd)";

// Built when a legacy stats file is there to read (a plain session never has one).
const legacySchemas = lazy(() => {
  // A number written as text ("2.5") is that number, as the usage ledger reads it.
  const tokens = z.preprocess(
    numberFromText,
    z.number({ error: TOKENS }).int({ error: TOKENS }).nonnegative({ error: TOKENS }),
  );
  // Strict: the earlier router wrote exactly these fields. A cost under another name (`cost`) would otherwise be
  // read as $0 and imported so, and then never looked at again.
  const usage = z.strictObject(
    {
      inputTokens: tokens.default(0),
      outputTokens: tokens.default(0),
      estimatedCost: z.preprocess(numberFromText, z.number({ error: USD }).nonnegative({ error: USD })).default(0),
    },
    {
      error: (issue) =>
        issue.code === "unrecognized_keys"
          ? `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((key) => JSON.stringify(key)).join(", ")}; expected ${USAGE_FIELDS}`
          : `expected an object ${USAGE_FIELDS}`,
    },
  );
  return {
    file: z.object(
      { version: z.literal(2, { error: "expected the v2 format (version 2)" }) },
      { error: "expected an object" },
    ),
    usage,
    // Any number: the earlier router read a limit of 0 or less as no limit (importLegacyLimitsOperation skips it).
    limit: z.preprocess(numberFromText, z.number().finite()),
  };
});

type Period = UsageLedger["days"];
type LegacyLimit = { dailyUsd?: number; monthlyUsd?: number };
export interface LegacyImport {
  days: Period;
  months: Period;
  limits: Record<string, LegacyLimit>;
  /**
   * The markers of the file in this state dir's file-store ledger (auto-router.usage.json; not the content): in team
   * mode, an import this machine made before it switched, whose spend its `state push` carries.
   */
  fileStoreImports?: string[];
}
/** What a legacy file holds that can be imported, and where (path: what was expected) each entry that cannot is. */
export interface LegacyRead {
  legacy: LegacyImport;
  dropped: string[];
}

const issueAt = (path: readonly string[], error: z.ZodError): string => {
  const issue = error.issues[0]!;
  return `${[...path, ...issue.path].join(".") || "(top level)"}: ${issue.message}`;
};

function readPeriod(section: string, raw: unknown, keyShape: RegExp, shape: string, dropped: string[]): Period {
  const period: Period = {};
  if (raw === undefined) return period;
  if (!isObject(raw)) {
    dropped.push(`${section}: expected an object of ${shape} keys`);
    return period;
  }
  for (const [key, providers] of Object.entries(raw)) {
    if (!keyShape.test(key)) {
      dropped.push(`${section}.${key}: expected a ${shape} key (a UTC date)`);
      continue;
    }
    if (!isObject(providers)) {
      dropped.push(`${section}.${key}: expected an object of providers`);
      continue;
    }
    period[key] = {};
    for (const [provider, value] of Object.entries(providers)) {
      const usage = legacySchemas().usage.safeParse(value);
      if (!usage.success) {
        dropped.push(issueAt([section, key, provider], usage.error));
        continue;
      }
      const totals: UsageTotals = {
        ...emptyTotals(),
        input: usage.data.inputTokens,
        output: usage.data.outputTokens,
        costUsd: usage.data.estimatedCost,
      };
      period[key]![provider] = { [LEGACY_MODEL_ID]: totals };
    }
  }
  return period;
}

/**
 * A provider's limits, each period on its own: one that cannot be read is left out (and named, with what is kept of
 * the entry), the other still applies. A field under another name (`daily`) is named too, never read as no limit.
 */
function readLimit(provider: string, value: unknown, dropped: string[]): LegacyLimit | undefined {
  const place = `limits.${provider}`;
  if (!isObject(value)) {
    dropped.push(`${place}: expected an object ${LIMIT_FIELDS}`);
    return undefined;
  }
  const limit: LegacyLimit = {};
  const problems: string[] = [];
  for (const field of LIMIT_KEYS) {
    if (value[field] === undefined) continue;
    const read = legacySchemas().limit.safeParse(value[field]);
    if (read.success) limit[field] = read.data as number;
    else problems.push(`${place}.${field}: ${LIMIT_USD}, got ${shown(value[field])}`);
  }
  const unknown = Object.keys(value).filter((key) => !(LIMIT_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0)
    problems.push(
      `${place}: unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((key) => JSON.stringify(key)).join(", ")}; expected ${LIMIT_FIELDS}`,
    );
  // Only a limit above 0 is imported: one of 0 or less was no limit to the earlier router, and the import says so on
  // its own line (legacyNoLimits), so it is not called imported here.
  const kept = Object.entries(limit)
    .filter(([, usd]) => usd > 0)
    .map(([field, usd]) => `${field} ${usd}`);
  const rest = kept.length > 0 ? `; its ${kept.join(" and ")} ${kept.length > 1 ? "are" : "is"} imported` : "";
  dropped.push(...problems.map((problem) => `${problem}${rest}`));
  return Object.keys(limit).length > 0 ? limit : undefined;
}

function readLimits(raw: unknown, dropped: string[]): LegacyImport["limits"] {
  const limits: LegacyImport["limits"] = {};
  if (raw === undefined) return limits;
  if (!isObject(raw)) {
    dropped.push("limits: expected an object of providers");
    return limits;
  }
  for (const [provider, value] of Object.entries(raw)) {
    const limit = readLimit(provider, value, dropped);
    if (limit) limits[provider] = limit;
  }
  return limits;
}

/**
 * Every entry of a legacy file that can be read, as the earlier router kept what it could read of its file; the
 * others are listed. Throws with the path and what was expected when nothing can be read: a file that is not v2, or
 * one all of whose entries are wrong (so it is looked at again once fixed, not marked as imported with nothing).
 */
export function readLegacyEntries(raw: unknown): LegacyRead {
  const file = legacySchemas().file.safeParse(raw);
  if (!file.success) throw new Error(issueAt([], file.error));
  const source = raw as Record<string, unknown>;
  const dropped: string[] = [];
  const legacy: LegacyImport = {
    days: readPeriod("daily", source.daily, /^\d{4}-\d{2}-\d{2}$/, "YYYY-MM-DD", dropped),
    months: readPeriod("monthly", source.monthly, /^\d{4}-\d{2}$/, "YYYY-MM", dropped),
    limits: readLimits(source.limits, dropped),
  };
  const entries = [...Object.values(legacy.days), ...Object.values(legacy.months)];
  const readable = Object.keys(legacy.limits).length > 0 || entries.some((providers) => Object.keys(providers).length);
  if (dropped.length > 0 && !readable) throw new Error(dropped.join("; "));
  return { legacy, dropped };
}

/** What to import from a parsed legacy file (its unreadable entries left out: see readLegacyEntries). */
export const parseLegacyStats = (raw: unknown): LegacyImport => readLegacyEntries(raw).legacy;

/** Where a limit of 0 or less is (`limits.<provider>.dailyUsd`): the earlier router read it as no limit. */
export function legacyNoLimits(legacy: LegacyImport): string[] {
  return Object.entries(legacy.limits).flatMap(([provider, limit]) =>
    (["dailyUsd", "monthlyUsd"] as const)
      .filter((field) => limit[field] !== undefined && limit[field] <= 0)
      .map((field) => `limits.${provider}.${field} (${limit[field]})`),
  );
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

export const legacyContentMarker = (name: string, legacy: LegacyImport): string =>
  `${name}#${legacyMarker({ days: legacy.days, months: legacy.months, limits: legacy.limits })}`;
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
  const content = legacyContentMarker(name, legacy);
  if (migratedFrom.includes(name) || migratedFrom.includes(content)) return "imported";
  const isMarker = (marker: string) => marker.startsWith(`${name}#`) || marker.startsWith(`${name}@`);
  if (!scope.teamMode) {
    if (!migratedFrom.some(isMarker)) return "import";
    return migratedFrom.includes(legacyChangeMarker(name, scope)) ? "changed-noted" : "changed";
  }
  // In team mode this machine's file store may have imported the file before the switch: its `state push` carries
  // that spend, so another content is a change here too (the same content is imported, and the push skips it).
  const fileStore = (legacy.fileStoreImports ?? []).filter(isMarker);
  if (fileStore.includes(name)) return "imported";
  const importedHere =
    migratedFrom.includes(legacyOwnerMarker(name, scope)) ||
    fileStore.some((marker) => marker.startsWith(`${name}#`) && marker !== content);
  if (!importedHere) return "import";
  const noted =
    migratedFrom.includes(legacyChangeMarker(name, scope)) || fileStore.some((marker) => marker.endsWith("#changed"));
  return noted ? "changed-noted" : "changed";
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
      days: mergePeriods(ledger.days, placed.days),
      months: mergePeriods(ledger.months, placed.months),
      migratedFrom: [...ledger.migratedFrom, marker],
    };
  };
}

/** The old spend (UTC dates) on the ledger's calendar (calendar-move.ts); on a UTC calendar every key stays. */
export function onCalendar(
  legacy: LegacyImport,
  now: number,
  keysAt: (instant: number) => { day: string; month: string },
): LegacyImport {
  return { ...legacy, ...moveToCalendar(legacy, "UTC", now, keysAt, "end") };
}

/** A provider's spend the earlier router recorded for its subscription targets: in USD, over how many days. */
export type SubscriptionSpend = Record<string, { usd: number; days: number }>;

/**
 * The old spend as this router counts it. The earlier router added every answer's computed cost to `daily`, its
 * subscription targets' too, but only its per-token targets' to `monthly`: a provider's day whose month in `monthly`
 * does not hold that provider was subscription use, which costs $0 here (its tokens are kept). Left as it was, it
 * showed as spend today, warned of a limit no subscription answer can reach, and ran ahead of the month's spend.
 */
export function withoutSubscriptionCost(legacy: LegacyImport): {
  legacy: LegacyImport;
  subscription: SubscriptionSpend;
} {
  const subscription: SubscriptionSpend = {};
  const days: Period = {};
  for (const [day, providers] of Object.entries(legacy.days)) {
    days[day] = {};
    for (const [provider, models] of Object.entries(providers)) {
      const perToken = legacy.months[day.slice(0, 7)]?.[provider] !== undefined;
      const totals = models[LEGACY_MODEL_ID];
      if (perToken || !totals || totals.costUsd === 0) {
        days[day]![provider] = models;
        continue;
      }
      const spent = ownEntry(subscription, provider, () => ({ usd: 0, days: 0 }));
      spent.usd += totals.costUsd;
      spent.days += 1;
      days[day]![provider] = { [LEGACY_MODEL_ID]: { ...totals, costUsd: 0 } };
    }
  }
  return { legacy: { ...legacy, days }, subscription };
}

/** Replayable: adds a marker that carries no spend (ownership, a reported change). */
export function addMarkerOperation(marker: string) {
  return (ledger: UsageLedger): UsageLedger =>
    ledger.migratedFrom.includes(marker) ? ledger : { ...ledger, migratedFrom: [...ledger.migratedFrom, marker] };
}

/**
 * The old limits as command-set limits; a period the user has set (or switched off) here since is kept, one cleared
 * by command since (in team mode perhaps on another machine) stays cleared, and one of 0 or
 * less (no limit to the earlier router) is not imported. `at`: when they were set at the latest (the old file's last
 * write), which `state push` compares with a limit set on this machine in file mode.
 */
export function importLegacyLimitsOperation(legacy: LegacyImport, at: number) {
  return (state: LimitsState): LimitsState => {
    const providers = { ...state.providers };
    for (const [provider, old] of Object.entries(legacy.limits)) {
      const current = { ...providers[provider] };
      let changed = false;
      // The earlier router read a limit of 0 or less as no limit, not as one that blocks everything.
      const usable = (value: number | undefined, period: "daily" | "monthly") => {
        const clearedAt = clearedAtOf(state, provider, period);
        return (
          value !== undefined &&
          value > 0 &&
          current[period] === undefined &&
          !(clearedAt !== undefined && clearedAt >= at)
        );
      };
      if (usable(old.dailyUsd, "daily")) [current.daily, changed] = [old.dailyUsd, true];
      if (usable(old.monthlyUsd, "monthly")) [current.monthly, changed] = [old.monthlyUsd, true];
      // A period set here later keeps its time: the entry's time is its latest setting.
      if (changed) providers[provider] = { ...current, updatedAt: Math.max(current.updatedAt ?? at, at) };
    }
    return { ...state, providers };
  };
}

/**
 * Reads the legacy file from the state dir, with the file-store ledger's imports of it; undefined when absent.
 * Unreadable content throws (caller warns).
 */
export function readLegacyStats(stateDir: string): LegacyRead | undefined {
  const text = readOptionalText(join(stateDir, LEGACY_STATS_FILE));
  if (text === undefined) return undefined;
  const read = readLegacyEntries(parseJsonText(text));
  read.legacy.fileStoreImports = fileStoreImports(stateDir);
  return read;
}

/** The file-store ledger's import markers; none when it is absent or unreadable (the file store reports that). */
function fileStoreImports(stateDir: string): string[] {
  try {
    const ledger = parseJsonText(readOptionalText(stateFile(stateDir, USAGE_STORE_NAME)) ?? "{}");
    const markers = isObject(ledger) ? ledger.migratedFrom : undefined;
    return Array.isArray(markers) ? markers.filter((marker) => typeof marker === "string") : [];
  } catch {
    return [];
  }
}
