// Windows that only some models of a provider draw on (Anthropic's weekly Opus and Sonnet limits, a Gemini CLI
// bucket per model): they pace those models and no other; the provider-wide windows pace every model.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { providerQuotaStatus, quotaStateSchema, routedModels } from "../../src/quota/uvi-plugin.ts";
import { formatDecision } from "../../src/routing/explain.ts";
import { route } from "../../src/routing/route.ts";
import type { ModelFacts, RequestFeatures, RoutingSnapshot } from "../../src/routing/types.ts";
import { assessQuota, modelQuotaStatus, type QuotaWindow } from "../../src/routing/uvi.ts";
import { bucketModelId, geminiQuotaWindows } from "../../src/quota/usage-sources.ts";
import { routeInOrder } from "../helpers/agent-dir.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const NOW = Date.parse("2026-03-04T12:00:00Z");

/** A 7 day window `used` consumed with 4 days left (42.9% elapsed, shown as 42%). */
const weekly = (name: string, used: number, models?: QuotaWindow["models"]): QuotaWindow => ({
  name,
  usedFraction: used,
  windowMs: 7 * DAY_MS,
  resetsAt: NOW + 4 * DAY_MS,
  source: "usage-api",
  ...(models ? { models } : {}),
});
/** Anthropic's usage API with the weekly Opus limit used up and Sonnet's barely touched. */
const ANTHROPIC = [
  { name: "5h", usedFraction: 0.1, windowMs: 5 * HOUR_MS, resetsAt: NOW + 3 * HOUR_MS, source: "usage-api" },
  weekly("7d", 0.2),
  weekly("7d opus", 1, { family: "opus" }),
  weekly("7d sonnet", 0.05, { family: "sonnet" }),
];

describe("quota windows scoped to models", () => {
  it("keeps a model-scoped window out of the provider-wide assessment", () => {
    const quota = assessQuota(ANTHROPIC, NOW)!;
    assert.equal(quota.shared?.level, "ok");
    assert.deepEqual(
      quota.shared?.windows.map((window) => window.name),
      ["5h", "7d"],
    );
    assert.deepEqual(
      quota.scoped.map((scoped) => [scoped.label, scoped.assessment.level]),
      [
        ["opus models", "critical"],
        ["sonnet models", "ok"],
      ],
    );
  });

  it("paces a model by the provider-wide windows plus the windows scoped to it", () => {
    const quota = assessQuota(ANTHROPIC, NOW)!;
    const opus = modelQuotaStatus(quota, "claude-opus-4-1")!;
    assert.equal(opus.level, "critical");
    assert.match(opus.detail, /^7d opus window 100% used \(opus models\) at 42% elapsed/);
    assert.equal(opus.window, "7d opus", "the fullest window, for reserves");
    const sonnet = modelQuotaStatus(quota, "claude-sonnet-4-5")!;
    assert.equal(sonnet.level, "ok");
    assert.equal(sonnet.window, "7d", "its fullest window is the account's 7 day one, not Opus'");
    assert.equal(modelQuotaStatus(quota, "claude-haiku-4-5"), undefined, "no scope covers it: the provider's applies");
  });

  it("lets a provider-wide window that is worse than a model's own still decide for that model", () => {
    const quota = assessQuota(
      [{ ...ANTHROPIC[0]!, usedFraction: 1 }, weekly("7d sonnet", 0.05, { family: "sonnet" })],
      NOW,
    )!;
    assert.equal(modelQuotaStatus(quota, "claude-sonnet-4-5")?.level, "critical");
    assert.match(modelQuotaStatus(quota, "claude-sonnet-4-5")!.detail, /^5h window 100% used at/);
  });

  it("matches a Gemini bucket to its exact model: a used-up flash bucket does not pace flash-lite", () => {
    const bucket = (id: string, used: number): QuotaWindow => ({
      name: `${id} REQUESTS`,
      usedFraction: used,
      windowMs: DAY_MS,
      resetsAt: NOW + 12 * HOUR_MS,
      models: { id },
    });
    const quota = assessQuota([bucket("gemini-2.5-flash", 1), bucket("gemini-2.5-flash-lite", 0.1)], NOW)!;
    assert.equal(quota.shared, undefined);
    assert.equal(modelQuotaStatus(quota, "gemini-2.5-flash")?.level, "critical");
    assert.equal(modelQuotaStatus(quota, "gemini-2.5-flash-lite")?.level, "ok");
    assert.equal(modelQuotaStatus(quota, "gemini-2.5-pro"), undefined);
  });

  it("paces the routed model by its _vertex bucket too, and never a model whose id only starts the same", () => {
    assert.equal(bucketModelId("gemini-2.5-pro_vertex"), "gemini-2.5-pro");
    assert.equal(bucketModelId("gemini-2.5-pro-preview_vertex"), "gemini-2.5-pro-preview");
    assert.equal(bucketModelId("gemini-2.5-pro"), "gemini-2.5-pro");
    assert.equal(bucketModelId("_vertex"), "_vertex", "a suffix alone names no model");
    const resetTime = new Date(NOW + 18 * HOUR_MS).toISOString();
    const windows = geminiQuotaWindows(
      {
        buckets: [
          { modelId: "gemini-2.5-pro", tokenType: "REQUESTS", remainingFraction: 0.9, resetTime },
          { modelId: "gemini-2.5-pro_vertex", tokenType: "REQUESTS", remainingFraction: 0.02, resetTime },
          { modelId: "gemini-2.5-flash-preview_vertex", tokenType: "REQUESTS", remainingFraction: 0, resetTime },
          { modelId: "gemini-2.5-flash", tokenType: "REQUESTS", remainingFraction: 0.8, resetTime },
        ],
      },
      NOW,
    );
    assert.deepEqual(
      windows.map((window) => [window.name, window.models]),
      [
        ["gemini-2.5-pro REQUESTS", { id: "gemini-2.5-pro" }],
        ["gemini-2.5-pro_vertex REQUESTS", { id: "gemini-2.5-pro" }],
        ["gemini-2.5-flash-preview_vertex REQUESTS", { id: "gemini-2.5-flash-preview" }],
        ["gemini-2.5-flash REQUESTS", { id: "gemini-2.5-flash" }],
      ],
    );
    const quota = assessQuota(windows, NOW)!;
    const pro = modelQuotaStatus(quota, "gemini-2.5-pro")!;
    assert.equal(pro.level, "critical", "98% of a day's bucket used a quarter into it");
    assert.match(pro.detail, /^gemini-2\.5-pro_vertex REQUESTS window 98% used \(gemini-2\.5-pro only\)/);
    assert.equal(modelQuotaStatus(quota, "gemini-2.5-flash")?.level, "ok", "not paced by flash-preview's bucket");
    assert.equal(modelQuotaStatus(quota, "gemini-2.5-flash-preview")?.level, "critical");
    assert.equal(modelQuotaStatus(quota, "gemini-2.5-pro-preview"), undefined, "no bucket of its own");
  });

  it("loads readings persisted before windows had a scope, and keeps the scope of new ones", () => {
    const old = { name: "7d opus", usedFraction: 1, windowMs: 7 * DAY_MS, resetsAt: NOW + DAY_MS, source: "usage-api" };
    const parsed = quotaStateSchema.parse({
      v: 1,
      observed: {},
      readings: {
        "anthropic-usage": {
          windows: [old, { ...old, name: "7d sonnet", models: { family: "sonnet" } }],
          fetchedAt: NOW,
        },
      },
    });
    const windows = parsed.readings!["anthropic-usage"]!.windows;
    assert.deepEqual(windows[0], old, "an old reading is read as it was: a provider-wide window");
    assert.deepEqual(windows[1]!.models, { family: "sonnet" });
  });
});

