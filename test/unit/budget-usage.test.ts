import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  addMarkerOperation,
  checkLegacyImport,
  importLegacyLimitsOperation,
  importLegacyOperation,
  legacyNoLimits,
  legacyOwnerMarker,
  onCalendar,
  parseLegacyStats,
  readLegacyEntries,
  readLegacyStats,
} from "../../src/budget/legacy-stats.ts";
import { placeOf } from "../../src/state/json-text.ts";
import { emptyLimits } from "../../src/budget/budget-limits.ts";
import { calendarKeys } from "../../src/budget/calendar.ts";
import { reconcileUsage } from "../../src/budget/reconcile-usage.ts";
import {
  emptyLedger,
  KEEP_DAYS,
  KEEP_MONTHS,
  parseLedger,
  providerSpend,
  recordUsageOperation,
  salvageLedger,
  spendSince,
  totalsOf,
  type UsageLedger,
} from "../../src/budget/usage-ledger.ts";
import { openJsonStore } from "../../src/state/json-store.ts";
import { unitsCostUsd } from "../../src/usage-units.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

function message(text: string, usage?: Record<string, unknown>): any {
  return { role: "assistant", content: text ? [{ type: "text", text }] : [], usage, stopReason: "stop" };
}
const usage = (
  input: number,
  output: number,
  cost: Partial<Record<"input" | "output" | "cacheRead" | "cacheWrite" | "total", number>>,
  cache = { read: 0, write: 0 },
) => ({
  input,
  output,
  cacheRead: cache.read,
  cacheWrite: cache.write,
  totalTokens: input + output,
  cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0, ...cost },
});
const PRICING = { input: 1, output: 2 }; // USD per 1M tokens

