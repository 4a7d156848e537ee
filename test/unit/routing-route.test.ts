import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { RouteConfig, RouterConfig } from "../../src/config/schema.ts";
import { route } from "../../src/routing/route.ts";
import { parseShortcuts } from "../../src/routing/shortcuts.ts";
import {
  routeTargetKey,
  type ModelFacts,
  type RequestFeatures,
  type RoutingSnapshot,
} from "../../src/routing/types.ts";

const NOW = Date.parse("2026-03-04T12:00:00Z");
const facts = (extra: Partial<ModelFacts> = {}): ModelFacts => ({ resolvable: true, hasCredentials: true, ...extra });
const features = (extra: Partial<RequestFeatures> = {}): RequestFeatures => ({
  estimatedTokens: 2_000,
  contextClass: "short",
  hasImages: false,
  hasTools: false,
  intent: "general",
  intentConfidence: 0.5,
  ...extra,
});
const targets = (...keys: string[]) => keys.map((key) => ({ provider: key.split("/")[0], modelId: key.split("/")[1] }));

function snapshot(
  routes: Record<string, RouteConfig>,
  extra: Partial<RoutingSnapshot> = {},
  config: Partial<RouterConfig> = {},
): RoutingSnapshot {
  const models: Record<string, ModelFacts> = {};
  for (const routeConfig of Object.values(routes))
    for (const target of routeConfig.targets) models[`${target.provider}/${target.modelId}`] = facts();
  return {
    config: { routes, ...config },
    models,
    cooldowns: {},
    targets: {},
    providers: {},
    budgetPolicy: "soft",
    quotaHard: false,
    timeZone: "UTC",
    ...extra,
  };
}
const keys = (decision: ReturnType<typeof route>) => decision.candidates.map((candidate) => candidate.key);
const skippedReasons = (decision: ReturnType<typeof route>) =>
  Object.fromEntries(decision.skipped.map((skip) => [skip.key, skip.reason]));

describe("route: availability", () => {
  it("keeps declared order when nothing distinguishes the targets", () => {
    const decision = route(
      { routeId: "r", features: features() },
      snapshot({ r: { targets: targets("a/1", "b/1", "c/1") } }),
      NOW,
    );
    assert.deepEqual(keys(decision), ["a/1", "b/1", "c/1"]);
    assert.deepEqual(decision.declaredOrder, ["a/1", "b/1", "c/1"]);
    assert.match(decision.trace.winner ?? "", /declared order/);
  });

  it("takes a provider/model listed twice in a route for one target: one candidate, one skipped entry", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1", "a/1", "c/1", "c/1") } });
    state.providers.c = { unhealthy: "health check failed 3 times" };
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["a/1", "b/1"]);
    assert.deepEqual(
      decision.skipped.map((skipped) => skipped.key),
      ["c/1"],
    );
  });

  it("skips disabled, missing, credential-less and unhealthy targets with their reasons", () => {
    const state = snapshot({
      r: { targets: [...targets("a/1", "b/1", "c/1", "d/1"), { provider: "e", modelId: "1", enabled: false }] },
    });
    delete state.models["a/1"];
    state.models["b/1"] = facts({ hasCredentials: false });
    state.providers.c = { unhealthy: "health check failed 3 times" };
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["d/1"]);
    assert.deepEqual(skippedReasons(decision), {
      "a/1": "missing-model",
      "b/1": "no-credentials",
      "c/1": "unhealthy",
      "e/1": "disabled",
    });
  });

  it("skips a target cooling down on this route with its until, and ignores an expired cooldown", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1") } });
    state.cooldowns[routeTargetKey("r", "a/1")] = { until: NOW + 30_000, kind: "rate_limit" };
    state.cooldowns[routeTargetKey("r", "b/1")] = { until: NOW - 1, kind: "rate_limit" };
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["b/1"]);
    assert.equal(decision.skipped[0].reason, "cooldown");
    assert.equal(decision.skipped[0].until, NOW + 30_000);
  });

  it("does not apply a cooldown kept for another route", () => {
    const state = snapshot({ r: { targets: targets("a/1") } });
    state.cooldowns[routeTargetKey("other", "a/1")] = { until: NOW + 30_000, kind: "rate_limit" };
    assert.deepEqual(keys(route({ routeId: "r", features: features() }, state, NOW)), ["a/1"]);
  });

  it("skips an open breaker, makes a half-open one the probe, and skips it while a probe is in flight", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1", "c/1") } });
    state.targets["a/1"] = { breaker: { state: "open", until: NOW + 60_000 } };
    state.targets["b/1"] = { breaker: { state: "half-open" } };
    state.targets["c/1"] = { breaker: { state: "half-open", probeInFlight: true } };
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["b/1"]);
    assert.equal(decision.candidates[0].probe, true);
    assert.deepEqual(skippedReasons(decision), { "a/1": "circuit-open", "c/1": "circuit-open" });
    assert.equal(decision.skipped[0].until, NOW + 60_000);
  });

  it("treats an open breaker whose time is up as ready for its probe", () => {
    const state = snapshot({ r: { targets: targets("a/1") } });
    state.targets["a/1"] = { breaker: { state: "open", until: NOW - 1 } };
    assert.equal(route({ routeId: "r", features: features() }, state, NOW).candidates[0].probe, true);
  });

  it("skips targets whose window is too small or that lack a needed capability", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1", "c/1") } });
    state.models["a/1"] = facts({ contextWindow: 1_000 });
    state.models["b/1"] = facts({ vision: false });
    const decision = route({ routeId: "r", features: features({ hasImages: true }) }, state, NOW);
    assert.deepEqual(keys(decision), ["c/1"]);
    assert.deepEqual(skippedReasons(decision), { "a/1": "context-too-small", "b/1": "capability" });
  });

  it("leaves out a resting, unhealthy or broken target whose window is too small as too small, with no until", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1", "c/1") } });
    for (const key of ["a/1", "b/1", "c/1"]) state.models[key] = facts({ contextWindow: 1_000 });
    state.cooldowns[routeTargetKey("r", "a/1")] = { until: NOW + 30_000, kind: "auth" };
    state.providers.b = { unhealthy: "health check failed 3 times" };
    state.targets["c/1"] = { breaker: { state: "open", until: NOW + 60_000 } };
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(skippedReasons(decision), {
      "a/1": "context-too-small",
      "b/1": "context-too-small",
      "c/1": "context-too-small",
    });
    assert.deepEqual(
      decision.skipped.map((skipped) => skipped.until),
      [undefined, undefined, undefined],
    );
  });

  it("refuses an unknown route with the known ones named", () => {
    const decision = route(
      { routeId: "nope", features: features() },
      snapshot({ r: { targets: targets("a/1") } }),
      NOW,
    );
    assert.match(decision.refusal ?? "", /"nope".*known: r/);
    assert.equal(decision.refusalKind, "unknown-route");
  });
});

