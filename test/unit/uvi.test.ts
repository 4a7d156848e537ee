// UVI math and what the decision does with it: the worked examples, worst window, Google bucket math.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RouteConfig } from "../../src/config/schema.ts";
import { route } from "../../src/routing/route.ts";
import type { ModelFacts, RoutingSnapshot } from "../../src/routing/types.ts";
import {
  assessQuota,
  assessWindow,
  describeWindow,
  elapsedFraction,
  formatQuotaPercent,
  formatUvi,
  googleBucketWindow,
  MIN_ELAPSED_FRACTION,
  monthlySpendWindow,
  openWindowCount,
  quotaStatus,
  type QuotaWindow,
  windowCountText,
} from "../../src/routing/uvi.ts";
import { uviSettings } from "../../src/quota/uvi-settings.ts";
import { floorTo } from "../../src/analytics/text-format.ts";
import { formatShare } from "../../src/budget/budget-audit.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";

const HOUR_MS = 3_600_000;
const WINDOW_MS = 10 * HOUR_MS;
const NOW = Date.parse("2026-03-04T12:00:00Z");
/** A 10 h window with `used` consumed when `elapsed` of it has passed at NOW. */
const window = (used: number, elapsed: number, name = "w"): QuotaWindow => ({
  name,
  usedFraction: used,
  windowMs: WINDOW_MS,
  resetsAt: NOW + (1 - elapsed) * WINDOW_MS,
});

describe("UVI per window", () => {
  it("rates 50% used at 25% elapsed as 2.0, critical", () => {
    const assessed = assessWindow(window(0.5, 0.25), NOW);
    assert.equal(assessed.uvi.toFixed(2), "2.00");
    assert.equal(assessed.level, "critical");
  });
  it("rates a UVI of 1.7 at 30% elapsed as stressed", () => {
    const assessed = assessWindow(window(0.51, 0.3), NOW);
    assert.equal(assessed.uvi.toFixed(2), "1.70");
    assert.equal(assessed.level, "stressed");
  });
  it("rates 0.3 at 80% elapsed as surplus, but 0.3 at 40% elapsed as ok", () => {
    assert.equal(assessWindow(window(0.24, 0.8), NOW).level, "surplus");
    assert.equal(assessWindow(window(0.12, 0.4), NOW).level, "ok");
  });
  it("floors the elapsed share so a window that just started never divides by ~0", () => {
    assert.equal(elapsedFraction({ windowMs: WINDOW_MS, resetsAt: NOW + WINDOW_MS }, NOW), MIN_ELAPSED_FRACTION);
    assert.equal(assessWindow(window(0.01, 0), NOW).uvi.toFixed(2), "0.20");
  });
  it("treats a window that is used up as critical whatever its pace, until its reset", () => {
    const assessed = assessWindow(window(1, 0.67), NOW);
    assert.equal(assessed.level, "critical");
    assert.equal(assessed.until, NOW + 0.33 * WINDOW_MS);
    // Its UVI (1.49) is below stressed: shown, it would contradict the level.
    assert.equal(describeWindow(assessed), "w window 100% used at 67% elapsed: used up until its reset");
  });
  it("rates a monthly budget's window at most stressed: past its limit or pace, blocking is the budget's own job", () => {
    const budget = (used: number, elapsed: number): QuotaWindow => ({ ...window(used, elapsed), source: "budget" });
    assert.equal(assessWindow(budget(1.33, 0.98), NOW).level, "stressed");
    assert.equal(assessWindow(budget(0.1, 0), NOW).level, "stressed"); // 10% on the first day: UVI 2
    assert.equal(assessWindow(budget(0.2, 0.5), NOW).level, "ok");
    // Late in the month with little spent: money not spent is saved, so the budget is no reason to spend it sooner.
    assert.equal(assessWindow(budget(0.05, 0.95), NOW).level, "ok");
    assert.equal(assessWindow({ ...budget(1.33, 0.98), source: "usage-api" }, NOW).level, "critical");
  });

  it("uses configured thresholds", () => {
    const thresholds = uviSettings({ uvi: { thresholds: { stressed: 1.2, critical: 3 } } }, {}).thresholds;
    assert.equal(assessWindow(window(0.5, 0.4), NOW, thresholds).level, "stressed");
    assert.equal(assessWindow(window(0.5, 0.25), NOW, thresholds).level, "stressed");
  });
});

