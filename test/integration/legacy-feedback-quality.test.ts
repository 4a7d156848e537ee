// The earlier public pi-auto-router's ratings (`routing.feedback`, shared/docs/legacy-formats.md) say the rated
// request's tier, intent and outcome. routing-quality-stats, run as an operator runs it over such a log, groups a
// rating by them when the rated request is not in the log, and by the request's own lines when it is.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { freshDir } from "../helpers/fresh-dir.ts";
import { routingScriptJson, runRoutingScript } from "../helpers/routing-script.ts";

const directories: string[] = [];
after(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

const DS = { provider: "deepseek", modelId: "deepseek-v4-pro", label: "DS" };

const line = (type: string, requestId: string, timestamp: string, data: unknown) =>
  JSON.stringify({
    type: `routing.${type}`,
    timestamp,
    requestId,
    conversationId: "c1",
    routeId: "r",
    sessionId: "s1",
    version: 1,
    data,
  });

/** The rating of the exploratory test, exactly as the earlier router wrote it. */
const rating = (requestId: string, timestamp: string) =>
  line("feedback", requestId, timestamp, {
    rating: "good",
    reason: "nice",
    tags: ["t1"],
    tier: "reasoning",
    intent: "creative",
    outcome: "success",
    ...DS,
  });

/** A finished request of the earlier router, decided at `tier` with `intent`. */
const request = (requestId: string, tier: string, intent: string) => [
  line("decision", requestId, "2026-12-04T10:00:00Z", {
    tier,
    phase: "default",
    plannedTarget: DS,
    reasoning: "selected DS",
    reasoningStructured: { intent: { category: intent, confidence: 0.8, reasons: [] }, estimatedTokens: 40 },
    estimatedTokens: 40,
    budgetRemaining: 0,
    confidence: 0.8,
  }),
  line("attempt", requestId, "2026-12-04T10:00:01Z", { index: 1, ...DS }),
  line("result", requestId, "2026-12-04T10:00:02Z", {
    index: 1,
    outcome: "success",
    ...DS,
    latencyMs: 900,
    ttftMs: 300,
    costUsd: 0.01,
  }),
  line("final", requestId, "2026-12-04T10:00:02Z", { outcome: "success", selectedTarget: "DS", actualTarget: DS }),
];

function logDirectory(lines: string[]): string {
  const directory = freshDir("auto-router-legacy-feedback");
  directories.push(directory);
  writeFileSync(join(directory, "auto-router.events.jsonl"), `${lines.join("\n")}\n`);
  return directory;
}

const keys = (rows: Array<{ key: string; rated: number; good: number }>) =>
  rows.map((row) => [row.key, row.rated, row.good]);

describe("routing-quality-stats over the earlier router's ratings", () => {
  it("groups a rating whose request is not in the log by the tier, intent and outcome the rating recorded", async () => {
    const directory = logDirectory([rating("zz", "2026-12-04T10:00:07Z")]);
    const { stats } = await routingScriptJson("routing-quality-stats", ["--file", directory]);
    assert.equal(stats.unjoined, 1, "its request is not in the log");
    assert.deepEqual(keys(stats.byTier), [["reasoning", 1, 1]]);
    assert.deepEqual(keys(stats.byIntent), [["creative", 1, 1]]);
    assert.deepEqual(keys(stats.byOutcome), [["success", 1, 1]]);
    assert.deepEqual(keys(stats.byModel), [["deepseek/deepseek-v4-pro", 1, 1]]);

    const text = await runRoutingScript("routing-quality-stats", ["--file", directory]);
    assert.equal(text.code, 0, text.stderr);
    assert.doesNotMatch(text.stdout, /By (tier|intent|outcome)\n+\(none\)/, text.stdout);
    assert.match(text.stdout, /^reasoning\s+1\s+1\s+0\s+100/m, text.stdout);
    assert.match(text.stdout, /^creative\s+1\s+1\s+0\s+100/m, text.stdout);
  });

  it("groups a rating whose request is in the log by the request's own decision, as routing-stats groups it", async () => {
    // "zz"'s rating disagrees with its request (a hand-edited log): the request's lines are the router's record.
    // The same rating of a request not in the log counts by what it recorded.
    const directory = logDirectory([
      ...request("zz", "swe", "code"),
      rating("zz", "2026-12-04T10:00:07Z"),
      rating("rotated-out", "2026-12-04T10:00:08Z"),
    ]);
    const { stats } = await routingScriptJson("routing-quality-stats", ["--file", directory]);
    assert.equal(stats.unjoined, 1);
    assert.deepEqual(keys(stats.byTier), [
      ["reasoning", 1, 1],
      ["swe", 1, 1],
    ]);
    assert.deepEqual(keys(stats.byIntent), [
      ["code", 1, 1],
      ["creative", 1, 1],
    ]);
    assert.deepEqual(keys(stats.byOutcome), [["success", 2, 2]]);
    assert.equal(stats.failover.rated, 1);
  });

  it("counts a joined and an unjoined rating of the same tier in the same row", async () => {
    const directory = logDirectory([
      ...request("joined", "reasoning", "creative"),
      rating("joined", "2026-12-04T10:00:05Z"),
      rating("rotated-out", "2026-12-04T10:00:07Z"),
    ]);
    const { stats } = await routingScriptJson("routing-quality-stats", ["--file", directory]);
    assert.equal(stats.unjoined, 1);
    assert.deepEqual(keys(stats.byTier), [["reasoning", 2, 2]]);
    assert.deepEqual(keys(stats.byIntent), [["creative", 2, 2]]);
    assert.deepEqual(keys(stats.byOutcome), [["success", 2, 2]]);
    // Failover is known only of a request in the log.
    assert.equal(stats.failover.rated, 1);
  });
});
