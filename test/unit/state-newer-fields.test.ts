// Several router versions on one state directory (a gateway installed globally beside a pi extension updated on its
// own): each state file written by a newer version holds fields this one does not know, at the top and in its
// entries. This version's read-modify-write keeps them: each store kind below opens a real file through its own
// parse (and salvage), changes it through its own operation, and the file keeps the newer version's fields.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { breakerStateSchema, emptyBreakers, BreakerBook } from "../../src/breaker/breaker-book.ts";
import { DEFAULT_BREAKER_SETTINGS } from "../../src/breaker/breaker.ts";
import { emptyBalances, parseBalances, storeReadingOperation } from "../../src/budget/balance-book.ts";
import { clearLimitOperation, emptyLimits, parseLimits, setLimitOperation } from "../../src/budget/budget-limits.ts";
import { openRefusalBook } from "../../src/budget/budget-refusals.ts";
import { calendarZoneOperation } from "../../src/budget/calendar-move.ts";
import { calendarKeys } from "../../src/budget/calendar.ts";
import { reserveOperation } from "../../src/budget/ledger-reservations.ts";
import { openTeamCalendars } from "../../src/budget/team-calendars.ts";
import {
  emptyLedger,
  parseLedger,
  recordUsageOperation,
  salvageLedger,
  totalsOf,
} from "../../src/budget/usage-ledger.ts";
import { emptyHealth, HealthBook, healthStateSchema } from "../../src/health/health-book.ts";
import { createUviPlugin, emptyQuotaState, quotaStateSchema } from "../../src/quota/uvi-plugin.ts";
import { addRating, emptyRatings } from "../../src/ratings/ratings-book.ts";
import { parseRatingsState, salvageRatingsState } from "../../src/ratings/legacy-ratings.ts";
import { CooldownBook, cooldownStateSchema, emptyCooldowns } from "../../src/runtime/cooldown-book.ts";
import { emptyLatency, LatencyBook } from "../../src/runtime/latency-book.ts";
import { parseLatencyState, salvageLatencyState } from "../../src/runtime/legacy-latency.ts";
import type { PluginContext } from "../../src/runtime/plugin.ts";
import { emptyReverts, RevertBook, revertStateSchema } from "../../src/runtime/revert-policy.ts";
import { addComparison, createShadowService, emptyShadow, shadowStateSchema } from "../../src/shadow/shadow-history.ts";
import { openJsonStore } from "../../src/state/json-store.ts";
import { salvageRecords } from "../../src/state/salvage.ts";
import type { StateStore } from "../../src/state/store-types.ts";
import { pendingStateSchema } from "../../src/team/ledger-hashes.ts";
import { emptyUnwritten, markUnwritten, unwrittenStateSchema } from "../../src/team/unwritten-marker.ts";
import { freshDir } from "../helpers/temp-and-workers.ts";

const NOW = Date.parse("2026-12-06T12:00:00Z");
/** What a newer version added: a field of its own at the top of the file and in an entry. */
const NEWER = { markers: ["repair-7"], since: 3 };

const dir = freshDir("auto-router-newer-fields");
const stores: StateStore<unknown>[] = [];
after(async () => {
  await Promise.all(stores.map((store) => store.close()));
});

function fileOf(name: string): string {
  return join(dir, `auto-router.${name}.json`);
}

/** The store `name` over its file (written first with `content`), as the router opens it, writing on flush only. */
function open<T>(
  name: string,
  content: unknown,
  defaults: () => T,
  parse: (raw: unknown) => T,
  salvage?: (raw: unknown) => T,
): StateStore<T> {
  writeFileSync(fileOf(name), JSON.stringify(content));
  const warnings: string[] = [];
  const store = openJsonStore({
    file: fileOf(name),
    defaults,
    parse,
    salvage,
    onWarning: (warning) => warnings.push(warning.message),
    flushDelayMs: 60_000,
    refreshIntervalMs: 0,
  });
  stores.push(store as StateStore<unknown>);
  assert.deepEqual(warnings, [], `${name} reads without a warning`);
  return store;
}