describe("refilling windows (token buckets: per-minute request and token limits)", () => {
  const MINUTE_MS = 60_000;
  /** A per-minute bucket `used` now, full again in used x 1 min (its reset), as Anthropic and OpenAI send it. */
  const bucket = (used: number): QuotaWindow => ({
    name: "requests",
    usedFraction: used,
    windowMs: MINUTE_MS,
    resetsAt: NOW + used * MINUTE_MS,
    refills: true,
  });
  it("reads a bucket by how much of it is used now, not by how early in a minute: 80% used is stressed, not critical", () => {
    // As a fixed minute, 80% used with 48 s to go (20% elapsed) read UVI 4.0, critical, and the target was skipped.
    const assessed = assessWindow(bucket(0.8), NOW);
    assert.equal(assessed.level, "stressed");
    assert.equal(assessed.uvi.toFixed(2), "1.60");
    assert.equal(assessed.calmUntil, NOW + 4_000, "below 75% used once 5% of a minute has refilled (rounded up)");
    assert.equal(describeWindow(assessed), "requests window 80% used, refilling, UVI 1.60");
    assert.equal(assessWindow(bucket(0.67), NOW).level, "ok");
    assert.equal(assessWindow(bucket(0.1), NOW).level, "ok", "never surplus: a bucket's allowance is not lost");
  });
  it("is critical only while used up, and counts what refilled since it was read", () => {
    const empty = assessWindow(bucket(1), NOW);
    assert.equal(empty.level, "critical");
    assert.equal(empty.until, NOW + 1_000);
    assert.equal(describeWindow(empty), "requests window 100% used, refilling: used up until some of it is back");
    // 30 s later half of it is back.
    const later = assessWindow(bucket(1), NOW + 30_000);
    assert.equal(later.usedFraction, 0.5);
    assert.equal(later.level, "ok");
  });
});

describe("UVI per provider", () => {
  it("lets the worst window decide", () => {
    const assessment = assessQuota([window(0.1, 0.9, "5h"), window(0.66, 0.3, "7d")], NOW)!.shared!;
    assert.equal(assessment.level, "critical");
    assert.equal(assessment.worst.name, "7d");
    assert.match(assessment.detail, /7d window 66% used at 30% elapsed, UVI 2\.20/);
  });
  it("names the window that keeps the target out longest, not the one of the higher UVI", () => {
    // The weekly window is used up for a day; the 5 h one is paced faster (UVI 2.37) but eases within the hour.
    const week: QuotaWindow = { name: "7d", usedFraction: 1, windowMs: 7 * 24 * HOUR_MS, resetsAt: NOW + 24 * HOUR_MS };
    for (const windows of [
      [window(0.95, 0.4, "5h"), week],
      [week, window(0.95, 0.4, "5h")],
    ]) {
      const assessment = assessQuota(windows, NOW)!.shared!;
      assert.equal(assessment.worst.name, "7d");
      assert.match(assessment.detail, /^7d window 100% used at 85% elapsed: used up until its reset$/);
      const status = quotaStatus([assessment]);
      assert.equal(status.until, NOW + 24 * HOUR_MS);
      assert.equal(status.detail, assessment.detail);
    }
    // Of two stressed windows, the one stressed longer (hard mode's exclusion) decides.
    const slow: QuotaWindow = {
      name: "7d",
      usedFraction: 0.9,
      windowMs: 7 * 24 * HOUR_MS,
      resetsAt: NOW + 3 * 24 * HOUR_MS,
    };
    assert.equal(assessQuota([window(0.56, 0.3, "5h"), slow], NOW)!.shared!.worst.name, "7d");
  });
  it("is surplus only when every window is", () => {
    assert.equal(assessQuota([window(0.2, 0.8, "5h"), window(0.3, 0.5, "7d")], NOW)!.shared!.level, "ok");
    assert.equal(assessQuota([window(0.2, 0.8, "5h"), window(0.3, 0.9, "7d")], NOW)!.shared!.level, "surplus");
  });
  it("ignores a window whose reset lies further away than the window is long: no such window resets then", () => {
    const far = { name: "5h", usedFraction: 0.3, windowMs: 5 * HOUR_MS, resetsAt: NOW + 5 * HOUR_MS * 1000 };
    assert.equal(assessQuota([far], NOW), undefined);
    assert.equal(assessQuota([window(0.1, 0.9, "7d"), far], NOW)!.shared!.worst.name, "7d");
    // A little beyond its length is the provider's clock, not an impossible reset.
    assert.equal(assessQuota([{ ...far, resetsAt: NOW + 5 * HOUR_MS + 30_000 }], NOW)!.shared!.level, "critical");
  });
  it("ignores windows that have already reset", () => {
    assert.equal(
      assessQuota([{ name: "old", usedFraction: 1, windowMs: WINDOW_MS, resetsAt: NOW - 1 }], NOW),
      undefined,
    );
  });
});

