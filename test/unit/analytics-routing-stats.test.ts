import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { findLogFiles, readEvents } from "../../src/events/read-events.ts";
import { type JoinedItem, joinRequests } from "../../src/analytics/request-join.ts";
import { computeRoutingStats, formatRoutingStats } from "../../src/analytics/routing-stats.ts";
import { computeSessionStats } from "../../src/analytics/session-stats.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/events/${name}`, import.meta.url));
const itemsOf = (path: string) => joinRequests(readEvents(findLogFiles(path)));

describe("routing stats", () => {
  it("counts requests, outcomes and rates on our fixture, leaving aborted requests out of the rates", async () => {
    const stats = await computeRoutingStats(itemsOf(fixture("ours.jsonl")));
    assert.equal(stats.requests, 6);
    assert.equal(stats.incomplete, 1);
    assert.deepEqual(stats.outcomes, { success: 4, failed: 1, aborted: 1 });
    assert.equal(stats.successRate, 4 / 5);
    assert.equal(stats.failoverRate, 2 / 5);
    assert.equal(stats.failovers, 2);
    assert.ok(Math.abs(stats.totalCostUsd - 0.033) < 1e-12);
  });

  it("splits by route and by served provider", async () => {
    const stats = await computeRoutingStats(itemsOf(fixture("ours.jsonl")));
    assert.deepEqual(
      stats.byRoute.map((row) => [
        row.key,
        row.requests,
        row.success,
        row.failovers,
        row.successRate,
        row.failoverRate,
      ]),
      [
        ["subscription-swe", 4, 2, 2, 2 / 3, 2 / 3],
        ["subscription-fast", 2, 2, 0, 1, 0],
      ],
    );
    assert.deepEqual(
      stats.byServedProvider.map((row) => [row.key, row.requests, row.failovers]),
      [
        ["openai-codex", 2, 1],
        ["anthropic", 1, 0],
        ["google", 1, 0],
      ],
    );
  });

  it("lists planned -> served pairs, marking those where another target served and those nothing served", async () => {
    const stats = await computeRoutingStats(itemsOf(fixture("ours.jsonl")));
    // A request no target served is no change of target: "not served", as the session stats' drift counts it.
    assert.deepEqual(
      stats.plannedToServed.map((pair) => [pair.planned, pair.served, pair.requests, pair.changed, pair.notServed]),
      [
        ["anthropic/claude-sonnet-4-6", "(not served)", 2, false, true],
        ["anthropic/claude-sonnet-4-6", "anthropic/claude-sonnet-4-6", 1, false, false],
        ["anthropic/claude-sonnet-4-6", "openai-codex/gpt-5.3-codex", 1, true, false],
        ["google/gemini-3-flash-preview", "google/gemini-3-flash-preview", 1, false, false],
        ["google/gemini-3-flash-preview", "openai-codex/gpt-5.4-mini", 1, true, false],
      ],
    );
    const notServed = stats.plannedToServed
      .filter((pair) => pair.notServed)
      .reduce((sum, pair) => sum + pair.requests, 0);
    const session = await computeSessionStats(itemsOf(fixture("ours.jsonl")), {});
    assert.equal(session.drift.notServed, notServed);
    assert.equal(
      session.drift.failoverAfterError + session.drift.plannerDrift,
      stats.plannedToServed.filter((pair) => pair.changed).reduce((sum, pair) => sum + pair.requests, 0),
    );
    const text = formatRoutingStats(stats);
    assert.match(text, /^anthropic\/claude-sonnet-4-6 +\(not served\) +2 +not served$/m);
    assert.match(text, /^anthropic\/claude-sonnet-4-6 +openai-codex\/gpt-5\.3-codex +1 +changed$/m);
  });

  it("keeps only the requested route when filtered by --route", async () => {
    const stats = await computeRoutingStats(itemsOf(fixture("ours.jsonl")), { route: "subscription-fast" });
    assert.equal(stats.requests, 2);
    assert.equal(stats.incomplete, 0);
    assert.deepEqual(
      stats.byRoute.map((row) => row.key),
      ["subscription-fast"],
    );
  });

  it("reads the earlier public format with the same numbers a person would count by hand", async () => {
    // legacy.jsonl: L1 served as planned; L2 failed over from Sonnet (429) to Codex; L3 exhausted both targets;
    // L4 served on its own route; L5 was cut off after its first attempt (no routing.final).
    const stats = await computeRoutingStats(itemsOf(fixture("legacy.jsonl")));
    assert.equal(stats.requests, 4);
    assert.equal(stats.incomplete, 1);
    assert.deepEqual(stats.outcomes, { success: 3, failed: 1 });
    assert.equal(stats.failovers, 2);
    assert.equal(stats.failoverRate, 2 / 4);
    assert.equal(Math.round(stats.totalCostUsd * 1000), 16, "0.005 + 0.010 + 0.001 from the successful results");
    assert.deepEqual(
      stats.byRoute.map((row) => [row.key, row.requests]),
      [
        ["swe", 3],
        ["cheap", 1],
      ],
    );
    assert.deepEqual(
      stats.byServedProvider.map((row) => row.key),
      ["anthropic", "deepseek", "openai-codex"],
    );
    assert.deepEqual(
      stats.plannedToServed.map((pair) => [pair.planned, pair.served, pair.changed]),
      [
        ["anthropic/claude-sonnet-4-6", "(not served)", false],
        ["anthropic/claude-sonnet-4-6", "anthropic/claude-sonnet-4-6", false],
        ["anthropic/claude-sonnet-4-6", "openai-codex/gpt-5.3-codex", true],
        ["deepseek/deepseek-chat", "deepseek/deepseek-chat", false],
      ],
    );
  });

  it("joins a request whose events span the rotated and the live file", async () => {
    const stats = await computeRoutingStats(itemsOf(fixture("")));
    assert.equal(stats.requests, 2);
    assert.equal(stats.incomplete, 0);
    assert.equal(stats.failovers, 1);
    assert.deepEqual(
      stats.plannedToServed.map((pair) => [pair.planned, pair.served]),
      [
        ["anthropic/claude-sonnet-4-6", "anthropic/claude-sonnet-4-6"],
        ["anthropic/claude-sonnet-4-6", "openai-codex/gpt-5.3-codex"],
      ],
    );
  });

  it("prints every section with the rates as percentages", async () => {
    const text = formatRoutingStats(await computeRoutingStats(itemsOf(fixture("ours.jsonl"))));
    for (const title of ["Routing", "By route", "By served provider", "Planned -> served"])
      assert.match(text, new RegExp(`^${title}$`, "m"));
    assert.match(text, /success rate {3}80\.0%/);
    assert.match(text, /failover rate {2}40\.0% of requests \(2 requests failed over, 2 target switches\)/);
  });

  it("says how many rows --limit left out of a table", async () => {
    const stats = await computeRoutingStats(itemsOf(fixture("ours.jsonl")));
    const text = formatRoutingStats(stats, { limit: 1 });
    assert.ok(stats.byServedProvider.length > 1);
    assert.ok(
      text.includes(`(${stats.byServedProvider.length - 1} more; --limit ${stats.byServedProvider.length} shows all)`),
      text,
    );
    assert.doesNotMatch(formatRoutingStats(stats), /more; --limit/, "nothing is cut by the default limit here");
  });

  it("writes every count of a large log with thousands separators, the outcomes' too", async () => {
    const stats = await computeRoutingStats(itemsOf(fixture("ours.jsonl")));
    const large = {
      ...stats,
      requests: 96_000,
      outcomes: { success: 76_800, refused: 9_200, failed: 4_800 },
      refusedByTarget: 5_600,
    };
    assert.match(
      formatRoutingStats(large),
      /^outcomes {7}success 76,800, refused 9,200 \(5,600 by the target, 3,600 by the router\), failed 4,800$/m,
    );
  });

  it("leaves refused requests out of the success rate: a refusal is neither a success nor a failure", async () => {
    const dir = freshDir("auto-router-routing-stats");
    const original = readFileSync(fixture("ours.jsonl"), "utf8");
    // r3 failed on both targets; as a target's refusal (its content filter) it is neither: 4 successes of 4.
    const refused = original.replace(
      '"outcome":"failed","plannedTarget":"anthropic/claude-sonnet-4-6","attempts":2',
      '"outcome":"refused","refusedBy":"openai-codex/gpt-5.3-codex","plannedTarget":"anthropic/claude-sonnet-4-6","attempts":2',
    );
    assert.notEqual(refused, original);
    writeFileSync(join(dir, "auto-router.events.jsonl"), refused);
    const stats = await computeRoutingStats(itemsOf(dir));
    assert.deepEqual(stats.outcomes, { success: 4, refused: 1, aborted: 1 });
    assert.equal(stats.successRate, 1);
    assert.equal(stats.failoverRate, 2 / 5); // failing over is counted of every request not aborted, as before
    assert.deepEqual(
      stats.byRoute.map((row) => [row.key, row.successRate]),
      [
        ["subscription-swe", 1],
        ["subscription-fast", 1],
      ],
    );
    assert.match(formatRoutingStats(stats), /^success rate {3}100\.0% \(refused requests apart\)$/m);
  });

  it("counts requests failed over and target switches apart, and names each unit in the text", async () => {
    const dir = freshDir("auto-router-routing-stats");
    const original = readFileSync(fixture("ours.jsonl"), "utf8");
    // r2 now moved twice (Sonnet -> a 500 -> Codex): one request failed over, two target switches.
    const twice = original.replace(
      '"attempts":2,"failovers":1,"latencyMs":3300,"failureKinds":["rate_limit"]',
      '"attempts":3,"failovers":2,"latencyMs":3300,"failureKinds":["rate_limit","server"]',
    );
    assert.notEqual(twice, original);
    writeFileSync(join(dir, "auto-router.events.jsonl"), twice);
    const stats = await computeRoutingStats(itemsOf(dir));
    assert.deepEqual(
      [stats.failovers, stats.requestsFailedOver, stats.targetSwitches, stats.failoverRate],
      [2, 2, 3, 2 / 5],
    );
    assert.deepEqual(
      stats.byRoute.map((row) => [row.key, row.failovers, row.targetSwitches]),
      [
        ["subscription-swe", 2, 3],
        ["subscription-fast", 0, 0],
      ],
    );
    const text = formatRoutingStats(stats);
    assert.match(text, /failover rate {2}40\.0% of requests \(2 requests failed over, 3 target switches\)/);
    assert.match(text, /^route +requests +success +failed over +cost$/m);
  });
});

