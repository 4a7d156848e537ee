import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  collectRules,
  evaluateCondition,
  inTimeWindow,
  localClock,
  type ConditionContext,
} from "../../src/routing/policy-rules.ts";
import type { RouterConfig } from "../../src/config/schema.ts";
import type { RuleTrace } from "../../src/routing/types.ts";

const minutes = (clock: string) => Number(clock.slice(0, 2)) * 60 + Number(clock.slice(3));
// 2026-03-04 is a Wednesday.
const utc = (clock: string, day = "2026-03-04") => Date.parse(`${day}T${clock}:00Z`);
const context = (extra: Partial<ConditionContext> = {}): ConditionContext => ({
  features: {
    estimatedTokens: 5_000,
    contextClass: "medium",
    hasImages: false,
    hasTools: true,
    intent: "code",
    intentConfidence: 0.8,
  },
  now: utc("12:00"),
  timeZone: "UTC",
  ...extra,
});

describe("time windows", () => {
  it("matches 23:30 and 05:59 in a 22:00-06:00 window, but not 06:00", () => {
    const window = { after: "22:00", before: "06:00" };
    assert.equal(inTimeWindow(minutes("23:30"), window), true);
    assert.equal(inTimeWindow(minutes("05:59"), window), true);
    assert.equal(inTimeWindow(minutes("06:00"), window), false);
    assert.equal(inTimeWindow(minutes("21:59"), window), false);
    assert.equal(inTimeWindow(minutes("22:00"), window), true);
  });

  it("treats a plain window as after-inclusive, before-exclusive", () => {
    const window = { after: "09:00", before: "17:00" };
    assert.equal(inTimeWindow(minutes("09:00"), window), true);
    assert.equal(inTimeWindow(minutes("17:00"), window), false);
  });

  it("matches no time in a window whose after equals its before: from a time inclusive to the same time exclusive", () => {
    for (const bound of ["00:00", "09:00"]) {
      const window = { after: bound, before: bound };
      for (const time of ["00:00", "08:59", "09:00", "12:00", "23:59"])
        assert.equal(inTimeWindow(minutes(time), window), false, `${time} in ${bound}-${bound}`);
    }
    const result = evaluateCondition({ timeWindow: { after: "09:00", before: "09:00" } }, context());
    assert.deepEqual([result.matched, result.why], [false, "09:00-09:00 is a window of no length"]);
  });

  it("reads the clock in the window's own IANA time zone", () => {
    // 21:30 UTC is 06:30 in Tokyo: inside 06:00-07:00 there, outside it in UTC.
    const now = utc("21:30");
    assert.equal(
      evaluateCondition({ timeWindow: { after: "06:00", before: "07:00", timeZone: "Asia/Tokyo" } }, context({ now }))
        .matched,
      true,
    );
    assert.equal(
      evaluateCondition({ timeWindow: { after: "06:00", before: "07:00" } }, context({ now })).matched,
      false,
    );
  });

  it("fails a window with an unknown time zone and says why", () => {
    const result = evaluateCondition(
      { timeWindow: { after: "00:00", before: "01:00", timeZone: "Mars/Olympus" } },
      context(),
    );
    assert.equal(result.matched, false);
    assert.match(result.why, /unknown time zone/);
  });

  it("gives the local weekday and minutes for a zone", () => {
    assert.deepEqual(localClock(utc("23:30"), "Europe/Berlin"), { minutes: minutes("00:30"), day: 4 });
  });
});