describe("Google bucket windows", () => {
  it("measures elapsed time against the bucket's real period, not reset-minus-now", () => {
    // A daily bucket that resets in 6 h has run for 18 h (75%); 30% used is a calm UVI of 0.4.
    const bucket = googleBucketWindow({
      name: "gemini-2.5-pro",
      remainingFraction: 0.7,
      resetsAt: NOW + 6 * HOUR_MS,
      periodMs: 24 * HOUR_MS,
    });
    const assessed = assessWindow(bucket, NOW);
    assert.equal(assessed.elapsedFraction, 0.75);
    assert.equal(assessed.uvi.toFixed(2), "0.40");
    assert.equal(assessed.level, "surplus");
  });
});

describe("monthly spend window", () => {
  it("paces spend against the calendar month", () => {
    const start = Date.parse("2026-03-01T00:00:00Z");
    const end = Date.parse("2026-04-01T00:00:00Z");
    const tenthDay = Date.parse("2026-03-11T00:00:00Z");
    const assessed = assessWindow(monthlySpendWindow(20, 30, start, end), tenthDay);
    assert.equal(assessed.uvi.toFixed(2), "2.07"); // 67% of the budget in 32% of the month
    assert.equal(assessed.level, "stressed"); // demoted, never excluded: the budget itself blocks at its limit
  });
});