describe("route() with a model-scoped window", () => {
  const features: RequestFeatures = {
    estimatedTokens: 100,
    contextClass: "short",
    hasImages: false,
    hasTools: false,
    intent: "general",
    intentConfidence: 0.5,
  };
  const facts = (): ModelFacts => ({ resolvable: true, hasCredentials: true, usesOAuth: true });
  const snapshot = (config: RoutingSnapshot["config"], windows: QuotaWindow[] = ANTHROPIC): RoutingSnapshot => ({
    config,
    models: { "anthropic/claude-opus-4-1": facts(), "anthropic/claude-sonnet-4-5": facts() },
    cooldowns: {},
    targets: {},
    // As the quota plugin hands it to route(): computed once per provider and routed model.
    providers: { anthropic: providerQuotaStatus(assessQuota(windows, NOW)!, routedModels(config).get("anthropic")!) },
    budgetPolicy: "soft",
    quotaHard: false,
    timeZone: "UTC",
  });

  it("skips the Opus target with the Opus window named and serves the Sonnet one with no quota note", () => {
    const config = { routes: { r: routeInOrder("anthropic/claude-opus-4-1", "anthropic/claude-sonnet-4-5") } };
    const decision = route({ routeId: "r", features }, snapshot(config), NOW);
    assert.deepEqual(
      decision.candidates.map((candidate) => candidate.key),
      ["anthropic/claude-sonnet-4-5"],
    );
    assert.deepEqual(
      decision.candidates[0]!.reasons.filter((reason) => reason.includes("quota")),
      [],
    );
    assert.deepEqual(
      decision.skipped.map((skipped) => [skipped.key, skipped.reason]),
      [["anthropic/claude-opus-4-1", "quota"]],
    );
    assert.match(decision.skipped[0]!.detail, /^quota critical: 7d opus window 100% used \(opus models\)/);
    assert.match(formatDecision(decision).join("\n"), /7d opus window 100% used \(opus models\)/);
  });

  it("keeps a quota reserve to the windows of the target's own model", () => {
    const config = {
      quota: { reserve: { anthropic: { percent: 15, for: ["reasoning" as const] } } },
      routes: { r: routeInOrder("anthropic/claude-opus-4-1", "anthropic/claude-sonnet-4-5") },
    };
    // Opus' weekly window 86% used with a day left: on pace (ok), but past the reserve's line of 85%.
    const windows = [weekly("7d", 0.2), { ...weekly("7d opus", 0.86, { family: "opus" }), resetsAt: NOW + DAY_MS }];
    const decision = route({ routeId: "r", features }, snapshot(config, windows), NOW);
    assert.deepEqual(
      decision.candidates.map((candidate) => candidate.key),
      ["anthropic/claude-sonnet-4-5"],
    );
    assert.deepEqual(
      decision.skipped.map((skipped) => [skipped.key, skipped.detail]),
      [["anthropic/claude-opus-4-1", "reserved for reasoning: 7d opus window 86% used, last 15% kept"]],
    );
  });
});