describe("route: budgets and quota", () => {
  it("skips critical quota, demotes stressed quota, promotes surplus and warns on budget", () => {
    const state = snapshot({
      r: {
        targets: [...targets("a/1", "b/1", "c/1"), { provider: "d", modelId: "1", billing: "subscription" as const }],
      },
    });
    state.providers.a = { quota: { level: "stressed", detail: "UVI 1.4" } };
    state.providers.b = { quota: { level: "critical", detail: "97% used" } };
    state.providers.c = { budget: { level: "warning", detail: "85% of $5 daily" } };
    state.providers.d = { quota: { level: "surplus", detail: "UVI 0.3" } };
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["d/1", "c/1", "a/1"]);
    assert.equal(skippedReasons(decision)["b/1"], "quota");
    assert.deepEqual(decision.candidates[1].warnings, ["budget: 85% of $5 daily"]);
    assert.ok(decision.trace.hints.some((hint) => hint.includes("budget warning for c")));
  });

  it("skips stressed quota providers in hard quota mode", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1") } }, { quotaHard: true });
    state.providers.a = { quota: { level: "stressed", detail: "UVI 1.4" } };
    assert.deepEqual(keys(route({ routeId: "r", features: features() }, state, NOW)), ["b/1"]);
  });

  it("skips a budget-blocked provider while another can serve", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1") } });
    state.providers.a = { budget: { level: "blocked", detail: "$5.10 of $5 daily" } };
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["b/1"]);
    assert.equal(skippedReasons(decision)["a/1"], "budget");
    assert.equal(decision.trace.fallback, undefined);
  });

  it("routes on over-budget targets in declared order under a soft policy and says so", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1") } });
    state.providers.a = { budget: { level: "blocked", detail: "$5.10 of $5 daily" } };
    state.providers.b = { budget: { level: "blocked", detail: "$20 of $20 monthly" } };
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["a/1", "b/1"]);
    assert.match(decision.trace.fallback ?? "", /soft/);
    assert.equal(decision.refusal, undefined);
  });

  it("refuses with the providers' budget details when every target is over budget under a hard policy", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1") } }, { budgetPolicy: "hard" });
    state.providers.a = { budget: { level: "blocked", detail: "$5.10 of $5 daily" } };
    state.providers.b = { budget: { level: "blocked", detail: "$20 of $20 monthly" } };
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), []);
    assert.match(decision.refusal ?? "", /a \(\$5\.10 of \$5 daily\).*b \(\$20 of \$20 monthly\)/);
    assert.deepEqual(skippedReasons(decision), { "a/1": "budget", "b/1": "budget" });
    assert.equal(decision.refusalKind, "over-budget");
  });

  it("blames a hard refusal's budget only on the budgeted targets and names why each other one was left out", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1", "c/1") } }, { budgetPolicy: "hard" });
    state.models["c/1"] = facts({ hasCredentials: false, credentialsProblem: "no key for c" });
    state.providers.a = { budget: { level: "blocked", detail: "$5.10 of $5 daily" } };
    const decision = route(
      { routeId: "r", features: features(), shortcuts: parseShortcuts("@ignore=b hi").shortcuts },
      state,
      NOW,
    );
    assert.equal(decision.refusalKind, "over-budget");
    assert.equal(
      decision.refusal,
      'auto-router: the targets of route r left for this request are over budget and the budget policy is hard: a ($5.10 of $5 daily); the others were left out for other reasons: b/1: ignored: b; c/1: no key for c. Raise the budget or set budgets.policy to "soft".',
    );
  });

  it("does not refuse as 'every target over budget' while another target is only cooling down", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1") } }, { budgetPolicy: "hard" });
    state.cooldowns[routeTargetKey("r", "a/1")] = { until: NOW + 90_000, kind: "rate_limit" };
    state.providers.b = { budget: { level: "blocked", detail: "$5.10 of $5 daily" } };
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), []);
    assert.equal(decision.refusal, undefined);
    assert.deepEqual(skippedReasons(decision), { "a/1": "cooldown", "b/1": "budget" });
  });

  it("leaves a resting target out for its hard budget, not as resting: nothing to wait for, the refusal names the budget", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1") } }, { budgetPolicy: "hard" });
    // Both over budget; a also rests after a server error and b's breaker is open: neither can serve when back.
    state.cooldowns[routeTargetKey("r", "a/1")] = { until: NOW + 7_000, kind: "server" };
    state.targets["b/1"] = { breaker: { state: "open", until: NOW + 20_000 } } as RoutingSnapshot["targets"][string];
    state.providers.a = { budget: { level: "blocked", detail: "$5.10 of $5 daily" } };
    state.providers.b = { budget: { level: "blocked", detail: "$20 of $20 monthly" } };
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), []);
    assert.deepEqual(skippedReasons(decision), { "a/1": "budget", "b/1": "budget" });
    assert.equal(decision.refusalKind, "over-budget");
    assert.match(decision.refusal ?? "", /every target of route r is over budget/);
  });

  it("tells a refusal whose spend is only unknown (team store down) from one that is over budget", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1") } }, { budgetPolicy: "hard" });
    state.providers.a = { budget: { level: "blocked", detail: "$5.10 of $5 daily" } };
    state.providers.b = { budget: { level: "blocked", detail: "team store is unreachable", spendUnknown: true } };
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), []);
    // b may be under its limit once its spend can be read again: the refusal passes with time.
    assert.equal(decision.refusalKind, "spend-unknown");
    assert.match(
      decision.refusal ?? "",
      /no target of route r can be checked against its hard budget now: a \(\$5\.10 of \$5 daily\); b \(team store is unreachable\)\. Retry once the team store answers again/,
    );
    assert.doesNotMatch(decision.refusal ?? "", /every target .* is over budget/);
  });

  it("falls back to rule-excluded targets that are within budget under a hard policy", () => {
    const state = snapshot(
      { r: { targets: targets("a/1", "b/1"), policyRules: [{ type: "exclude-provider", providers: ["b"] }] } },
      { budgetPolicy: "hard" },
    );
    state.providers.a = { budget: { level: "blocked", detail: "$5.10 of $5 daily" } };
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["b/1"]);
    assert.match(decision.trace.fallback ?? "", /excluded-by-rule/);
    // The hard budget kept a/1 out: the budget policy is named beside the rule.
    assert.match(decision.trace.fallback ?? "", /\(budget and excluded-by-rule\); budget policy hard/);
    assert.deepEqual(decision.trace.fallbackBy, ["rule", "budget"]);
    assert.equal(skippedReasons(decision)["a/1"], "budget");
  });

  it("yields the soft fallback when rules exclude every target of a route", () => {
    const state = snapshot({
      r: { targets: targets("a/1", "b/1"), policyRules: [{ type: "require-provider", providers: ["z"] }] },
    });
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["a/1", "b/1"]);
    // Rules alone left them out: the rule is named, and no budget policy is said to have decided.
    assert.equal(
      decision.trace.fallback,
      "every target was left out by policy rules (routes.r.policyRules[0] require-provider: requires z), and rules never leave a route without a target: routing on 2 of them in declared order",
    );
    assert.deepEqual(decision.trace.fallbackBy, ["rule"]);
  });

  it("never falls back onto targets skipped for hard reasons", () => {
    const state = snapshot({ r: { targets: targets("a/1") } });
    state.models["a/1"] = facts({ hasCredentials: false });
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), []);
    assert.equal(decision.trace.fallback, undefined);
    assert.equal(decision.refusal, undefined);
  });
});