describe("route() with quota levels", () => {
  const routes: Record<string, RouteConfig> = {
    r: routeInOrder("a/1", "b/1", "c/1"),
  };
  const facts = (): ModelFacts => ({ resolvable: true, hasCredentials: true });
  const snapshot = (windows: Record<string, QuotaWindow[]>, quotaHard = false): RoutingSnapshot => {
    const providers: RoutingSnapshot["providers"] = {};
    for (const [provider, list] of Object.entries(windows)) {
      providers[provider] = { quota: quotaStatus([assessQuota(list, NOW)!.shared!]) };
    }
    return {
      config: { routes },
      models: { "a/1": facts(), "b/1": facts(), "c/1": facts() },
      cooldowns: {},
      targets: {},
      providers,
      budgetPolicy: "soft",
      quotaHard,
      timeZone: "UTC",
    };
  };
  const features = {
    estimatedTokens: 100,
    contextClass: "short" as const,
    hasImages: false,
    hasTools: false,
    intent: "general" as const,
    intentConfidence: 0.5,
  };
  const decide = (state: RoutingSnapshot) => route({ routeId: "r", features }, state, NOW);

  it("excludes a critical provider even with no USD budget configured", () => {
    const decision = decide(snapshot({ a: [window(0.5, 0.25)] }));
    assert.deepEqual(
      decision.candidates.map((c) => c.key),
      ["b/1", "c/1"],
    );
    assert.equal(decision.skipped.find((s) => s.key === "a/1")?.reason, "quota");
  });
  it("says until when a critical provider is skipped: its reset when used up, else when its pace eases", () => {
    const usedUp = decide(snapshot({ a: [window(1, 0.5)] })).skipped.find((s) => s.key === "a/1")!;
    assert.equal(usedUp.until, NOW + 0.5 * WINDOW_MS);
    assert.match(usedUp.detail, /^quota critical: w window 100% used at 50% elapsed: used up until its reset$/);
    // 80% used at 30% elapsed: below UVI 2 once 40% has passed, an hour from now (and a second, to be past it).
    const fast = decide(snapshot({ a: [window(0.8, 0.3)] })).skipped.find((s) => s.key === "a/1")!;
    assert.equal(fast.until, NOW + 0.1 * WINDOW_MS + 1000);
    assert.equal(assessWindow(window(0.8, 0.3), NOW + 0.1 * WINDOW_MS + 1000).level, "stressed");
  });
  it("demotes a stressed provider to the end, and excludes it in hard mode", () => {
    assert.deepEqual(
      decide(snapshot({ a: [window(0.51, 0.3)] })).candidates.map((c) => c.key),
      ["b/1", "c/1", "a/1"],
    );
    const hard = decide(snapshot({ a: [window(0.51, 0.3)] }, true));
    assert.deepEqual(
      hard.candidates.map((c) => c.key),
      ["b/1", "c/1"],
    );
    assert.equal(hard.skipped.find((s) => s.key === "a/1")?.reason, "quota");
  });
  it("promotes a subscription in surplus (its unused share is lost at the reset), not a per-token target", () => {
    const subscription = snapshot({ c: [window(0.24, 0.8)] });
    const [a, b, c] = routes.r!.targets;
    subscription.config = { routes: { r: { ...routes.r!, targets: [a!, b!, { ...c!, billing: "subscription" }] } } };
    assert.deepEqual(
      decide(subscription).candidates.map((c) => c.key),
      ["c/1", "a/1", "b/1"],
    );
    assert.deepEqual(
      decide(snapshot({ c: [window(0.24, 0.8)] })).candidates.map((c) => c.key),
      ["a/1", "b/1", "c/1"],
    );
  });
  it("turns hard mode on from AUTO_ROUTER_UVI_HARD=1 or the config", () => {
    assert.equal(uviSettings({}, { AUTO_ROUTER_UVI_HARD: "1" }).hard, true);
    assert.equal(uviSettings({ uvi: { hard: true } }, {}).hard, true);
    assert.equal(uviSettings({}, {}).hard, false);
  });
});

describe("how quota figures are shown", () => {
  it("counts only open windows (reset to come, believable), and says none as no open window", () => {
    const passed = { ...window(0.5, 0.5), resetsAt: NOW - 1 };
    const far = { ...window(0.1, 0.1), resetsAt: NOW + 1000 * WINDOW_MS };
    assert.equal(openWindowCount([window(0.5, 0.5), passed, far], NOW), 1);
    assert.equal(openWindowCount([passed], NOW), 0);
    assert.equal(windowCountText(0), "no open window");
    assert.equal(windowCountText(1), "1 window");
    assert.equal(windowCountText(2), "2 windows");
  });

  it("rounds down, so a shown UVI or share never reaches a threshold the real one has not", () => {
    assert.equal(formatUvi(1.998), "1.99", "stressed under critical ≥ 2 must not read 2.00");
    assert.equal(formatUvi(1.96, 1), "1.9");
    assert.equal(formatQuotaPercent(0.7399), "73%");
    assert.equal(floorTo(3, 2), "3.00");
  });

  it("reads binary noise as the value it stands for: 70% used at 40% elapsed is UVI 1.75 everywhere", () => {
    const assessed = assessWindow(window(0.7, 0.4, "5h"), NOW);
    assert.ok(assessed.uvi < 1.75, "0.7 / 0.4 in floating point");
    assert.equal(formatUvi(assessed.uvi), "1.75");
    assert.equal(formatUvi(assessed.uvi, 1), "1.7");
    assert.match(describeWindow(assessed), /5h window 70% used at 40% elapsed, UVI 1\.75$/);
  });

  it("shows a share as the budget does", () => {
    for (const share of [0.7399, 0.735, 0.8, 0.24 / 0.3, 0.999])
      assert.equal(formatQuotaPercent(share), formatShare(share));
  });
});