describe("planned and served when a hard budget refused targets at their reservation", () => {
  /** A request whose decision put mock-a first; `final` as the runtime records it. */
  const request = (requestId: string, final: Record<string, unknown>) => ({
    kind: "request" as const,
    request: {
      requestId,
      routeId: "main",
      requestedRouteId: "main",
      startTime: Date.UTC(2026, 11, 4),
      endTime: Date.UTC(2026, 11, 4),
      decision: { plannedTarget: "mock-a/model-a" } as any,
      attempts: [],
      results: [],
      usages: [],
      final: { attempts: 0, failovers: 0, latencyMs: 5, failureKinds: [], ...final } as any,
    },
  });
  const items = [
    // mock-a refused by its budget, mock-b served: planned on mock-b, as route() would have if mock-a were over its limit.
    request("r1", {
      outcome: "success",
      servedTarget: "mock-b/model-b",
      plannedTarget: "mock-b/model-b",
      attempts: 1,
      budgetSkipped: ["mock-a/model-a"],
    }),
    // Every target refused: planned on none, as a refusal by route() is.
    request("r2", { outcome: "refused", budgetSkipped: ["mock-a/model-a", "mock-b/model-b"] }),
  ];

  async function* joined(): AsyncIterable<JoinedItem> {
    yield* items;
  }

  it("does not count a first choice the budget skipped as a change of target", async () => {
    const stats = await computeRoutingStats(joined());
    assert.deepEqual(
      stats.plannedToServed.map((pair) => [pair.planned, pair.served, pair.requests, pair.changed]),
      [
        ["(none)", "(not served)", 1, false],
        ["mock-b/model-b", "mock-b/model-b", 1, false],
      ],
    );
  });

  it("does not count it as drift in the session stats either", async () => {
    const stats = await computeSessionStats(joined(), {});
    assert.equal(stats.drift.servedAsPlanned, 1);
    assert.equal(stats.drift.failoverAfterError + stats.drift.plannerDrift, 0);
  });
});