describe("usage reconciliation", () => {
  it("takes the provider's numbers as they are when they are consistent", () => {
    const record = reconcileUsage({
      message: message("hello", usage(100, 20, { input: 0.0001, output: 0.00004, total: 0.00014 })),
      pricing: PRICING,
    });
    assert.deepEqual(record, { input: 100, output: 20, cacheRead: 0, cacheWrite: 0, costUsd: 0.00014 });
  });
  it("uses the sum of the cost parts and marks the record estimated when the total does not match them", () => {
    const record = reconcileUsage({
      message: message("hello", usage(100, 20, { input: 0.0001, output: 0.00004, total: 0.5 })),
      pricing: PRICING,
    })!;
    assert.equal(record.estimated, true);
    assert.ok(Math.abs(record.costUsd - 0.00014) < 1e-12);
    assert.match(record.reason!, /differs from the sum of its parts/);
  });
  it("estimates output from the text length when a non-empty answer reports zero tokens", () => {
    const record = reconcileUsage({ message: message("x".repeat(400), usage(0, 0, {})), pricing: PRICING })!;
    assert.equal(record.output, 100);
    assert.equal(record.estimated, true);
    assert.match(record.reason!, /zero tokens/);
    assert.ok(Math.abs(record.costUsd - (100 * 2) / 1e6) < 1e-12);
  });
  it("estimates an interrupted stream that carries no usage at all from its partial text", () => {
    const record = reconcileUsage({ message: message("y".repeat(41)), pricing: PRICING })!;
    assert.equal(record.output, 11);
    assert.equal(record.estimated, true);
    assert.match(record.reason!, /usage missing/);
  });
  it("takes the input of an interrupted stream from the router's estimate of the request", () => {
    const record = reconcileUsage({ message: message("y".repeat(41)), pricing: PRICING, estimatedInputTokens: 1200 })!;
    assert.equal(record.input, 1200);
    assert.equal(record.output, 11);
    assert.equal(record.estimated, true);
    assert.match(record.reason!, /input from the request's estimate/);
  });
  it("treats the 1-token placeholder of a dropped Anthropic stream as missing and estimates output from the text", () => {
    const answer = "word ".repeat(100);
    const dropped = {
      ...message(answer, usage(40, 1, { input: 0.00004, output: 0.000002, total: 0.000042 })),
      stopReason: "error",
    };
    const record = reconcileUsage({ message: dropped, pricing: PRICING })!;
    assert.equal(record.output, 125);
    assert.equal(record.input, 40);
    assert.equal(record.estimated, true);
    assert.match(record.reason!, /1 output tokens reported for 500 characters/);
    assert.ok(Math.abs(record.costUsd - (40 * 1 + 125 * 2) / 1e6) < 1e-12, "cost follows the estimated tokens");
  });
  it("keeps an honest count for text that tokenises densely, and any count for a short answer", () => {
    const dense = reconcileUsage({
      message: message("x".repeat(64), usage(10, 5, { input: 0.00001, output: 0.00001, total: 0.00002 })),
      pricing: PRICING,
    })!;
    assert.equal(dense.output, 5);
    assert.equal(dense.estimated, undefined);
    const short = reconcileUsage({
      message: message("Hello there, all good.", usage(10, 1, { input: 0.00001, output: 0.000002, total: 0.000012 })),
      pricing: PRICING,
    })!;
    assert.equal(short.output, 1);
    assert.equal(short.estimated, undefined);
  });
  it("fills zero reported input tokens from the router's estimate and marks the record", () => {
    const record = reconcileUsage({
      message: message("abcd", usage(0, 5, {})),
      pricing: PRICING,
      estimatedInputTokens: 300,
    })!;
    assert.equal(record.input, 300);
    assert.equal(record.output, 5);
    assert.equal(record.estimated, true);
    assert.match(record.reason!, /zero input tokens reported/);
  });
  it("never records negative or NaN values", () => {
    const record = reconcileUsage({
      message: message("abcd", usage(Number.NaN, -5, { total: Number.NaN })),
      pricing: PRICING,
    })!;
    for (const value of [record.input, record.output, record.cacheRead, record.cacheWrite, record.costUsd]) {
      assert.ok(Number.isFinite(value) && value >= 0, String(value));
    }
    assert.equal(record.estimated, true);
    assert.match(record.reason!, /input was invalid/);
  });
  it("reads a count or cost no request reaches as invalid, not as spend that closes the budget", () => {
    // A faulty proxy's `completion_tokens: 1e308`: pi-ai prices it at ~$2e302, which the ledger booked as it was.
    const huge = reconcileUsage({
      message: message("abcdefgh", usage(100, 1e308, { input: 0.0001, output: 2e302, total: 2e302 })),
      pricing: PRICING,
    })!;
    assert.equal(huge.input, 100);
    assert.equal(huge.output, 2, "estimated from the text length");
    assert.equal(huge.costUsd, (100 * 1 + 2 * 2) / 1_000_000);
    assert.match(huge.reason!, /output was invalid \(1e\+308\)/);
    // A count within reach is taken as reported.
    assert.equal(reconcileUsage({ message: message("a", usage(100, 90_000_000, {})), pricing: PRICING })!.output, 9e7);
    // Consistent tokens with a cost total no request costs: the model's prices.
    const costly = reconcileUsage({
      message: message("hello", usage(100, 20, { total: 50_000 })),
      pricing: PRICING,
    })!;
    assert.equal(costly.costUsd, (100 * 1 + 20 * 2) / 1_000_000);
    assert.match(costly.reason!, /^cost total was invalid \(50000\): computed from the model's prices$/);
    // Units priced by the routes file at more than any request costs: the request is counted, at no cost.
    const units = reconcileUsage({
      message: message("", { ...usage(0, 0, {}), units: { search_units: 1e308 } }),
      unitPrices: { search_units: 0.002 },
    })!;
    assert.deepEqual([units.costUsd, units.estimated], [0, true]);
    assert.match(
      units.reason!,
      /^units \{"search_units":1e\+308\} were invalid \(priced at \$2e\+305, more than any request costs\)$/,
    );
  });
  it("counts nothing for an attempt without usage and without text", () => {
    assert.equal(reconcileUsage({ message: undefined }), undefined);
    assert.equal(reconcileUsage({ message: message("", usage(0, 0, {})) }), undefined);
  });
  it("counts an answer billed in units alone (rerank search units) as a request at no known price, its units kept", () => {
    const units = { search_units: 2, bogus: -1 };
    assert.deepEqual(reconcileUsage({ message: message("", { ...usage(0, 0, {}), units }), pricing: PRICING }), {
      input: 0,
      output: 0,
      cacheRead: 0,
      cacheWrite: 0,
      costUsd: 0,
      units: { search_units: 2 },
    });
    const both = reconcileUsage({
      message: message("", { ...usage(1000, 0, { input: 0.001, total: 0.001 }), units: { images: 3 } }),
      pricing: PRICING,
    })!;
    assert.deepEqual([both.input, both.costUsd, both.units, both.estimated], [1000, 0.001, { images: 3 }, undefined]);
  });
  it("adds the units' cost to the tokens' when the routes file prices every unit, and none when one has no price", () => {
    const prices = { search_units: 0.002, images: 0.01 };
    const alone = reconcileUsage({
      message: message("", { ...usage(0, 0, {}), units: { search_units: 3 } }),
      pricing: PRICING,
      unitPrices: prices,
    })!;
    assert.deepEqual([alone.costUsd, alone.units, alone.estimated], [0.006, { search_units: 3 }, undefined]);
    const both = reconcileUsage({
      message: message("", { ...usage(1000, 0, { input: 0.001, total: 0.001 }), units: { images: 3 } }),
      pricing: PRICING,
      unitPrices: prices,
    })!;
    assert.equal(Number(both.costUsd.toFixed(12)), 0.031);
    const unpriced = reconcileUsage({
      message: message("", { ...usage(1000, 0, { input: 0.001, total: 0.001 }), units: { images: 3, seconds: 2 } }),
      pricing: PRICING,
      unitPrices: prices,
    })!;
    assert.deepEqual([unpriced.costUsd, unpriced.units], [0.001, { images: 3, seconds: 2 }]);
  });
  it("prices units only by the names the routes file gives, not by what every object has", () => {
    assert.equal(unitsCostUsd(undefined, undefined), 0);
    assert.equal(unitsCostUsd({ search_units: 2 }, undefined), undefined);
    assert.equal(unitsCostUsd({ search_units: 2 }, { search_units: 0.5 }), 1);
    assert.equal(unitsCostUsd({ constructor: 1 }, {}), undefined);
    assert.equal(unitsCostUsd({ seconds: 2, search_units: 1 }, { seconds: 0.25 }), undefined);
  });
  it("counts a failed attempt that streamed text before failing", () => {
    const failed = {
      ...message("partial answer", usage(50, 3, { input: 0.00005, output: 0.000006, total: 0.000056 })),
      stopReason: "error",
    };
    assert.equal(reconcileUsage({ message: failed })!.output, 3);
  });
  it("computes a zero cost from the model's prices when tokens were billed at a price", () => {
    const record = reconcileUsage({ message: message("hello", usage(1000, 500, {})), pricing: PRICING })!;
    assert.ok(Math.abs(record.costUsd - (1000 * 1 + 500 * 2) / 1e6) < 1e-12);
    assert.equal(record.estimated, true);
  });
});

describe("usage ledger", () => {
  const keys = { day: "2025-01-31", month: "2025-01" };
  it("keeps the newest 62 days and 24 months, dropping the oldest when a new day or month begins", () => {
    const one = totalsOf({ input: 1, output: 1, cacheRead: 0, cacheWrite: 0, costUsd: 0.01 });
    const day = (index: number) => new Date(Date.UTC(2025, 0, 1 + index)).toISOString().slice(0, 10);
    let ledger = emptyLedger();
    for (let index = 0; index < KEEP_DAYS; index++)
      ledger = recordUsageOperation({ day: day(index), month: day(index).slice(0, 7) }, "p", "m", one)(ledger);
    assert.equal(Object.keys(ledger.days).length, KEEP_DAYS);
    // The same day again: nothing is dropped.
    const last = { day: day(KEEP_DAYS - 1), month: day(KEEP_DAYS - 1).slice(0, 7) };
    ledger = recordUsageOperation(last, "p", "m", one)(ledger);
    assert.equal(Object.keys(ledger.days).length, KEEP_DAYS);
    assert.equal(ledger.days[last.day]!.p!.m!.requests, 2);
    // A new day: the oldest goes.
    const next = { day: day(KEEP_DAYS), month: day(KEEP_DAYS).slice(0, 7) };
    ledger = recordUsageOperation(next, "p", "m", one)(ledger);
    assert.deepEqual(Object.keys(ledger.days).sort().slice(0, 2), [day(1), day(2)]);
    assert.equal(Object.keys(ledger.days).length, KEEP_DAYS);
    // Months alike.
    ledger = emptyLedger();
    for (let index = 0; index < KEEP_MONTHS + 3; index++) {
      const month = `${2020 + Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
      ledger = recordUsageOperation({ day: `${month}-01`, month }, "p", "m", one)(ledger);
    }
    assert.equal(Object.keys(ledger.months).length, KEEP_MONTHS);
    assert.equal(Object.keys(ledger.months).sort()[0], "2020-04");
  });

  it("counts a provider's spend since a balance's mark, across a month's end, never below 0", () => {
    const spend = (costUsd: number) => totalsOf({ input: 1, output: 1, cacheRead: 0, cacheWrite: 0, costUsd });
    let ledger = emptyLedger();
    ledger = recordUsageOperation({ day: "2026-10-30", month: "2026-10" }, "p", "m", spend(9))(ledger);
    ledger = recordUsageOperation({ day: "2026-11-30", month: "2026-11" }, "p", "m", spend(0.3))(ledger);
    ledger = recordUsageOperation({ day: "2026-11-30", month: "2026-11" }, "p", "n", spend(0.2))(ledger);
    ledger = recordUsageOperation({ day: "2026-11-30", month: "2026-11" }, "other", "m", spend(7))(ledger);
    ledger = recordUsageOperation({ day: "2026-12-01", month: "2026-12" }, "p", "m", spend(0.1))(ledger);
    const november = { day: "2026-11-30", month: "2026-11" };
    const december = { day: "2026-12-01", month: "2026-12" };
    assert.equal(spendSince(ledger, november, "p", { month: "2026-11", usd: 0.3 }), 0.2, "every model, this provider");
    assert.equal(spendSince(ledger, december, "p", { month: "2026-11", usd: 0.3 }), 0.3, "and the next month's");
    assert.equal(spendSince(ledger, december, "p", { month: "2026-10", usd: 8 }), 1.6, "and every month between");
    assert.equal(spendSince(ledger, december, "p", { month: "2026-12", usd: 0.1 }), 0);
    // A mark above its month's spend (a calendar move put some in another month): that month counts 0, not less.
    assert.equal(spendSince(ledger, december, "p", { month: "2026-11", usd: 2 }), 0.1);
    assert.equal(spendSince(ledger, november, "p", { month: "2026-12", usd: 0 }), 0, "a mark from a later month");
  });

  it("adds an attempt to its day and month per provider and model", () => {
    let ledger = emptyLedger();
    ledger = recordUsageOperation(
      keys,
      "deepseek",
      "chat",
      totalsOf({ input: 10, output: 5, cacheRead: 1, cacheWrite: 2, costUsd: 0.1 }),
    )(ledger);
    ledger = recordUsageOperation(
      keys,
      "deepseek",
      "reasoner",
      totalsOf({ input: 1, output: 1, cacheRead: 0, cacheWrite: 0, costUsd: 0.2, estimated: true }),
    )(ledger);
    ledger = recordUsageOperation(
      { day: "2025-02-01", month: "2025-02" },
      "deepseek",
      "chat",
      totalsOf({ input: 1, output: 1, cacheRead: 0, cacheWrite: 0, costUsd: 5 }),
    )(ledger);
    const spend = providerSpend(ledger, keys, "deepseek");
    assert.deepEqual(spend.day, {
      requests: 2,
      estimated: 1,
      input: 11,
      output: 6,
      cacheRead: 1,
      cacheWrite: 2,
      costUsd: 0.3,
    });
    assert.equal(spend.month.costUsd, 0.3);
    assert.equal(providerSpend(ledger, { day: "2025-02-01", month: "2025-02" }, "deepseek").month.costUsd, 5);
  });

  it("moves a corrupt ledger file aside, warns, and starts from an empty ledger", async () => {
    const dir = freshDir("auto-router-ledger");
    const file = join(dir, "auto-router.usage.json");
    writeFileSync(file, "{ not json");
    const warnings: string[] = [];
    const store = openJsonStore({
      file,
      defaults: emptyLedger,
      parse: parseLedger,
      onWarning: (w) => warnings.push(w.message),
      refreshIntervalMs: 0,
    });
    assert.deepEqual(store.read(), emptyLedger());
    assert.ok(readdirSync(dir).some((name) => name.startsWith("auto-router.usage.json.corrupt-")));
    assert.ok(warnings.length > 0);
    store.update(
      recordUsageOperation(
        keys,
        "openai",
        "gpt",
        totalsOf({ input: 1, output: 1, cacheRead: 0, cacheWrite: 0, costUsd: 1 }),
      ),
    );
    await store.close();
    assert.equal(providerSpend(parseLedger(JSON.parse(readFileSync(file, "utf8"))), keys, "openai").day.costUsd, 1);
  });

  it("rejects a wrong-typed count instead of silently zeroing it, so the store treats the file as damaged", () => {
    assert.throws(() => parseLedger({ days: { "2025-01-31": { p: { m: { costUsd: "0.5" } } } } }), /costUsd/);
  });
  it("takes a count or cost no real ledger reaches for damage, and salvages the rest of the entry without it", () => {
    // Hand edits of the right type: read as written, $9e15 would close every budget of the provider for good, and sums
    // of 1e308 reach Infinity.
    const raw = { days: { "2025-01-31": { p: { m: { requests: 2, costUsd: 9e15, input: 1e308, output: 5 } } } } };
    assert.throws(() => parseLedger(raw), /costUsd|input/);
    assert.deepEqual(salvageLedger(raw).days["2025-01-31"]!.p!.m, {
      requests: 2,
      estimated: 0,
      input: 0,
      output: 5,
      cacheRead: 0,
      cacheWrite: 0,
      costUsd: 0,
    });
    // The largest amount a ledger may hold is read as it is.
    const largest = parseLedger({ days: { "2025-01-31": { p: { m: { input: 1e15 } } } } });
    assert.equal(largest.days["2025-01-31"]!.p!.m!.input, 1e15);
  });
  it("salvages every count that can be read from a damaged ledger: numbers written as text, and zero for the rest", () => {
    const ledger = salvageLedger({
      days: { "2025-01-31": { p: { m: { requests: -3, costUsd: "0.5", input: 7, output: "x" } } } },
    });
    assert.deepEqual(ledger.days["2025-01-31"]!.p!.m, {
      requests: 0,
      estimated: 0,
      input: 7,
      output: 0,
      cacheRead: 0,
      cacheWrite: 0,
      costUsd: 0.5,
    });
  });
});

describe("legacy stats migration", () => {
  // auto-router.stats.json v2 as the earlier pi-auto-router wrote it: cost in estimatedCost, UTC date keys, and the
  // limits set with its `/auto-router budget set`.
  const legacy = {
    version: 2,
    daily: {
      "2025-01-30": { deepseek: { inputTokens: 100, outputTokens: 50, estimatedCost: 0.03 } },
      "2025-01-31": {
        deepseek: { inputTokens: 900, outputTokens: 300, estimatedCost: 0.12 },
        anthropic: { inputTokens: 5000, outputTokens: 700, estimatedCost: 0 },
      },
    },
    monthly: { "2025-01": { deepseek: { inputTokens: 1000, outputTokens: 350, estimatedCost: 0.15 } } },
    limits: { deepseek: { dailyUsd: 1, monthlyUsd: 20 }, openai: { monthlyUsd: 50 } },
  };
  const keys = { day: "2025-01-31", month: "2025-01" };

  const FILE = "auto-router.stats.json";
  const local = { machine: "laptop", teamMode: false };
  const team = (machine: string) => ({ machine, teamMode: true });
  /** The old router's next day: the same file with one more day's spend added. */
  const nextDay = {
    ...legacy,
    daily: { ...legacy.daily, "2025-02-01": { deepseek: { inputTokens: 10, outputTokens: 5, estimatedCost: 0.2 } } },
    monthly: { ...legacy.monthly, "2025-02": { deepseek: { inputTokens: 10, outputTokens: 5, estimatedCost: 0.2 } } },
  };
  /** What a start does: the import, then this machine's ownership marker (two steps, as in team mode). */
  const start = (ledger: UsageLedger, raw: unknown, scope: { machine: string; teamMode: boolean }) => {
    const imported = importLegacyOperation(FILE, parseLegacyStats(raw), scope)(ledger);
    return imported === ledger ? ledger : addMarkerOperation(legacyOwnerMarker(FILE, scope))(imported);
  };

  it("imports the v2 daily and monthly spend per provider from estimatedCost", () => {
    const ledger = importLegacyOperation(FILE, parseLegacyStats(legacy), local)(emptyLedger());
    const spend = providerSpend(ledger, keys, "deepseek");
    assert.deepEqual([spend.day.costUsd, spend.day.input, spend.day.output], [0.12, 900, 300]);
    assert.equal(spend.month.costUsd, 0.15);
    assert.equal(providerSpend(ledger, { day: "2025-01-30", month: "2025-01" }, "deepseek").day.costUsd, 0.03);
    assert.equal(providerSpend(ledger, keys, "anthropic").day.input, 5000);
  });

  it("puts each old UTC day and month on the ledger's calendar: the one it ended in, or the current one while it runs", () => {
    const usage = (cost: number) => ({ deepseek: { inputTokens: 1, outputTokens: 1, estimatedCost: cost } });
    const old = parseLegacyStats({
      version: 2,
      daily: { "2026-12-01": usage(1.25), "2026-11-30": usage(0.5), "2026-11-20": usage(1) },
      monthly: { "2026-12": usage(1.25), "2026-11": usage(4) },
    });
    const costs = (period: Record<string, Record<string, Record<string, { costUsd: number }>>>) =>
      Object.fromEntries(Object.entries(period).map(([key, p]) => [key, p.deepseek!["(legacy)"]!.costUsd]));
    // 22:05 on 30 November in Los Angeles is 06:05 on 1 December UTC: what the old router booked under today's UTC
    // date and month was spent on the local 30th, in November.
    const la = onCalendar(old, Date.parse("2026-12-01T06:05:00Z"), (at) => calendarKeys(at, "America/Los_Angeles"));
    assert.deepEqual(costs(la.days), { "2026-11-30": 1.75, "2026-11-20": 1 });
    assert.deepEqual(costs(la.months), { "2026-11": 5.25 });
    // 08:30 on 1 December in Tokyo: the current UTC day (the 30th) runs on the local 1st; the 29th ended on the 30th.
    const earlier = parseLegacyStats({ version: 2, daily: { "2026-11-30": usage(0.5), "2026-11-29": usage(0.25) } });
    const tokyo = onCalendar(earlier, Date.parse("2026-11-30T23:30:00Z"), (at) => calendarKeys(at, "Asia/Tokyo"));
    assert.deepEqual(costs(tokyo.days), { "2026-12-01": 0.5, "2026-11-30": 0.25 });
    // On a UTC calendar (team mode's default) every key stays.
    const utc = onCalendar(old, Date.parse("2026-12-01T06:05:00Z"), (at) => calendarKeys(at, "UTC"));
    assert.deepEqual(costs(utc.days), { "2026-12-01": 1.25, "2026-11-30": 0.5, "2026-11-20": 1 });
    assert.deepEqual(costs(utc.months), { "2026-12": 1.25, "2026-11": 4 });
    // Placed anywhere, the import's marker is that of the file's content: it is still imported once.
    const placed = importLegacyOperation(FILE, old, local, la)(emptyLedger());
    assert.equal(importLegacyOperation(FILE, old, local, utc)(placed), placed);
  });

  it("imports only once however many windows replay the migration", () => {
    const operation = importLegacyOperation(FILE, parseLegacyStats(legacy), local);
    const twice = operation(operation(emptyLedger()));
    assert.equal(providerSpend(twice, keys, "deepseek").day.costUsd, 0.12);
  });

  it("does not import the old file again once the earlier router has added a day to it", () => {
    const first = start(emptyLedger(), legacy, local);
    const again = start(first, nextDay, local);
    assert.equal(again, first);
    assert.equal(providerSpend(again, keys, "deepseek").month.costUsd, 0.15);
    assert.equal(checkLegacyImport(again.migratedFrom, FILE, parseLegacyStats(nextDay), local), "changed");
    assert.equal(checkLegacyImport(again.migratedFrom, FILE, parseLegacyStats(legacy), local), "imported");
  });

  it("holds a ledger imported into before ownership markers to the same rule (one content marker)", () => {
    const before = { ...emptyLedger(), migratedFrom: [`${FILE}#0123456789abcdef`] };
    assert.equal(checkLegacyImport(before.migratedFrom, FILE, parseLegacyStats(nextDay), local), "changed");
  });

  it("in team mode counts a copied file once, two machines' own files both, and no machine's changed file again", () => {
    let ledger = start(emptyLedger(), legacy, team("s1"));
    ledger = start(ledger, legacy, team("s2")); // a copied home directory
    assert.equal(providerSpend(ledger, keys, "deepseek").month.costUsd, 0.15);
    ledger = start(ledger, nextDay, team("s3")); // another machine's own file
    assert.equal(providerSpend(ledger, { day: "2025-02-01", month: "2025-02" }, "deepseek").month.costUsd, 0.2);
    const changedOnS3 = { ...nextDay, daily: { ...nextDay.daily, "2025-02-02": nextDay.daily["2025-02-01"] } };
    assert.equal(start(ledger, changedOnS3, team("s3")), ledger);
    assert.equal(checkLegacyImport(ledger.migratedFrom, FILE, parseLegacyStats(changedOnS3), team("s3")), "changed");
  });

  it("turns the old limits into command-set limits, keeping a period the user has set here since", () => {
    const state = {
      version: 1,
      providers: { openai: { monthly: 10, updatedAt: 1 }, deepseek: { daily: null, updatedAt: 1 } },
    };
    const imported = importLegacyLimitsOperation(parseLegacyStats(legacy), 2)(state);
    assert.deepEqual(imported.providers, {
      deepseek: { daily: null, monthly: 20, updatedAt: 2 },
      openai: { monthly: 10, updatedAt: 1 },
    });
  });

  it("keeps the time of a provider's limit set here after the old file was last written", () => {
    const state = { version: 1, providers: { deepseek: { daily: 3, updatedAt: 5 } } };
    assert.deepEqual(importLegacyLimitsOperation(parseLegacyStats(legacy), 2)(state).providers.deepseek, {
      daily: 3,
      monthly: 20,
      updatedAt: 5,
    });
  });

  it("does not bring back a period cleared by command after the old file was last written", () => {
    const state = {
      version: 1,
      providers: {},
      cleared: { DeepSeek: { daily: 2, monthly: 3 }, openai: { monthly: 2 } },
    };
    assert.deepEqual(importLegacyLimitsOperation(parseLegacyStats(legacy), 2)(state).providers, {});
    const clearedBefore = { version: 1, providers: {}, cleared: { deepseek: { monthly: 1 }, openai: { daily: 5 } } };
    assert.deepEqual(importLegacyLimitsOperation(parseLegacyStats(legacy), 2)(clearedBefore).providers, {
      deepseek: { daily: 1, monthly: 20, updatedAt: 2 },
      openai: { monthly: 50, updatedAt: 2 },
    });
  });

  it("does not import a limit of 0 or less as a limit: the earlier router read it as no limit", () => {
    const old = parseLegacyStats({
      version: 2,
      limits: { deepseek: { dailyUsd: 0, monthlyUsd: 5 }, openai: { dailyUsd: -1 }, google: { monthlyUsd: 0 } },
    });
    assert.deepEqual(importLegacyLimitsOperation(old, 1)(emptyLimits()).providers, {
      deepseek: { monthly: 5, updatedAt: 1 },
    });
    assert.deepEqual(legacyNoLimits(old), [
      "limits.deepseek.dailyUsd (0)",
      "limits.openai.dailyUsd (-1)",
      "limits.google.monthlyUsd (0)",
    ]);
  });

  it("imports every readable entry and limit of a file with unreadable ones, once, and lists each one it leaves out", () => {
    const usage = (costUsd: number) => ({ inputTokens: 10, outputTokens: 5, estimatedCost: costUsd });
    const raw = {
      version: 2,
      daily: {
        "2025-01-31": { deepseek: { ...usage(0.5), inputTokens: 1.5 }, openai: usage(0.25) },
        yesterday: { openai: usage(9) },
      },
      monthly: { "2025-01": { deepseek: { ...usage(2), note: "x" }, openai: usage(0.25) } },
      limits: { deepseek: { dailyUsd: true }, openai: { monthlyUsd: 10 } },
    };
    const { legacy, dropped } = readLegacyEntries(raw);
    assert.deepEqual(dropped, [
      "daily.2025-01-31.deepseek.inputTokens: expected a whole number of tokens, 0 or more",
      "daily.yesterday: expected a YYYY-MM-DD key (a UTC date)",
      'monthly.2025-01.deepseek: unknown field "note"; expected {inputTokens, outputTokens, estimatedCost} (the cost in USD is estimatedCost)',
      "limits.deepseek.dailyUsd: expected USD, a number, got true",
    ]);
    assert.deepEqual(legacy.limits, { openai: { monthlyUsd: 10 } });
    const once = start(emptyLedger(), raw, local);
    const openai = providerSpend(once, keys, "openai");
    const deepseek = providerSpend(once, keys, "deepseek");
    assert.deepEqual([openai.day.costUsd, openai.month.costUsd], [0.25, 0.25]);
    assert.deepEqual([deepseek.day.costUsd, deepseek.month.costUsd], [0, 0], "its unreadable entries left out");
    assert.equal(start(once, raw, local), once, "the same file, read again, is not imported again");
    assert.equal(checkLegacyImport(once.migratedFrom, FILE, parseLegacyStats(raw), local), "imported");
  });

  it("keeps the readable period of a limit whose other period cannot be read, saying what it kept", () => {
    const { legacy, dropped } = readLegacyEntries({
      version: 2,
      limits: {
        "mock-a": { dailyUsd: "four", monthlyUsd: 40 },
        "mock-b": { dailyUsd: 2, weekly: 3 },
        "mock-c": { dailyUsd: null },
      },
    });
    assert.deepEqual(legacy.limits, { "mock-a": { monthlyUsd: 40 }, "mock-b": { dailyUsd: 2 } });
    assert.deepEqual(dropped, [
      'limits.mock-a.dailyUsd: expected USD, a number, got "four"; its monthlyUsd 40 is imported',
      'limits.mock-b: unknown field "weekly"; expected {dailyUsd, monthlyUsd} (limits in USD are dailyUsd and monthlyUsd); its dailyUsd 2 is imported',
      "limits.mock-c.dailyUsd: expected USD, a number, got null",
    ]);
  });

  it("does not call a limit of 0 or less imported beside a field it cannot read: legacyNoLimits says it is not", () => {
    const { legacy, dropped } = readLegacyEntries({
      version: 2,
      limits: { google: { monthlyUsd: -1, weeklyUsd: 9 }, openai: { dailyUsd: 0, monthlyUsd: 5, weekly: 1 } },
    });
    assert.deepEqual(dropped, [
      'limits.google: unknown field "weeklyUsd"; expected {dailyUsd, monthlyUsd} (limits in USD are dailyUsd and monthlyUsd)',
      'limits.openai: unknown field "weekly"; expected {dailyUsd, monthlyUsd} (limits in USD are dailyUsd and monthlyUsd); its monthlyUsd 5 is imported',
    ]);
    assert.deepEqual(legacyNoLimits(legacy), ["limits.google.monthlyUsd (-1)", "limits.openai.dailyUsd (0)"]);
  });

  it("reads a number written as text as that number, as the usage ledger does", () => {
    const { legacy, dropped } = readLegacyEntries({
      version: 2,
      daily: { "2025-01-31": { openai: { inputTokens: "10", outputTokens: 5, estimatedCost: "2.5" } } },
      limits: { openai: { dailyUsd: "4", monthlyUsd: " 40 " } },
    });
    assert.deepEqual(dropped, []);
    const totals = legacy.days["2025-01-31"]!.openai!["(legacy)"]!;
    assert.deepEqual([totals.input, totals.output, totals.costUsd], [10, 5, 2.5]);
    assert.deepEqual(legacy.limits, { openai: { dailyUsd: 4, monthlyUsd: 40 } });
  });

  it("names the line and column where an old stats file is not valid JSON, and an empty one as empty", () => {
    const dir = mkdtempSync(join(tmpdir(), "legacy-stats-"));
    const file = join(dir, "auto-router.stats.json");
    const failure = (text: string) => {
      writeFileSync(file, text);
      try {
        readLegacyStats(dir);
      } catch (error) {
        return `${placeOf(file, error)}: ${(error as Error).message}`;
      }
      return "read";
    };
    try {
      assert.equal(
        failure('{"version": 2,\n  "daily": {x}}'),
        `${file}:2:13: not valid JSON: Expected property name or '}'`,
      );
      assert.equal(failure(" \n"), `${file}: empty file`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rejects a provider entry with a field the earlier router never wrote (a cost as `cost`), not reading it as $0", () => {
    assert.throws(
      () =>
        parseLegacyStats({
          version: 2,
          daily: { "2025-01-31": { p: { cost: 1.5, requests: 3, inputTokens: 10, outputTokens: 5 } } },
        }),
      /^Error: daily\.2025-01-31\.p: unknown fields "cost", "requests"; expected \{inputTokens, outputTokens, estimatedCost\} \(the cost in USD is estimatedCost\)/,
    );
  });

  it("rejects a file that is not the v2 format, naming the path and what was expected", () => {
    assert.throws(() => parseLegacyStats({ version: 1, daily: {} }), /^Error: version: .*expected the v2 format/);
    assert.throws(
      () => parseLegacyStats({ version: 2, daily: { yesterday: {} } }),
      /daily\.yesterday: expected a YYYY-MM-DD key/,
    );
    assert.throws(
      () => parseLegacyStats({ version: 2, daily: { "2025-01-31": { p: { estimatedCost: "x" } } } }),
      /daily\.2025-01-31\.p\.estimatedCost/,
    );
  });
});