describe("route: tiers", () => {
  const routes = {
    swe: { targets: targets("a/code", "b/code") },
    long: { targets: targets("g/long", "a/long") },
    fast: { targets: targets("f/fast") },
  };
  const tiers = { long: { route: "long" }, fast: { route: "fast" }, swe: { route: "swe" } };

  it("switches to the tier's route for a shortcut and applies the @long window", () => {
    const state = snapshot(routes, {}, { tiers });
    state.models["g/long"] = facts({ contextWindow: 32_000 });
    const decision = route(
      { routeId: "swe", features: features(), shortcuts: parseShortcuts("@long read it all").shortcuts },
      state,
      NOW,
    );
    assert.equal(decision.routeId, "long");
    assert.equal(decision.requestedRouteId, "swe");
    assert.deepEqual(keys(decision), ["a/long"]);
    // The short prompt fits the 32k window; @long's 100k minimum is a capability it lacks, not an overflow.
    assert.equal(skippedReasons(decision)["g/long"], "capability");
    assert.equal(decision.trace.tierSource, "shortcut");
  });

  it("keeps the route when the tier names a route the file does not have, and says so in the hints", () => {
    const decision = route(
      { routeId: "swe", features: features(), shortcuts: parseShortcuts("@reasoning go").shortcuts },
      snapshot(routes, {}, { tiers: { ...tiers, reasoning: { route: "deep" } } }),
      NOW,
    );
    assert.equal(decision.routeId, "swe");
    assert.ok(
      decision.trace.hints.includes("tier reasoning (shortcut) names route deep, which is no route: route unchanged"),
      decision.trace.hints.join("; "),
    );
  });

  it("picks long for @fast @long and records @fast as ignored", () => {
    const decision = route(
      { routeId: "swe", features: features(), shortcuts: parseShortcuts("@fast @long go").shortcuts },
      snapshot(routes, {}, { tiers }),
      NOW,
    );
    assert.equal(decision.trace.tier, "long");
    assert.equal(decision.routeId, "long");
    assert.ok(decision.trace.hints.some((hint) => hint.startsWith("@fast ignored")));
  });

  it("uses a matching force-tier rule when there is no shortcut", () => {
    const state = snapshot(
      {
        ...routes,
        swe: {
          ...routes.swe,
          policyRules: [{ id: "big", type: "force-tier", tier: "long", when: { minTokens: 1_000 } }],
        },
      },
      {},
      { tiers },
    );
    const decision = route({ routeId: "swe", features: features() }, state, NOW);
    assert.equal(decision.trace.tierSource, "rule");
    assert.equal(decision.routeId, "long");
    assert.equal(decision.trace.rules.find((rule) => rule.rule === "big")?.effect, "tier long");
  });

  it("lets the later rules' when.tier see the tier a force-tier rule set, not the intent hint's it replaced", () => {
    const state = snapshot(
      { main: { targets: targets("a/1", "b/1") } },
      {},
      {
        policyRules: [
          { id: "code-to-think", type: "force-tier", tier: "reasoning", when: { intent: "code" } },
          { id: "think-no-a", type: "exclude-provider", providers: ["a"], when: { tier: "reasoning" } },
        ],
      },
    );
    // A confident code intent hints tier swe; the rule makes it reasoning.
    const decision = route(
      { routeId: "main", features: features({ intent: "code", intentConfidence: 0.9 }) },
      state,
      NOW,
    );
    assert.equal(decision.trace.tier, "reasoning");
    const line = decision.trace.rules.find((rule) => rule.rule === "think-no-a");
    assert.equal(line?.matched, true, line?.why);
    assert.equal(line?.why, "tier reasoning");
    assert.deepEqual(keys(decision), ["b/1"]);
  });

  it("lets a shortcut beat a force-tier rule and traces the rule as without effect", () => {
    const state = snapshot(
      { ...routes, swe: { ...routes.swe, policyRules: [{ id: "big", type: "force-tier", tier: "long" }] } },
      {},
      { tiers },
    );
    const decision = route(
      { routeId: "swe", features: features(), shortcuts: parseShortcuts("@fast hi").shortcuts },
      state,
      NOW,
    );
    assert.equal(decision.routeId, "fast");
    assert.match(decision.trace.rules.find((rule) => rule.rule === "big")?.effect ?? "", /already set by shortcut/);
  });

  it("traces the requested route's rules as not applied after a tier switched the route, each rule once", () => {
    const state = snapshot(
      {
        ...routes,
        swe: {
          ...routes.swe,
          policyRules: [
            { id: "big", type: "force-tier", tier: "long" },
            { id: "no-b", type: "exclude-provider", providers: ["b"] },
          ],
        },
      },
      {},
      {
        tiers,
        policyRules: [
          { id: "g-swe", type: "prefer-provider", providers: ["a"], routes: ["swe"] },
          { id: "g-all", type: "prefer-provider", providers: ["a"] },
        ],
      },
    );
    const decision = route({ routeId: "swe", features: features() }, state, NOW);
    assert.equal(decision.routeId, "long");
    const lines = decision.trace.rules.map((line) => `${line.matched ? "+" : "-"} ${line.rule}: ${line.why}`);
    assert.deepEqual(
      lines.filter((line) => !line.startsWith("+ big") && !line.startsWith("+ g-all")),
      [
        "- g-swe: not applied: tier long switched from route swe to long, whose rules apply",
        "- no-b: not applied: tier long switched from route swe to long, whose rules apply",
      ],
    );
    assert.equal(lines.filter((line) => line.startsWith("+ big")).length, 1, "the force-tier rule is traced once");
    assert.equal(lines.filter((line) => line.startsWith("+ g-all")).length, 1, "a rule of both routes applies once");
  });

  it("never switches route for an intent-only tier but ranks targets meeting it first", () => {
    const state = snapshot(
      { swe: { targets: targets("a/plain", "b/thinker") }, reasoning: { targets: targets("r/1") } },
      {},
      { tiers: { swe: { route: "reasoning" } } },
    );
    state.models["a/plain"] = facts({ reasoning: false });
    const decision = route(
      { routeId: "swe", features: features({ intent: "code", intentConfidence: 0.9 }) },
      state,
      NOW,
    );
    assert.equal(decision.routeId, "swe");
    assert.deepEqual(keys(decision), ["b/thinker", "a/plain"]);
    assert.equal(decision.trace.tierSource, "intent");
    assert.match(decision.trace.winner ?? "", /meets the swe tier/);
  });

  it("says an intent hint is unused on a sortBy config route, whose declared order it does not change", () => {
    const state = snapshot({ swe: { sortBy: "config", targets: targets("a/plain", "b/thinker") } });
    state.models["a/plain"] = facts({ reasoning: false });
    const decision = route(
      { routeId: "swe", features: features({ intent: "code", intentConfidence: 0.9 }) },
      state,
      NOW,
    );
    assert.deepEqual(keys(decision), ["a/plain", "b/thinker"]);
    assert.ok(
      decision.trace.hints.includes(
        'intent code (0.9) hints tier swe: unused, route swe keeps its declared order (sortBy "config")',
      ),
      decision.trace.hints.join(" | "),
    );
    assert.ok(!decision.trace.hints.some((hint) => hint.includes("first in their bucket")));
  });

  it("gives no tier hint when the intent confidence is low", () => {
    const state = snapshot({ swe: { targets: targets("a/plain", "b/thinker") } });
    state.models["a/plain"] = facts({ reasoning: false });
    const decision = route(
      { routeId: "swe", features: features({ intent: "code", intentConfidence: 0.4 }) },
      state,
      NOW,
    );
    assert.deepEqual(keys(decision), ["a/plain", "b/thinker"]);
    assert.equal(decision.trace.tierSource, "none");
    assert.ok(decision.trace.hints.some((hint) => hint.includes("no tier hint")));
  });
});