describe("evaluateCondition", () => {
  it("matches days of week on the local day", () => {
    assert.equal(evaluateCondition({ daysOfWeek: ["wed"] }, context()).matched, true);
    assert.equal(evaluateCondition({ daysOfWeek: ["sat", "sun"] }, context()).matched, false);
  });

  it("checks intent, tier and token bounds, saying why it failed", () => {
    assert.equal(
      evaluateCondition({ intent: ["code", "analysis"], minTokens: 1_000, maxTokens: 10_000 }, context()).matched,
      true,
    );
    const tooBig = evaluateCondition({ maxTokens: 1_000 }, context());
    assert.equal(tooBig.matched, false);
    assert.match(tooBig.why, /5000 tokens > max 1000/);
    assert.equal(evaluateCondition({ tier: "swe" }, context({ tier: "swe" })).matched, true);
    assert.equal(evaluateCondition({ tier: "swe" }, context()).matched, false);
  });

  it("combines conditions with all, any and not", () => {
    assert.equal(evaluateCondition({ all: [{ intent: "code" }, { minTokens: 10 }] }, context()).matched, true);
    assert.equal(evaluateCondition({ any: [{ intent: "creative" }, { minTokens: 10 }] }, context()).matched, true);
    assert.equal(evaluateCondition({ any: [{ intent: "creative" }, { minTokens: 1e6 }] }, context()).matched, false);
    assert.equal(evaluateCondition({ not: { intent: "code" } }, context()).matched, false);
    assert.equal(evaluateCondition({ not: { daysOfWeek: ["sun"] } }, context()).matched, true);
  });

  it("compares a target's bad rating share only when a target is given", () => {
    assert.equal(evaluateCondition({ badRatingShareAbove: 0.3 }, context()).matched, false);
    const rated = (badRatingShare: number) => context({ target: { badRatingShare, ratingCount: 5 } });
    assert.equal(evaluateCondition({ badRatingShareAbove: 0.3 }, rated(0.5)).matched, true);
    assert.equal(evaluateCondition({ badRatingShareAbove: 0.3 }, rated(0.3)).matched, false);
  });

  it("counts a bad rating share only from minRatings ratings on, five unless the condition says", () => {
    const few = context({ target: { badRatingShare: 1, ratingCount: 4 } });
    assert.deepEqual(evaluateCondition({ badRatingShareAbove: 0.3 }, few), {
      matched: false,
      why: "4 ratings, fewer than the 5 a bad-rating share needs",
    });
    assert.equal(evaluateCondition({ badRatingShareAbove: 0.3, minRatings: 4 }, few).matched, true);
    assert.equal(evaluateCondition({ badRatingShareAbove: 0.3, minRatings: 1 }, few).matched, true);
  });

  it("counts only the ratings of the last ratingMaxAgeDays days, for the share and for minRatings", () => {
    const now = context().now;
    const day = 86_400_000;
    const ratings = [
      { at: now - 40 * day, bad: true },
      { at: now - 31 * day, bad: true },
      { at: now - 29 * day, bad: false },
      { at: now - day, bad: true },
    ];
    const target = context({ target: { badRatingShare: 0.75, ratingCount: 4, ratings } });
    assert.equal(evaluateCondition({ badRatingShareAbove: 0.6, minRatings: 2 }, target).matched, true);
    // The last 30 days hold two ratings, one bad: 50%.
    assert.deepEqual(evaluateCondition({ badRatingShareAbove: 0.6, minRatings: 2, ratingMaxAgeDays: 30 }, target), {
      matched: false,
      why: "bad ratings in the last 30 days 50% <= 60%",
    });
    assert.deepEqual(evaluateCondition({ badRatingShareAbove: 0.4, minRatings: 2, ratingMaxAgeDays: 30 }, target), {
      matched: true,
      why: "bad ratings in the last 30 days 50% > 40%",
    });
    assert.deepEqual(evaluateCondition({ badRatingShareAbove: 0.4, minRatings: 3, ratingMaxAgeDays: 30 }, target), {
      matched: false,
      why: "2 ratings in the last 30 days, fewer than the 3 a bad-rating share needs",
    });
    assert.deepEqual(evaluateCondition({ badRatingShareAbove: 0.4, ratingMaxAgeDays: 0.5 }, target), {
      matched: false,
      why: "no ratings in the last 0.5 days",
    });
  });

  it("weighs each rating by its age with ratingHalfLifeDays, and still counts ratings for minRatings", () => {
    const now = context().now;
    const day = 86_400_000;
    // A bad rating 30 days old and a good one now: 50% counted alike, a third with a 30-day half-life (0.5 against 1).
    const oldBad = context({
      target: {
        badRatingShare: 0.5,
        ratingCount: 2,
        ratings: [
          { at: now - 30 * day, bad: true },
          { at: now, bad: false },
        ],
      },
    });
    assert.equal(evaluateCondition({ badRatingShareAbove: 0.4, minRatings: 2 }, oldBad).matched, true);
    assert.deepEqual(evaluateCondition({ badRatingShareAbove: 0.4, minRatings: 2, ratingHalfLifeDays: 30 }, oldBad), {
      matched: false,
      why: "bad ratings (weighed with a 30-day half-life) 33.3% <= 40%",
    });
    assert.deepEqual(evaluateCondition({ badRatingShareAbove: 0.4, minRatings: 3, ratingHalfLifeDays: 30 }, oldBad), {
      matched: false,
      why: "2 ratings (weighed with a 30-day half-life), fewer than the 3 a bad-rating share needs",
    });
    // The other way round, a recent bad rating weighs more: 2/3.
    const recentBad = context({
      target: {
        badRatingShare: 0.5,
        ratingCount: 2,
        ratings: [
          { at: now - 30 * day, bad: false },
          { at: now, bad: true },
        ],
      },
    });
    assert.deepEqual(
      evaluateCondition({ badRatingShareAbove: 0.6, minRatings: 2, ratingHalfLifeDays: 30 }, recentBad),
      {
        matched: true,
        why: "bad ratings (weighed with a 30-day half-life) 66.7% > 60%",
      },
    );
    // With ratingMaxAgeDays beside it, the old one is not counted at all.
    assert.deepEqual(
      evaluateCondition(
        { badRatingShareAbove: 0.6, minRatings: 1, ratingMaxAgeDays: 10, ratingHalfLifeDays: 30 },
        recentBad,
      ),
      { matched: true, why: "bad ratings in the last 10 days (weighed with a 30-day half-life) 100% > 60%" },
    );
  });

  it("always matches an absent condition", () => {
    assert.equal(evaluateCondition(undefined, context()).matched, true);
  });
});

