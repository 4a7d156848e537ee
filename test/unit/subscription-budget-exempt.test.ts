// A subscription target's answers cost nothing of its provider's budget: route() neither holds it back for a blocked
// budget nor paces it by the monthly budget's window, while the provider's per-token targets are (the exploratory
// run's case: $0.06 of per-token Haiku spend blocked, then demoted, the Sonnet subscription of the same account).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { providerQuotaStatus } from "../../src/quota/uvi-plugin.ts";
import { route } from "../../src/routing/route.ts";
import type { ModelFacts, ProviderStatus, RequestFeatures, RoutingSnapshot } from "../../src/routing/types.ts";
import { assessQuota, monthlySpendWindow, type QuotaWindow } from "../../src/routing/uvi.ts";

const NOW = Date.parse("2026-03-05T12:00:00Z");
const MONTH_START = Date.parse("2026-03-01T00:00:00Z");
const MONTH_END = Date.parse("2026-04-01T00:00:00Z");
const HOUR = 3_600_000;
const features: RequestFeatures = {
  estimatedTokens: 100,
  contextClass: "short",
  hasImages: false,
  hasTools: false,
  intent: "general",
  intentConfidence: 0.5,
};
const MODELS: Array<readonly [string, string]> = [
  ["claude-haiku-4-5", "claude-haiku-4-5"],
  ["claude-sonnet-4-5", "claude-sonnet-4-5"],
];
// Sonnet signed in with OAuth (a subscription), Haiku billed per token, both on the account `anthropic`; `pay` apart.
const config = {
  routes: {
    main: {
      sortBy: "config" as const,
      targets: [
        { provider: "anthropic", modelId: "claude-sonnet-4-5" },
        { provider: "anthropic", modelId: "claude-haiku-4-5", billing: "per-token" as const },
        { provider: "pay", modelId: "model-b" },
      ],
    },
  },
};
const facts = (usesOAuth: boolean): ModelFacts => ({ resolvable: true, hasCredentials: true, usesOAuth });
const snapshot = (anthropic: ProviderStatus): RoutingSnapshot => ({
  config,
  models: {
    "anthropic/claude-sonnet-4-5": facts(true),
    "anthropic/claude-haiku-4-5": facts(true),
    "pay/model-b": facts(false),
  },
  cooldowns: {},
  targets: {},
  providers: { anthropic },
  budgetPolicy: "soft",
  quotaHard: false,
  timeZone: "UTC",
});
const order = (decision: ReturnType<typeof route>) => decision.candidates.map((candidate) => candidate.key);

describe("a subscription target and its provider's budget", () => {
  it("is not held back by a blocked budget (soft or hard) nor warned of one; the per-token target is", () => {
    for (const budgetPolicy of ["soft", "hard"] as const) {
      const state = {
        ...snapshot({ budget: { level: "blocked", detail: "daily $0.06 of $0.05 (120%)" } }),
        budgetPolicy,
      };
      const decision = route({ routeId: "main", features }, state, NOW);
      assert.deepEqual(order(decision), ["anthropic/claude-sonnet-4-5", "pay/model-b"], budgetPolicy);
      assert.deepEqual(
        decision.skipped.map((skipped) => [skipped.key, skipped.reason]),
        [["anthropic/claude-haiku-4-5", "budget"]],
      );
    }
    const warned = route({ routeId: "main", features }, snapshot({ budget: { level: "warning", detail: "85%" } }), NOW);
    assert.deepEqual(warned.candidates[0]!.warnings, []);
    assert.deepEqual(warned.candidates[1]!.warnings, ["budget: 85%"]);
  });

  it("is not paced by the monthly budget's window, only by its own windows; the per-token target is", () => {
    // 30% of the month's budget spent 13% into the month: stressed.
    const budget = monthlySpendWindow(0.06, 0.2, MONTH_START, MONTH_END);
    const calm: QuotaWindow = {
      name: "5h",
      usedFraction: 0.1,
      windowMs: 5 * HOUR,
      resetsAt: NOW + 4 * HOUR,
      source: "usage-api",
    };
    const status = providerQuotaStatus(assessQuota([budget, calm], NOW)!, MODELS);
    assert.equal(status.quota?.level, "stressed", "the provider as shown: its worst window");
    const decision = route({ routeId: "main", features }, snapshot(status), NOW);
    assert.deepEqual(order(decision), ["anthropic/claude-sonnet-4-5", "pay/model-b", "anthropic/claude-haiku-4-5"]);
    assert.ok(!decision.candidates[0]!.reasons.some((reason) => reason.startsWith("quota stressed")));
    assert.ok(decision.candidates[2]!.reasons.some((reason) => /^quota stressed: monthly budget/.test(reason)));

    // The budget window alone: nothing paces the subscription.
    const alone = providerQuotaStatus(assessQuota([budget], NOW)!, MODELS);
    assert.deepEqual(alone.subscriptionQuota, {});
    assert.equal(order(route({ routeId: "main", features }, snapshot(alone), NOW))[0], "anthropic/claude-sonnet-4-5");

    // Its own stressed window still demotes it.
    const stressed = { ...calm, usedFraction: 0.7, resetsAt: NOW + 3 * HOUR };
    const own = providerQuotaStatus(assessQuota([budget, stressed], NOW)!, MODELS);
    assert.equal(own.subscriptionQuota?.quota?.level, "stressed");
    assert.deepEqual(order(route({ routeId: "main", features }, snapshot(own), NOW)), [
      "pay/model-b",
      "anthropic/claude-sonnet-4-5",
      "anthropic/claude-haiku-4-5",
    ]);
  });
});