describe("route: rules and preferences", () => {
  it("never applies a global rule scoped to another route", () => {
    const state = snapshot(
      { r: { targets: targets("a/1", "b/1") }, other: { targets: targets("a/1") } },
      {},
      {
        policyRules: [{ id: "x", type: "exclude-provider", providers: ["a"], routes: ["other"] }],
      },
    );
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["a/1", "b/1"]);
    assert.equal(decision.trace.rules[0].matched, false);
  });

  it("excludes a provider only inside the rule's time window", () => {
    const rules = [
      {
        id: "night",
        type: "exclude-provider" as const,
        providers: ["a"],
        when: { timeWindow: { after: "22:00", before: "06:00" } },
      },
    ];
    const state = snapshot({ r: { targets: targets("a/1", "b/1"), policyRules: rules } });
    assert.deepEqual(keys(route({ routeId: "r", features: features() }, state, Date.parse("2026-03-04T23:30:00Z"))), [
      "b/1",
    ]);
    assert.deepEqual(keys(route({ routeId: "r", features: features() }, state, Date.parse("2026-03-04T06:00:00Z"))), [
      "a/1",
      "b/1",
    ]);
  });

  it("keeps only one billing kind with a force-billing rule", () => {
    const state = snapshot({
      r: { targets: targets("a/1", "b/1"), policyRules: [{ type: "force-billing", billing: "per-token" }] },
    });
    state.models["a/1"] = facts({ usesOAuth: true });
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["b/1"]);
    assert.equal(skippedReasons(decision)["a/1"], "excluded-by-rule");
  });

  it("applies a force-constraint rule as a capability requirement", () => {
    const state = snapshot({
      r: {
        targets: targets("a/1", "b/1"),
        policyRules: [{ type: "force-constraint", constraint: { reasoning: true } }],
      },
    });
    state.models["a/1"] = facts({ reasoning: false });
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["b/1"]);
    assert.equal(decision.trace.rules[0]?.effect, "requires reasoning");
  });

  it("names the rule that asked for a capability the request itself does not need on the targets lacking it", () => {
    const state = snapshot({
      r: {
        targets: targets("a/1", "b/1"),
        policyRules: [{ id: "vision-all", type: "force-constraint", constraint: { vision: true, tools: true } }],
      },
    });
    state.models["a/1"] = facts({ vision: false });
    state.models["b/1"] = facts({ vision: false });
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(
      decision.skipped.map((skip) => [skip.key, skip.detail, skip.requiredBy]),
      [
        ["a/1", "no image input", "rule vision-all"],
        ["b/1", "no image input", "rule vision-all"],
      ],
    );
    // A request with images needs vision itself: the rule is not why the targets are left out.
    const withImages = route({ routeId: "r", features: features({ hasImages: true }) }, state, NOW);
    assert.deepEqual(
      withImages.skipped.map((skip) => skip.requiredBy),
      [undefined, undefined],
    );
  });

  it("names the force-constraint rule that emptied the route on a rule listed before it, not `no target was left`", () => {
    const state = snapshot({
      r: {
        targets: targets("a/1", "b/1"),
        policyRules: [
          { id: "demote-a", type: "demote-target", targets: ["a/1"] },
          { id: "vision-all", type: "force-constraint", constraint: { vision: true } },
        ],
      },
    });
    state.models["a/1"] = facts({ vision: false });
    state.models["b/1"] = facts({ vision: false });
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), []);
    const [demote, constraint] = decision.trace.rules;
    assert.equal(demote?.rule, "demote-a");
    assert.equal(
      demote?.effect,
      "none: the requirement of rule vision-all left every target out before the rules applied",
    );
    assert.equal(constraint?.effect, "requires vision");
    // Targets skipped for other reasons are named by those reasons.
    const resting = snapshot({
      r: { targets: targets("a/1"), policyRules: [{ id: "demote-a", type: "demote-target", targets: ["a/1"] }] },
    });
    resting.models["a/1"] = facts({ vision: false });
    const withImages = route({ routeId: "r", features: features({ hasImages: true }) }, resting, NOW);
    assert.match(withImages.trace.rules[0]?.effect ?? "", /^none: no target reached the rules \(\w/);
  });

  it("describes each matched rule's own effect, decision after decision and after a config change", () => {
    const excluding = (provider: string) =>
      snapshot({
        r: { targets: targets("a/1", "b/1"), policyRules: [{ type: "exclude-provider", providers: [provider] }] },
      });
    const effect = (state: RoutingSnapshot) =>
      route({ routeId: "r", features: features() }, state, NOW).trace.rules[0]?.effect;
    const first = excluding("a");
    assert.equal(effect(first), "exclude a");
    assert.equal(effect(first), "exclude a");
    assert.equal(effect(excluding("b")), "exclude b");
  });

  it("demotes targets with too many bad ratings through a demote-target rule", () => {
    const state = snapshot({
      r: {
        targets: targets("a/1", "b/1"),
        policyRules: [{ id: "bad", type: "demote-target", when: { badRatingShareAbove: 0.3 } }],
      },
    });
    state.targets["a/1"] = { badRatingShare: 0.5, ratingCount: 20 };
    state.targets["b/1"] = { badRatingShare: 0.1, ratingCount: 20 };
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["b/1", "a/1"]);
    assert.equal(decision.candidates[1].bucket, "demoted");
    assert.match(decision.trace.rules[0].why, /matched for a\/1 \(bad ratings 50% > 30%\)/);
  });

  it("lets a rule that would leave no target yield to the higher-priority rules that excluded the others", () => {
    const rules = (requirePriority: number) => [
      { id: "never-b", type: "exclude-provider" as const, providers: ["b"] },
      { id: "only-b", type: "require-provider" as const, providers: ["b"], priority: requirePriority },
      { id: "per-token-only", type: "force-billing" as const, billing: "per-token" as const },
    ];
    const state = (requirePriority: number) =>
      snapshot({
        r: {
          targets: [...targets("a/1", "b/1"), { provider: "b", modelId: "2", billing: "subscription" as const }],
          policyRules: rules(requirePriority),
        },
      });
    const higher = route({ routeId: "r", features: features() }, state(10), NOW);
    // only-b (priority 10) leaves out a/1; never-b would leave nothing after it and yields; per-token-only still
    // leaves b/1 and applies.
    assert.deepEqual(keys(higher), ["b/1"]);
    assert.equal(higher.trace.fallback, undefined);
    const effects = Object.fromEntries(higher.trace.rules.map((line) => [line.rule, line.effect]));
    assert.equal(effects["only-b"], "only b");
    assert.equal(effects["never-b"], "none: yields to only-b (applied after it, it would leave no target)");
    assert.equal(effects["per-token-only"], "per-token only");
    assert.deepEqual(
      higher.skipped.map((skip) => `${skip.key}: ${skip.detail}`),
      ["a/1: only-b: requires b", "b/2: per-token-only: per-token only, this is subscription"],
    );
    // Declared order decides at equal priority: never-b comes first, leaves out b/1 and b/2, and only-b yields to it.
    const equal = route({ routeId: "r", features: features() }, state(0), NOW);
    assert.deepEqual(keys(equal), ["a/1"]);
    assert.equal(
      equal.trace.rules.find((line) => line.rule === "only-b")?.effect,
      "none: yields to never-b (applied after it, it would leave no target)",
    );
  });

  it("applies a rule that leaves every target out on its own, and falls back on the soft exclusion", () => {
    const state = snapshot({
      r: { targets: targets("a/1", "b/1"), policyRules: [{ id: "none", type: "require-provider", providers: ["z"] }] },
    });
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["a/1", "b/1"]);
    assert.match(decision.trace.fallback ?? "", /left out by policy rules \(none: requires z\)/);
    assert.equal(decision.trace.rules[0].effect, "only z");
    // A rule whose turn comes after every target was left out acts on none, and says so (not "only b").
    const after = snapshot({
      r: {
        targets: targets("a/1", "b/1"),
        policyRules: [
          { id: "sub-only", type: "force-billing", billing: "subscription", priority: 10 },
          { id: "only-b", type: "require-provider", providers: ["b"], priority: 5 },
        ],
      },
    });
    const late = route({ routeId: "r", features: features() }, after, NOW);
    assert.deepEqual(keys(late), ["a/1", "b/1"]);
    assert.equal(late.trace.rules.find((line) => line.rule === "sub-only")?.effect, "subscription only");
    assert.equal(
      late.trace.rules.find((line) => line.rule === "only-b")?.effect,
      "none: sub-only had left every target out before it",
    );
  });

  it("lets a per-target rule yield too, naming the targets it matched", () => {
    const state = snapshot({
      r: {
        targets: targets("a/1", "b/1"),
        policyRules: [
          { id: "only-b", type: "require-provider", providers: ["b"], priority: 1 },
          { id: "bad-out", type: "exclude-provider", providers: ["b"], when: { badRatingShareAbove: 0.3 } },
        ],
      },
    });
    state.targets["b/1"] = { badRatingShare: 0.5, ratingCount: 20 };
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["b/1"]);
    const line = decision.trace.rules.find((rule) => rule.rule === "bad-out");
    assert.equal(line?.why, "matched for b/1 (bad ratings 50% > 30%)");
    assert.equal(line?.effect, "none: yields to only-b (applied after it, it would leave no target)");
  });

  it("puts preferred providers first and lets prefer-provider rules follow them", () => {
    const state = snapshot({
      r: {
        targets: targets("a/1", "b/1", "c/1"),
        preferences: { order: ["c"] },
        policyRules: [{ type: "prefer-provider", providers: ["b"] }],
      },
    });
    assert.deepEqual(keys(route({ routeId: "r", features: features() }, state, NOW)), ["c/1", "b/1", "a/1"]);
  });

  it("applies no prefer-provider rule on a sortBy config route, and says so in the rule's trace line", () => {
    const state = snapshot({
      r: {
        sortBy: "config",
        targets: targets("a/1", "b/1"),
        policyRules: [
          { id: "pref-b", type: "prefer-provider", providers: ["b"] },
          { id: "pref-b-bad", type: "prefer-provider", providers: ["b"], when: { badRatingShareAbove: 0.3 } },
        ],
      },
    });
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["a/1", "b/1"]);
    assert.ok(
      !decision.candidates.some((candidate) => candidate.reasons.some((reason) => reason.startsWith("preferred"))),
    );
    const effect = 'none: the route keeps its declared order (sortBy "config"), which preferences do not change';
    assert.equal(decision.trace.rules.find((line) => line.rule === "pref-b")?.effect, effect);
    assert.equal(decision.trace.rules.find((line) => line.rule === "pref-b-bad")?.effect, effect);
  });

  it("lets @only= override the route's preferences and skips the others with provider-preference", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1"), preferences: { only: ["a"] } } });
    const decision = route(
      { routeId: "r", features: features(), shortcuts: parseShortcuts("@only=b hi").shortcuts },
      state,
      NOW,
    );
    assert.deepEqual(keys(decision), ["b/1"]);
    assert.equal(skippedReasons(decision)["a/1"], "provider-preference");
  });

  it("skips targets above @max-price with the price reason", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1") } });
    state.models["a/1"] = facts({ pricing: { input: 5, output: 25 } });
    const decision = route(
      { routeId: "r", features: features(), shortcuts: parseShortcuts("@max-price=10 hi").shortcuts },
      state,
      NOW,
    );
    assert.deepEqual(skippedReasons(decision), { "a/1": "price" });
  });
});

