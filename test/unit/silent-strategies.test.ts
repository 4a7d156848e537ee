import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseConfigText } from "../../src/config/parse-config.ts";
import {
  dailyAboveMonthly,
  findSilentStrategies,
  type SilentStrategyInput,
} from "../../src/config/silent-strategies.ts";
import type { ModelFacts } from "../../src/routing/types.ts";

const config = (value: unknown) => {
  const parsed = parseConfigText(JSON.stringify(value));
  assert.deepEqual(parsed.issues, []);
  return parsed.config!;
};
const facts = (usesOAuth: boolean): ModelFacts => ({ resolvable: true, hasCredentials: true, usesOAuth }) as ModelFacts;
const ROUTES = {
  routes: {
    main: {
      targets: [
        { provider: "anthropic", modelId: "claude" },
        { provider: "moonshotai", modelId: "kimi", billing: "subscription" },
        { provider: "deepseek", modelId: "v4" },
      ],
    },
  },
};
const input = (
  overrides: Partial<SilentStrategyInput> & { config: SilentStrategyInput["config"] },
): SilentStrategyInput => ({
  models: { "anthropic/claude": facts(true), "deepseek/v4": facts(false) },
  quotaPacing: { enabled: true, hard: false },
  quotaSources: new Set(["anthropic", "openai-codex", "google-gemini-cli"]),
  ...overrides,
});
const codes = (overrides: Partial<SilentStrategyInput> & { config: SilentStrategyInput["config"] }) =>
  findSilentStrategies(input(overrides)).map((finding) => finding.code);