/** A plugin context whose stores are files in `dir`, named as the router names them. */
function contextOver(content: unknown): PluginContext & { opened: () => StateStore<unknown> } {
  let opened: StateStore<unknown> | undefined;
  return {
    teamMode: true,
    machine: "laptop",
    now: () => NOW,
    config: () => undefined,
    processEnv: {},
    registry: () => undefined,
    piSettings: () => undefined,
    claim: async () => true,
    record: () => undefined,
    warn: () => undefined,
    openStore: ((
      name: string,
      defaults: () => unknown,
      parse: (raw: unknown) => unknown,
      salvage?: (raw: unknown) => unknown,
    ) => (opened = open(name, content, defaults, parse, salvage))) as PluginContext["openStore"],
    opened: () => opened!,
  } as unknown as PluginContext & { opened: () => StateStore<unknown> };
}

async function written(store: StateStore<unknown>, name: string): Promise<Record<string, any>> {
  await store.flush();
  return JSON.parse(readFileSync(fileOf(name), "utf8"));
}

describe("a state file with a newer version's fields, after this version's read-modify-write", () => {
  it("cooldowns: keeps the file's and an entry's unknown fields when another target is rested, and through a salvage", async () => {
    const content = {
      v: 1,
      newer: NEWER,
      entries: { "main|a/x": { until: NOW + 60_000, ms: 60_000, kind: "rate_limit", probe: NEWER } },
    };
    const store = open("cooldowns", content, emptyCooldowns, (raw) => cooldownStateSchema.parse(raw));
    new CooldownBook(store).set("main|b/y", { until: NOW + 30_000, kind: "overloaded" }, NOW);
    const file = await written(store as StateStore<unknown>, "cooldowns");
    assert.deepEqual(file.newer, NEWER);
    assert.deepEqual(file.entries["main|a/x"].probe, NEWER);
    assert.equal(file.entries["main|b/y"].kind, "overloaded");
    // A damaged entry is dropped alone: the file's own newer fields stay.
    const salvage = salvageRecords(cooldownStateSchema, emptyCooldowns);
    const salvaged = salvage({ ...content, entries: { ...content.entries, bad: { until: "soon" } } }) as Record<
      string,
      unknown
    >;
    assert.deepEqual(salvaged.newer, NEWER);
    assert.deepEqual(Object.keys(salvaged.entries as object), ["main|a/x"]);
  });

  it("latency: keeps them when a target's average is updated, and the file's through a reset", async () => {
    const content = {
      v: 1,
      newer: NEWER,
      targets: { "a/x": { ttftMs: 500, samples: 3, updatedAt: NOW - 1_000, p95Ms: 900 } },
    };
    const store = open("latency", content, emptyLatency, parseLatencyState, salvageLatencyState);
    const book = new LatencyBook(store);
    book.record("a/x", 300, undefined, NOW);
    const file = await written(store as StateStore<unknown>, "latency");
    assert.deepEqual(file.newer, NEWER);
    assert.equal(file.targets["a/x"].p95Ms, 900);
    assert.equal(file.targets["a/x"].samples, 4);
    book.clear();
    const cleared = await written(store as StateStore<unknown>, "latency");
    assert.deepEqual(cleared, { v: 1, newer: NEWER, targets: {} });
  });

  it("revert holds: keeps them when another route starts a hold", async () => {
    const content = {
      v: 1,
      newer: NEWER,
      holds: { main: { preferred: "a/x", standIn: "b/y", since: NOW - 1_000, reason: NEWER } },
    };
    const store = open("revert", content, emptyReverts, (raw) => revertStateSchema().parse(raw));
    new RevertBook(() => store).onFinished("other", { mode: "never", holdoffMs: 0 }, "a/x", "b/y", false, NOW);
    const file = await written(store as StateStore<unknown>, "revert");
    assert.deepEqual(file.newer, NEWER);
    assert.deepEqual(file.holds.main.reason, NEWER);
    assert.equal(file.holds.other.standIn, "b/y");
  });

  it("breakers: keeps them through a failure that opens the breaker, and its probe's success that closes it", async () => {
    const content = {
      v: 1,
      newer: NEWER,
      breakers: { "a/x": { state: "closed", samples: [{ at: NOW - 1_000, failed: true, status: 503 }], trips: 2 } },
    };
    const store = open("breakers", content, emptyBreakers, (raw) => breakerStateSchema.parse(raw));
    const settings = { ...DEFAULT_BREAKER_SETTINGS, minimumCalls: 3, ratio: 0.5 };
    const book = new BreakerBook(store, () => settings);
    book.apply("a/x", { type: "failure", at: NOW, probe: false, kind: "server_error" });
    let file = await written(store as StateStore<unknown>, "breakers");
    assert.deepEqual(file.newer, NEWER);
    assert.equal(file.breakers["a/x"].trips, 2);
    assert.deepEqual(file.breakers["a/x"].samples[0], { at: NOW - 1_000, failed: true, status: 503 });
    book.apply("a/x", { type: "failure", at: NOW + 1, probe: false, kind: "server_error" });
    assert.equal(book.rows(NOW + 1)[0]!.state, "open");
    const back = NOW + 1 + settings.breakMs;
    assert.equal(book.claimProbe("a/x", back), true);
    book.apply("a/x", { type: "success", at: back, probe: true });
    file = await written(store as StateStore<unknown>, "breakers");
    assert.equal(file.breakers["a/x"].state, "closed");
    assert.equal(file.breakers["a/x"].trips, 2);
    assert.deepEqual(file.newer, NEWER);
  });

  it("health: keeps them through a failed check and the answer that makes the provider well again", async () => {
    const content = { v: 1, newer: NEWER, providers: { p: { failures: 1, lastErrorAt: NOW - 5, checks: NEWER } } };
    const store = open("health", content, emptyHealth, (raw) => healthStateSchema.parse(raw));
    const book = new HealthBook(store);
    book.apply("p", { type: "failed", at: NOW, error: "server_error: down" });
    assert.equal((await written(store as StateStore<unknown>, "health")).providers.p.failures, 2);
    book.apply("p", { type: "ok", at: NOW + 1 });
    const file = await written(store as StateStore<unknown>, "health");
    assert.equal(file.providers.p.failures, 0);
    assert.deepEqual(file.providers.p.checks, NEWER);
    assert.deepEqual(file.newer, NEWER);
  });

  it("shadow: keeps them when shadow mode is switched and a comparison is added", async () => {
    const comparison = {
      at: NOW - 1,
      requestId: "r1",
      routeId: "main",
      declaredOrder: [],
      routedOrder: [],
      match: true,
    };
    const content = { v: 1, newer: NEWER, enabled: false, comparisons: [{ ...comparison, scores: NEWER }] };
    const store = open("shadow", content, emptyShadow, (raw) => shadowStateSchema().parse(raw));
    createShadowService(store).setEnabled(true);
    store.update((state) => addComparison(state, { ...comparison, requestId: "r2", at: NOW }));
    const file = await written(store as StateStore<unknown>, "shadow");
    assert.deepEqual(file.newer, NEWER);
    assert.equal(file.enabled, true);
    assert.deepEqual(file.comparisons[0].scores, NEWER);
    assert.equal(file.comparisons.length, 2);
  });

  it("quota: keeps them when an answer's rate-limit headers add a window", async () => {
    const window = { name: "5h", usedFraction: 0.2, windowMs: 18_000_000, resetsAt: NOW + 3_600_000 };
    const content = { v: 1, newer: NEWER, observed: { other: { "5h": { ...window, burst: NEWER } } } };
    const context = contextOver(content);
    const plugin = createUviPlugin(context);
    plugin.onTargetResponse!({
      headers: {
        "anthropic-ratelimit-unified-7d-utilization": "0.4",
        "anthropic-ratelimit-unified-7d-reset": String(Math.round((NOW + 86_400_000) / 1000)),
      },
      now: NOW,
      candidate: { account: "anthropic", provider: "anthropic", modelId: "claude-x" },
    } as never);
    const file = await written(context.opened(), "quota");
    assert.deepEqual(file.newer, NEWER);
    assert.deepEqual(file.observed.other["5h"].burst, NEWER);
    assert.ok(file.observed.anthropic, JSON.stringify(file.observed));
    assert.deepEqual((quotaStateSchema.parse(file) as Record<string, unknown>).newer, NEWER);
    assert.deepEqual(emptyQuotaState(), { v: 1, observed: {} });
  });

  it("ratings: keeps them when a request is rated", async () => {
    const rating = { at: NOW - 1, rating: "good", requestId: "r1" };
    const content = { v: 1, newer: NEWER, targets: { "a/x": [{ ...rating, weight: 2 }] } };
    const store = open("ratings", content, emptyRatings, parseRatingsState, salvageRatingsState);
    store.update((state) => addRating(state, "a/x", { at: NOW, rating: "bad", requestId: "r2" }));
    const file = await written(store as StateStore<unknown>, "ratings");
    assert.deepEqual(file.newer, NEWER);
    assert.equal(file.targets["a/x"][0].weight, 2);
    assert.equal(file.targets["a/x"].length, 2);
  });

  it("usage ledger: keeps them when usage is recorded, a reservation opened and the calendar moved", async () => {
    const keys = calendarKeys(NOW, "UTC");
    const content = {
      version: 1,
      newer: NEWER,
      timeZone: "UTC",
      days: { [keys.day]: { p: { m: { requests: 1, costUsd: 0.5, reasoning: 40 } } } },
      months: { [keys.month]: { p: { m: { requests: 1, costUsd: 0.5, reasoning: 40 } } } },
      migratedFrom: [],
      reservations: { "attempt:1": { provider: "p", amountUsd: 1, expiresAt: NOW + 60_000, machine: "gw" } },
    };
    const store = open("usage", content, emptyLedger, parseLedger, salvageLedger);
    const totals = totalsOf({ input: 10, output: 5, cacheRead: 0, cacheWrite: 0, costUsd: 0.25 } as never);
    store.update(recordUsageOperation(keys, "p", "m", totals));
    store.update(reserveOperation(NOW, "attempt:2", { provider: "p", amountUsd: 2, expiresAt: NOW + 60_000 }));
    let file = await written(store as StateStore<unknown>, "usage");
    assert.deepEqual(file.newer, NEWER);
    assert.deepEqual(file.days[keys.day].p.m, {
      requests: 2,
      estimated: 0,
      input: 10,
      output: 5,
      cacheRead: 0,
      cacheWrite: 0,
      costUsd: 0.75,
      reasoning: 40,
    });
    assert.equal(file.months[keys.month].p.m.reasoning, 40);
    assert.equal(file.reservations["attempt:1"].machine, "gw");
    // The calendar move renames each day key: the totals' newer field moves with them, kept once under the new key.
    store.update(calendarZoneOperation("Pacific/Kiritimati", NOW, (at) => calendarKeys(at, "Pacific/Kiritimati")));
    file = await written(store as StateStore<unknown>, "usage");
    const moved = calendarKeys(NOW, "Pacific/Kiritimati").day;
    assert.notEqual(moved, keys.day);
    assert.deepEqual(Object.keys(file.days), [moved]);
    assert.equal(file.days[moved].p.m.reasoning, 40);
    assert.equal(file.days[moved].p.m.requests, 2);
    assert.deepEqual(file.newer, NEWER);
  });

  it("limits: keeps them when a limit is set and cleared, and an entry or clear holding only a newer field", async () => {
    const content = {
      version: 1,
      newer: NEWER,
      providers: {
        p: { daily: 5, updatedAt: NOW - 10, setAt: { daily: NOW - 10, weekly: NOW - 10 }, weekly: 20 },
        q: { weekly: 7 },
      },
      cleared: { q: { weekly: NOW - 20 } },
    };
    const store = open("budget-limits", content, emptyLimits, parseLimits);
    store.update(setLimitOperation("q", "daily", 1, NOW));
    store.update(clearLimitOperation("p", "daily", NOW));
    store.update(clearLimitOperation("q", "daily", NOW));
    const file = await written(store as StateStore<unknown>, "budget-limits");
    assert.deepEqual(file.newer, NEWER);
    assert.deepEqual(file.providers.p, { updatedAt: NOW - 10, setAt: { weekly: NOW - 10 }, weekly: 20 });
    assert.deepEqual(file.providers.q, { weekly: 7, updatedAt: NOW });
    assert.deepEqual(file.cleared.q, { weekly: NOW - 20, daily: NOW });
  });

  it("balances, refusals and the team's calendars: keep them when another entry is written or an entry said again", async () => {
    const reading = { amount: 10, currency: "USD", fetchedAt: NOW - 1_000, credit: NEWER };
    const balances = open("balances", { v: 1, newer: NEWER, readings: { p: reading } }, emptyBalances, parseBalances);
    balances.update(storeReadingOperation("q", { amount: 3, currency: "USD", fetchedAt: NOW }));
    const balancesFile = await written(balances as StateStore<unknown>, "balances");
    assert.deepEqual(balancesFile.newer, NEWER);
    assert.deepEqual(balancesFile.readings.p.credit, NEWER);

    const refusals = contextOver({ v: 1, newer: NEWER, providers: { p: { amountUsd: 2, at: NOW - 1, limit: NEWER } } });
    openRefusalBook(refusals).noteAnswer("q", { shortfall: {} } as never, 1, NOW);
    const refusalsFile = await written(refusals.opened(), "budget-refusals");
    assert.deepEqual(refusalsFile.newer, NEWER);
    assert.deepEqual(refusalsFile.providers.p.limit, NEWER);
    assert.deepEqual(refusalsFile.providers.q, { amountUsd: 1, at: NOW });

    const calendars = contextOver({
      v: 1,
      newer: NEWER,
      machines: { laptop: { zone: "UTC", at: NOW - 1, offset: NEWER }, gw: { zone: "UTC", at: NOW - 1, offset: 1 } },
    });
    openTeamCalendars(calendars).follow("Europe/Berlin", NOW);
    const calendarsFile = await written(calendars.opened(), "budget-calendars");
    assert.deepEqual(calendarsFile.newer, NEWER);
    assert.deepEqual(calendarsFile.machines.laptop, { zone: "Europe/Berlin", at: NOW, offset: NEWER });
    assert.equal(calendarsFile.machines.gw.offset, 1);
  });

  it("team mode's own files (pending ledger entries, unwritten marks): keep them when marked", async () => {
    const unwritten = open(
      "team-unwritten",
      { newer: NEWER, stores: { cooldowns: { baseVersion: 3, since: NOW - 1, by: "pi" } } },
      emptyUnwritten,
      (raw) => unwrittenStateSchema().parse(raw),
    );
    markUnwritten(unwritten, "cooldowns", 4);
    const file = await written(unwritten as StateStore<unknown>, "team-unwritten");
    assert.deepEqual(file.newer, NEWER);
    assert.deepEqual(file.stores.cooldowns, { baseVersion: 4, since: NOW - 1, by: "pi" });
    const entry = {
      id: "attempt:1",
      at: NOW,
      changes: [{ period: "days", key: "2026-12-06", provider: "p", modelId: "m", totals: { requests: 1 }, n: 1 }],
      machine: "gw",
    };
    const pending = pendingStateSchema().parse({ newer: NEWER, entries: [entry] }) as Record<string, any>;
    assert.deepEqual(pending.newer, NEWER);
    assert.equal(pending.entries[0].machine, "gw");
    assert.equal(pending.entries[0].changes[0].n, 1);
  });
});