describe("route: ranking", () => {
  it("puts a slower subscription before a faster per-token target (money first), faster first within each kind", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1", "c/1") } });
    state.models["a/1"] = facts({ usesOAuth: true });
    state.targets["a/1"] = { ttftMs: 514 };
    state.targets["b/1"] = { ttftMs: 206 };
    state.targets["c/1"] = { ttftMs: 900 };
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["a/1", "b/1", "c/1"]);
    assert.match(decision.trace.winner ?? "", /: subscription before per-token /);
    // sortBy latency ranks by speed alone.
    const fastest = snapshot({ r: { sortBy: "latency", targets: targets("a/1", "b/1", "c/1") } });
    Object.assign(fastest.models, state.models);
    Object.assign(fastest.targets, state.targets);
    assert.deepEqual(keys(route({ routeId: "r", features: features() }, fastest, NOW)), ["b/1", "a/1", "c/1"]);
  });

  it("ranks by latency when both are known, then subscription before per-token, then cost", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1", "c/1", "d/1") } });
    state.targets["a/1"] = { ttftMs: 900.4999999 };
    state.targets["b/1"] = { ttftMs: 299.883 + 1e-9 };
    // c and d in one slower band (within 10%): their price decides. (A target not measured yet would count in the
    // fastest band.)
    state.targets["c/1"] = { ttftMs: 2_000 };
    state.targets["d/1"] = { ttftMs: 2_150 };
    state.models["c/1"] = facts({ pricing: { input: 1, output: 2 } });
    state.models["d/1"] = facts({ pricing: { input: 0.1, output: 0.2 } });
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["b/1", "a/1", "d/1", "c/1"]);
    assert.match(decision.trace.winner ?? "", /: faster first token \(300 ms vs 900 ms for /);
  });

  it("puts subscription targets before per-token ones at equal rank", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1") } });
    state.models["b/1"] = facts({ usesOAuth: true });
    const decision = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(decision), ["b/1", "a/1"]);
    assert.equal(decision.candidates[0].billing, "subscription");
  });

  it("keeps declared order with sortBy config even when latency is known", () => {
    const state = snapshot({ r: { sortBy: "config", targets: targets("a/1", "b/1") } });
    state.targets["a/1"] = { ttftMs: 900 };
    state.targets["b/1"] = { ttftMs: 100 };
    assert.deepEqual(keys(route({ routeId: "r", features: features() }, state, NOW)), ["a/1", "b/1"]);
  });

  it("sorts a sortBy config route by a prompt's @sort= key, then declared order, never by its ignored `order`", () => {
    const state = snapshot({
      r: { sortBy: "config", preferences: { order: ["b"] }, targets: targets("a/1", "b/1", "c/1", "d/1") },
    });
    state.models["b/1"] = facts({ pricing: { input: 3, output: 15 } });
    state.models["c/1"] = facts({ pricing: { input: 0.3, output: 1 } });
    state.models["d/1"] = facts({ pricing: { input: 0.3, output: 1 } });
    state.targets["d/1"] = { ttftMs: 100 };
    state.targets["c/1"] = { ttftMs: 900 };
    const plain = route({ routeId: "r", features: features() }, state, NOW);
    assert.deepEqual(keys(plain), ["a/1", "b/1", "c/1", "d/1"]);
    const sorted = route(
      { routeId: "r", features: features(), shortcuts: parseShortcuts("@sort=price hi").shortcuts },
      state,
      NOW,
    );
    // c and d cost the same: declared order decides (not d's faster first token), and b's `order` ranks nothing.
    assert.deepEqual(keys(sorted), ["c/1", "d/1", "b/1", "a/1"]);
    assert.equal(sorted.trace.winner, "c/1: first in declared order (sortBy config) at equal price");
    assert.ok(sorted.trace.hints.includes("sorted by price, then declared order"));
  });

  it("says which preferences rank nothing: order and sort on a sortBy config route, a sort the route's sortBy overrides", () => {
    const declared = snapshot({
      r: { sortBy: "config", preferences: { order: ["b"], sort: "price" }, targets: targets("a/1", "b/1") },
    });
    const plain = route({ routeId: "r", features: features() }, declared, NOW);
    assert.deepEqual(keys(plain), ["a/1", "b/1"]);
    assert.ok(
      plain.trace.hints.includes(
        'provider preferences: order: b; sort: price (order and sort unused: route r keeps its declared order (sortBy "config"))',
      ),
      plain.trace.hints.join("; "),
    );
    // A prompt's @sort= does rank such a route: only `order` is unused then.
    const prompted = route(
      { routeId: "r", features: features(), shortcuts: parseShortcuts("@sort=latency hi").shortcuts },
      declared,
      NOW,
    );
    assert.ok(
      prompted.trace.hints.includes(
        'provider preferences: order: b; sort: latency (order unused: route r keeps its declared order (sortBy "config"))',
      ),
      prompted.trace.hints.join("; "),
    );
    const byLatency = snapshot({ r: { sortBy: "latency", preferences: { sort: "price" }, targets: targets("a/1") } });
    const hints = route({ routeId: "r", features: features() }, byLatency, NOW).trace.hints;
    assert.ok(
      hints.includes("provider preferences: sort: price (sort unused: route r is sorted by latency (sortBy))"),
      hints.join("; "),
    );
  });

  it("sorts by price with @sort=price, unknown prices last", () => {
    const state = snapshot({ r: { targets: targets("a/1", "b/1", "c/1") } });
    state.models["b/1"] = facts({ pricing: { input: 3, output: 15 } });
    state.models["c/1"] = facts({ pricing: { input: 0.3, output: 1 } });
    const decision = route(
      { routeId: "r", features: features(), shortcuts: parseShortcuts("@sort=price hi").shortcuts },
      state,
      NOW,
    );
    assert.deepEqual(keys(decision), ["c/1", "b/1", "a/1"]);
    assert.ok(decision.candidates[0].estimatedCostUsd! < decision.candidates[1].estimatedCostUsd!);
  });
});