describe("findSilentStrategies", () => {
  it("finds nothing in a config where every strategy can act", () => {
    assert.deepEqual(
      codes({
        config: config({
          routes: {
            main: {
              targets: [
                { provider: "anthropic", modelId: "claude" },
                { provider: "deepseek", modelId: "v4" },
              ],
            },
          },
          budgets: { providers: { deepseek: { daily: 1 } } },
        }),
      }),
      [],
    );
  });

  it("says a budget over subscriptions alone never applies: their answers cost $0 of it", () => {
    const budgeted = (budgets: unknown) => config({ ...ROUTES, budgets: { providers: budgets } });
    const [finding] = findSilentStrategies(input({ config: budgeted({ MoonshotAI: { daily: 5 } }) })).filter((f) =>
      f.code.startsWith("budget-"),
    );
    assert.deepEqual(
      [finding?.code, finding?.message, finding?.path],
      [
        "budget-subscriptions:MoonshotAI",
        "budgets.providers.MoonshotAI is set, but every target billing to MoonshotAI is a subscription, whose answers cost $0 of a budget: the budget never applies",
        "budgets.providers.MoonshotAI",
      ],
    );
    // anthropic/claude is a login (OAuth): a subscription too. A per-token target beside it is what a budget holds.
    assert.ok(codes({ config: budgeted({ anthropic: { monthly: 5 } }) }).includes("budget-subscriptions:anthropic"));
    assert.ok(!codes({ config: budgeted({ deepseek: { monthly: 5 } }) }).some((code) => code.startsWith("budget-")));
  });

  it("names a subscription provider quota pacing cannot read, but not a per-token one", () => {
    assert.deepEqual(codes({ config: config(ROUTES) }), ["quota-no-source:moonshotai"]);
    assert.deepEqual(codes({ config: config(ROUTES), quotaPacing: { enabled: false, hard: false } }), []);
  });

  it("says such a provider is paced from its first rate-limit headers on, not that it is never paced", () => {
    const [finding] = findSilentStrategies(input({ config: config(ROUTES) }));
    assert.equal(
      finding?.message,
      "quota pacing is on, but moonshotai has no quota source yet (no usage API, and no rate-limit headers seen on its answers): it is not paced until its first rate-limit headers arrive",
    );
  });

  it("says a quota reserve never applies while quota pacing is off", () => {
    const reserved = config({ ...ROUTES, quota: { reserve: { anthropic: { percent: 15, for: ["reasoning"] } } } });
    assert.deepEqual(codes({ config: reserved, quotaPacing: { enabled: false, hard: false } }), [
      "reserve-unpaced:anthropic",
    ]);
    assert.deepEqual(codes({ config: reserved }), ["quota-no-source:moonshotai"]);
  });

  it("says a quota reserve for a provider no target bills to never applies, and names the one meant", () => {
    const reserved = config({
      ...ROUTES,
      quota: { reserve: { anthropc: { percent: 15, for: ["reasoning"] }, DeepSeek: { percent: 10, for: ["swe"] } } },
    });
    const found = findSilentStrategies(input({ config: reserved })).filter((f) => f.code.startsWith("reserve-"));
    assert.deepEqual(
      found.map((f) => [f.code, f.message, f.path]),
      [
        [
          "reserve-unused:anthropc",
          "quota.reserve.anthropc is set, but no target bills to anthropc: the reserve never applies; did you mean 'anthropic'?",
          "quota.reserve.anthropc",
        ],
      ],
    );
  });

  it("does not say hard mode can exclude nothing when a per-token provider's monthly budget window is a quota source", () => {
    // The UVI plugin lists a provider with a monthly budget among its quota sources: hard mode excludes it when stressed.
    const found = codes({
      config: config(ROUTES),
      quotaPacing: { enabled: true, hard: true },
      quotaSources: new Set(["deepseek"]),
    });
    assert.ok(!found.includes("quota-hard-nothing"), found.join());
  });

  it("says hard mode can exclude nothing when no target has a quota source", () => {
    const found = codes({
      config: config(ROUTES),
      quotaPacing: { enabled: true, hard: true },
      quotaSources: new Set(),
    });
    assert.ok(found.includes("quota-hard-nothing"), found.join());
    assert.ok(
      !codes({ config: config(ROUTES), quotaPacing: { enabled: true, hard: true } }).includes("quota-hard-nothing"),
    );
  });

  it("names rules and preferences that point at providers or targets no route has, not aliases (they still switch)", () => {
    const found = codes({
      config: config({
        ...ROUTES,
        policyRules: [
          { type: "prefer-provider", providers: ["Anthropic"] },
          { id: "x", type: "demote-target", targets: ["openai/gpt-9"] },
        ],
        preferences: { order: ["groq"] },
        aliases: { fast: "main", gpt: "openai/gpt-9", claude: "anthropic/claude" },
      }),
    });
    assert.deepEqual(
      found.filter((code) => code.startsWith("unknown")),
      ["unknown-target:policyRules[1] (x):openai/gpt-9", "unknown-provider:preferences.order:groq"],
    );
  });

  it("says where in the routes file each unknown name is written, for the warning's line and column", () => {
    const findings = findSilentStrategies({
      config: config({
        ...ROUTES,
        policyRules: [{ id: "x", type: "exclude-provider", providers: ["anthropic", "groq"] }],
        budgets: { providers: { openai: { daily: 1 } } },
      }),
      models: {},
      quotaPacing: { enabled: false, hard: false },
      quotaSources: new Set(),
    });
    assert.deepEqual(
      findings.map((finding) => finding.path),
      ["policyRules[0].providers[1]", "budgets.providers.openai"],
    );
  });

  it("names the closest provider or target a rule's mistyped name was meant to be, and the provider/modelId form", () => {
    const messages = findSilentStrategies({
      config: config({
        ...ROUTES,
        policyRules: [
          { id: "ex", type: "exclude-provider", providers: ["antropic", "groq"] },
          { id: "bare", type: "demote-target", targets: ["deepseek"] },
          { id: "typo", type: "demote-target", targets: ["deepseek/v5", "openai/gpt-9"] },
        ],
      }),
      models: {},
      quotaPacing: { enabled: false, hard: false },
      quotaSources: new Set(),
    }).map((finding) => finding.message);
    assert.deepEqual(messages, [
      `policyRules[0] (ex) names the provider "antropic", which no route has: it never matches anything; did you mean 'anthropic'?`,
      'policyRules[0] (ex) names the provider "groq", which no route has: it never matches anything',
      'policyRules[1] (bare) names the target "deepseek", but a target is written provider/modelId (e.g. "deepseek/v4"): it never matches anything',
      `policyRules[2] (typo) names the target "deepseek/v5", which no route has: it never matches anything; did you mean 'deepseek/v4'?`,
      'policyRules[2] (typo) names the target "openai/gpt-9", which no route has: it never matches anything',
    ]);
  });

  it("names a budget for a provider no target bills to, counting authProvider", () => {
    const withAuth = {
      routes: { main: { targets: [{ provider: "openrouter", modelId: "x", authProvider: "my-router" }] } },
    };
    assert.deepEqual(
      codes({
        config: config({ ...withAuth, budgets: { providers: { "my-router": { daily: 1 }, openai: { daily: 1 } } } }),
      }),
      ["budget-unused:openai"],
    );
  });
});

describe("a daily limit above the monthly one", () => {
  it("is said to never block, and a daily limit at or below the monthly one, or either alone, is not", () => {
    assert.equal(
      dailyAboveMonthly({ daily: 2, monthly: 1 }),
      "$2.00 a day is more than the monthly limit of $1.00, so it never blocks anything (a typo of one of them?)",
    );
    for (const limits of [{ daily: 1, monthly: 1 }, { daily: 0.5, monthly: 1 }, { daily: 2 }, { monthly: 1 }])
      assert.equal(dailyAboveMonthly(limits), undefined, JSON.stringify(limits));
  });
});
