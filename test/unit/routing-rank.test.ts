import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { explainWinner, rankEntries, type RankEntry } from "../../src/routing/rank.ts";
import type { Candidate } from "../../src/routing/types.ts";

const entry = (
  key: string,
  declaredIndex: number,
  extra: Partial<Candidate> = {},
  more: Partial<RankEntry> = {},
): RankEntry => ({
  candidate: {
    key,
    provider: key,
    modelId: "m",
    account: key,
    label: key,
    declaredIndex,
    bucket: "normal",
    billing: "per-token",
    reasons: [],
    warnings: [],
    ...extra,
  },
  preferredRank: Infinity,
  meetsHint: false,
  ...more,
});
const order = (entries: RankEntry[]) => entries.map((item) => item.candidate.key);

describe("rankEntries", () => {
  it("orders buckets promoted, normal, demoted before anything else", () => {
    const ranked = rankEntries(
      [entry("d", 0, { bucket: "demoted" }), entry("n", 1), entry("p", 2, { bucket: "promoted" })],
      "auto",
    );
    assert.deepEqual(order(ranked), ["p", "n", "d"]);
  });

  it("treats latencies within 10% as a tie so EWMA noise does not reorder", () => {
    const ranked = rankEntries([entry("a", 0, { ttftMs: 1_050 }), entry("b", 1, { ttftMs: 1_000 })], "auto");
    assert.deepEqual(order(ranked), ["a", "b"]);
  });

  it("ranks one set of targets in one order whatever their declared order", () => {
    // Fast and expensive, not measured yet, slow and cheap: compared in pairs ("unknown ties on latency, then cost")
    // the three form a cycle, and the winner depended on the declaration.
    const targets = [
      { key: "pricey", ttftMs: 74, estimatedCostUsd: 0.036 },
      { key: "new", estimatedCostUsd: 0.0026 },
      { key: "cheap", ttftMs: 577, estimatedCostUsd: 0.0006 },
      { key: "unpriced", ttftMs: 80 },
    ];
    const permutations = (items: typeof targets): (typeof targets)[] =>
      items.length <= 1
        ? [items]
        : items.flatMap((item, index) =>
            permutations(items.filter((_, other) => other !== index)).map((rest) => [item, ...rest]),
          );
    const orders = new Set(
      permutations(targets).map((declared) =>
        order(
          rankEntries(
            declared.map(({ key, ...facts }, index) => entry(key, index, facts)),
            "auto",
          ),
        ).join(" "),
      ),
    );
    // The not-yet-measured one counts as fast as the fastest band (74-81 ms), where price decides; known prices
    // first; the slow one after the whole band.
    assert.deepEqual([...orders], ["new pricey unpriced cheap"]);
    const ranked = rankEntries(
      [
        entry("new", 0, { estimatedCostUsd: 1 }),
        entry("slow", 1, { ttftMs: 500, estimatedCostUsd: 0.1 }),
        entry("fast", 2, { ttftMs: 100, estimatedCostUsd: 2 }),
      ],
      "auto",
    );
    assert.deepEqual(order(ranked), ["new", "fast", "slow"]);
  });

  it("ranks a preferred provider above a faster one", () => {
    const ranked = rankEntries(
      [entry("fast", 0, { ttftMs: 100 }), entry("liked", 1, { ttftMs: 2_000 }, { preferredRank: 0 })],
      "auto",
    );
    assert.deepEqual(order(ranked), ["liked", "fast"]);
    assert.match(explainWinner(ranked, "auto"), /preferred provider/);
  });

  it("sorts by throughput, highest first and unknown last", () => {
    const ranked = rankEntries(
      [entry("u", 0), entry("slow", 1, {}, { tokensPerSecond: 20 }), entry("quick", 2, {}, { tokensPerSecond: 90 })],
      "throughput",
    );
    assert.deepEqual(order(ranked), ["quick", "slow", "u"]);
  });

  it("ranks known costs cheapest first, then unknown ones in declared order", () => {
    const ranked = rankEntries(
      [
        entry("unknown", 0),
        entry("dear", 1, { estimatedCostUsd: 0.5 }),
        entry("other", 2),
        entry("cheap", 3, { estimatedCostUsd: 0.1 }),
      ],
      "auto",
    );
    assert.deepEqual(order(ranked), ["cheap", "dear", "unknown", "other"]);
  });

  it("explains a single candidate as the only eligible one", () => {
    assert.match(explainWinner([entry("a", 0)], "auto"), /only eligible/);
  });

  it("calls the price between two subscriptions a list price that only breaks the tie, and keeps the order", () => {
    const subscription = (key: string, index: number, usd: number) =>
      entry(key, index, { billing: "subscription", estimatedCostUsd: usd });
    const ranked = rankEntries([subscription("max", 0, 0.019), subscription("plan", 1, 0.012)], "auto");
    assert.deepEqual(order(ranked), ["plan", "max"]);
    assert.equal(
      explainWinner(ranked, "auto"),
      "plan: lower list price ($0.012 vs $0.019 for max; both subscriptions, booked at $0)",
    );
    const paid = rankEntries(
      [entry("dear", 0, { estimatedCostUsd: 0.5 }), entry("cheap", 1, { estimatedCostUsd: 0.1 })],
      "auto",
    );
    assert.equal(explainWinner(paid, "auto"), "cheap: cheaper ($0.100 vs $0.500 for dear)");
    assert.equal(
      explainWinner([subscription("plan", 0, 0.012), entry("dear", 1, { estimatedCostUsd: 0.5 })], "price"),
      "plan: cheapest (list price $0.012; a subscription, booked at $0)",
    );
  });

  it("names the declared first target a demotion passed over, not declared order alone", () => {
    const stressed = { bucket: "demoted" as const, reasons: ["quota stressed: 5h window 70% used at 40% elapsed"] };
    const three = rankEntries([entry("sonnet", 0, stressed), entry("codex", 1), entry("gemini", 2)], "config");
    assert.deepEqual(order(three), ["codex", "gemini", "sonnet"]);
    assert.equal(
      explainWinner(three, "config"),
      "codex: sonnet demoted (quota stressed); then first in declared order (sortBy config)",
    );
    const two = rankEntries([entry("sonnet", 0, stressed), entry("codex", 1)], "config");
    assert.equal(explainWinner(two, "config"), "codex: normal bucket ahead of sonnet (demoted: quota stressed)");
    // A demoted target declared after the winner changed nothing: declared order is the whole reason.
    const later = rankEntries([entry("codex", 0), entry("gemini", 1), entry("sonnet", 2, stressed)], "config");
    assert.equal(explainWinner(later, "config"), "codex: first in declared order (sortBy config)");
  });
});
