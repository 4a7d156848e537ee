import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { findLogFiles, readEvents } from "../../src/events/read-events.ts";
import { computeQualityStats, formatQualityStats, type ShareRow } from "../../src/analytics/quality-stats.ts";
import { joinRequests } from "../../src/analytics/request-join.ts";
import { freshDir } from "../helpers/fresh-dir.ts";

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/events/${name}`, import.meta.url));
const itemsOf = (path: string) => joinRequests(readEvents(findLogFiles(path)));
const shares = (rows: ShareRow[]) => rows.map((row) => [row.key, row.rated, row.good, row.bad]);

describe("quality stats", () => {
  it("joins ratings to their requests and counts the positive share", async () => {
    const stats = await computeQualityStats(itemsOf(fixture("ours.jsonl")));
    assert.deepEqual([stats.ratings, stats.good, stats.bad, stats.positiveShare, stats.unjoined], [5, 3, 2, 0.6, 1]);
  });

  it("breaks the positive share down by route, provider, model, tier, intent, outcome and tag", async () => {
    const stats = await computeQualityStats(itemsOf(fixture("ours.jsonl")));
    assert.deepEqual(shares(stats.byRoute), [
      ["subscription-fast", 2, 1, 1],
      ["subscription-swe", 2, 1, 1],
      ["subscription-reasoning", 1, 1, 0],
    ]);
    assert.deepEqual(shares(stats.byProvider), [
      ["anthropic", 2, 2, 0],
      ["openai-codex", 2, 1, 1],
      ["google", 1, 0, 1],
    ]);
    assert.deepEqual(shares(stats.byModel), [
      ["anthropic/claude-opus-4-7", 1, 1, 0],
      ["anthropic/claude-sonnet-4-6", 1, 1, 0],
      ["google/gemini-3-flash-preview", 1, 0, 1],
      ["openai-codex/gpt-5.3-codex", 1, 0, 1],
      ["openai-codex/gpt-5.4-mini", 1, 1, 0],
    ]);
    assert.deepEqual(shares(stats.byTier), [
      ["swe", 2, 1, 1],
      ["fast", 1, 1, 0],
      ["none", 1, 0, 1],
    ]);
    assert.deepEqual(shares(stats.byIntent), [
      ["code", 2, 1, 1],
      ["general", 2, 1, 1],
    ]);
    assert.deepEqual(shares(stats.byOutcome), [["success", 4, 2, 2]]);
    assert.deepEqual(shares(stats.byTag), [
      ["slow", 2, 0, 2],
      ["fast", 1, 1, 0],
      ["wrong", 1, 0, 1],
    ]);
  });

  it("reports the failover share among rated requests and the positive share with and without failover", async () => {
    const stats = await computeQualityStats(itemsOf(fixture("ours.jsonl")));
    assert.deepEqual(stats.failover, {
      rated: 4,
      withFailover: 1,
      failoverShare: 0.25,
      positiveShareWithFailover: 0,
      positiveShareWithoutFailover: 2 / 3,
    });
    assert.match(formatQualityStats(stats), /^failover share {3}25\.0% of 4 matched ratings had a failover$/m);
    stats.failover.rated = 1;
    assert.match(formatQualityStats(stats), /of 1 matched rating had a failover$/m);
  });

  it("lists recent good and bad ratings newest first, capped by the limit", async () => {
    const stats = await computeQualityStats(itemsOf(fixture("ours.jsonl")), { limit: 2 });
    assert.deepEqual(
      stats.recentGood.map((rating) => rating.ratedRequestId),
      ["r-missing", "r4"],
    );
    assert.deepEqual(
      stats.recentBad.map((rating) => [rating.ratedRequestId, rating.reason, rating.tags]),
      [
        ["r5", "too slow", ["slow"]],
        ["r2", "wrong answer", ["wrong", "slow"]],
      ],
    );
  });

  it("shows the recent ratings' times in UTC, as the column says, also one logged with another offset", async () => {
    const dir = freshDir("auto-router-quality-utc");
    try {
      const original = readFileSync(fixture("ours.jsonl"), "utf8");
      const edited = original.replace('"ts":"2026-05-01T11:30:00.000Z"', '"ts":"2026-05-01T07:30:00-04:00"');
      assert.notEqual(edited, original);
      writeFileSync(join(dir, "auto-router.events.jsonl"), edited);
      const text = formatQualityStats(await computeQualityStats(itemsOf(dir)));
      const recentGood = text.split("Recent good\n")[1]!;
      assert.match(recentGood, /^=+\ntime \(UTC\) +request +served/);
      assert.match(recentGood, /^2026-05-01 11:30:00 +r1 /m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("counts a request rated twice once, with its latest rating", async () => {
    async function* items() {
      const base = { v: 1, ts: "2026-05-01T00:00:00.000Z", time: 0 } as const;
      yield* joinRequests(
        (async function* () {
          yield {
            ...base,
            type: "feedback",
            requestId: "f1",
            data: { rating: "bad", ratedRequestId: "x", servedTarget: "a/b", routeId: "r" },
          } as never;
          yield {
            ...base,
            type: "feedback",
            requestId: "f2",
            data: { rating: "good", ratedRequestId: "x", servedTarget: "a/b", routeId: "r" },
          } as never;
        })(),
      );
    }
    const stats = await computeQualityStats(items());
    assert.deepEqual([stats.ratings, stats.good, stats.bad], [1, 1, 0]);
  });

  it("keeps only ratings of the requested route", async () => {
    const stats = await computeQualityStats(itemsOf(fixture("ours.jsonl")), { route: "subscription-swe" });
    assert.deepEqual([stats.ratings, stats.good, stats.bad], [2, 1, 1]);
  });

  it("joins ratings written in the earlier public format", async () => {
    const stats = await computeQualityStats(itemsOf(fixture("legacy.jsonl")));
    assert.deepEqual([stats.ratings, stats.good, stats.bad, stats.unjoined], [2, 1, 1, 0]);
    assert.deepEqual(shares(stats.byModel), [
      ["anthropic/claude-sonnet-4-6", 1, 1, 0],
      ["openai-codex/gpt-5.3-codex", 1, 0, 1],
    ]);
    assert.deepEqual(shares(stats.byTag), [["code", 1, 1, 0]]);
    assert.equal(stats.failover.withFailover, 1);
  });

  it("prints a section per breakdown and the recent lists", async () => {
    const text = formatQualityStats(await computeQualityStats(itemsOf(fixture("ours.jsonl"))));
    for (const title of [
      "Ratings",
      "By route",
      "By provider",
      "By model",
      "By tier",
      "By intent",
      "By outcome",
      "By tag",
      "Recent good",
      "Recent bad",
    ]) {
      assert.match(text, new RegExp(`^${title}$`, "m"));
    }
    assert.match(text, /positive share {3}60\.0%/);
  });
});