describe("collectRules", () => {
  const config: RouterConfig = {
    routes: {
      a: {
        targets: [{ provider: "p", modelId: "m" }],
        policyRules: [{ type: "exclude-provider", providers: ["x"], priority: 5 }],
      },
      b: { targets: [{ provider: "p", modelId: "m" }] },
    },
    policyRules: [
      { id: "only-b", type: "exclude-provider", providers: ["y"], routes: ["b"] },
      { id: "off", type: "exclude-provider", providers: ["y"], enabled: false },
      { id: "high", type: "prefer-provider", providers: ["z"], priority: 10 },
      { id: "low", type: "prefer-provider", providers: ["z"] },
    ],
  };

  it("never applies a rule scoped to another route, and traces why", () => {
    const traces: RuleTrace[] = [];
    const names = collectRules(config, "a", traces).map((rule) => rule.name);
    assert.ok(!names.includes("only-b"));
    assert.deepEqual(
      traces.find((trace) => trace.rule === "only-b"),
      { rule: "only-b", scope: "global", matched: false, why: "scoped to b" },
    );
  });

  it("orders rules by priority, highest first, and leaves disabled ones out", () => {
    const traces: RuleTrace[] = [];
    const names = collectRules(config, "a", traces).map((rule) => rule.name);
    assert.deepEqual(names, ["high", "routes.a.policyRules[0] exclude-provider", "low"]);
    assert.equal(traces.find((trace) => trace.rule === "off")?.why, "disabled");
  });
});
