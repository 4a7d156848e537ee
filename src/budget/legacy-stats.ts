// Migration of the earlier public pi-auto-router's `auto-router.stats.json` (v2). No sample of that file survives,
// so the reader is tolerant of the plausible shapes and imports what it can recognise:
//   {"version":2,
//    "daily":   {"2025-01-31": {"deepseek": {"cost":0.12,"requests":3,"inputTokens":900,"outputTokens":300}}},
//    "monthly": {"2025-01":    {"deepseek": {"cost":1.5, ...}}}}
// "days"/"months" are accepted as the period names; a provider value may be a bare number (USD), an object with
// cost|costUsd|spend|totalCost and token counts, or an object of models holding such objects. Everything is
// imported under the model id "(legacy)" once (the ledger remembers the file); the old file is never changed.
import { readOptionalText } from "../state/read-optional-file.ts";
import { join } from "node:path";
import { emptyTotals, addTotals, type UsageLedger, type UsageTotals } from "./usage-ledger.ts";
import { isObject } from "../is-object.ts";

export const LEGACY_STATS_FILE = "auto-router.stats.json";
export const LEGACY_MODEL_ID = "(legacy)";

type Period = UsageLedger["days"];
export interface LegacyImport { days: Period; months: Period }

const DAY_KEY = /^\d{4}-\d{2}-\d{2}$/;
const MONTH_KEY = /^\d{4}-\d{2}$/;
const amount = (value: unknown): number | undefined => {
  const number = typeof value === "string" ? Number(value) : value;
  return typeof number === "number" && Number.isFinite(number) && number >= 0 ? number : undefined;
};
const first = (source: Record<string, unknown>, names: string[]) => names.map((name) => amount(source[name])).find((v) => v !== undefined);

function totalsFrom(value: unknown): UsageTotals | undefined {
  const bare = amount(value);
  if (bare !== undefined) return { ...emptyTotals(), costUsd: bare };
  if (!isObject(value)) return undefined;
  const costUsd = first(value, ["costUsd", "cost", "spend", "totalCost", "usd"]);
  const requests = first(value, ["requests", "count", "calls"]);
  const input = first(value, ["input", "inputTokens", "promptTokens"]);
  const output = first(value, ["output", "outputTokens", "completionTokens"]);
  if ([costUsd, requests, input, output].every((item) => item === undefined)) return undefined;
  return {
    ...emptyTotals(),
    costUsd: costUsd ?? 0,
    requests: requests ?? 0,
    input: input ?? 0,
    output: output ?? 0,
    cacheRead: first(value, ["cacheRead", "cacheReadTokens"]) ?? 0,
    cacheWrite: first(value, ["cacheWrite", "cacheWriteTokens"]) ?? 0,
  };
}

function providerTotals(value: unknown): UsageTotals | undefined {
  const direct = totalsFrom(value);
  if (direct || !isObject(value)) return direct;
  const models = Object.values(value).map(totalsFrom).filter((item): item is UsageTotals => item !== undefined);
  return models.length ? models.reduce(addTotals, emptyTotals()) : undefined;
}

function readPeriod(value: unknown, keyPattern: RegExp): Period {
  const period: Period = {};
  if (!isObject(value)) return period;
  for (const [key, providers] of Object.entries(value)) {
    if (!keyPattern.test(key) || !isObject(providers)) continue;
    for (const [provider, raw] of Object.entries(providers)) {
      const totals = providerTotals(raw);
      if (totals) period[key] = { ...period[key], [provider]: { [LEGACY_MODEL_ID]: totals } };
    }
  }
  return period;
}

/** What to import from a parsed legacy file; empty periods when nothing is recognisable. Pure. */
export function parseLegacyStats(raw: unknown): LegacyImport {
  if (!isObject(raw)) return { days: {}, months: {} };
  return { days: readPeriod(raw.daily ?? raw.days, DAY_KEY), months: readPeriod(raw.monthly ?? raw.months, MONTH_KEY) };
}

function merge(target: Period, source: Period): Period {
  const result: Period = { ...target };
  for (const [key, providers] of Object.entries(source)) {
    const bucket = { ...result[key] };
    for (const [provider, models] of Object.entries(providers)) {
      const existing = { ...bucket[provider] };
      for (const [modelId, totals] of Object.entries(models)) existing[modelId] = addTotals(existing[modelId] ?? emptyTotals(), totals);
      bucket[provider] = existing;
    }
    result[key] = bucket;
  }
  return result;
}

/** Replayable: imports once per file name, whichever window gets there first. */
export function importLegacyOperation(name: string, legacy: LegacyImport) {
  return (ledger: UsageLedger): UsageLedger => {
    if (ledger.migratedFrom.includes(name)) return ledger;
    return { ...ledger, days: merge(ledger.days, legacy.days), months: merge(ledger.months, legacy.months), migratedFrom: [...ledger.migratedFrom, name] };
  };
}

/** Reads the legacy file from the state dir; undefined when absent. Unparseable content throws (caller warns). */
export async function readLegacyStats(stateDir: string): Promise<LegacyImport | undefined> {
  const text = await readOptionalText(join(stateDir, LEGACY_STATS_FILE));
  return text === undefined ? undefined : parseLegacyStats(JSON.parse(text));
}
