import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RouteConfig } from "../../src/config/schema.ts";
import { formatDecision } from "../../src/routing/explain.ts";
import { checkReserve } from "../../src/routing/reserve.ts";
import { route } from "../../src/routing/route.ts";
import { parseShortcuts } from "../../src/routing/shortcuts.ts";
import { assessQuota, quotaStatus } from "../../src/routing/uvi.ts";
import type { ModelFacts, RequestFeatures, RoutingSnapshot } from "../../src/routing/types.ts";

const NOW = Date.parse("2026-03-04T12:00:00Z");
const RESERVE = { percent: 15, for: ["reasoning" as const] };
const quota = (usedFraction: number) => ({
  level: "ok" as const,
  uvi: 1,
  detail: "5h 1.00",
  usedFraction,
  window: "5h",
});

describe("checkReserve", () => {
  it("does nothing below the line or without a window", () => {
    assert.equal(checkReserve(RESERVE, quota(0.84), undefined), undefined);
    assert.equal(checkReserve(RESERVE, undefined, undefined), undefined);
    assert.equal(checkReserve(undefined, quota(0.99), undefined), undefined);
  });

  it("excludes other requests once usage crosses the line, and lets the reserved tier through with a reason", () => {
    assert.deepEqual(checkReserve(RESERVE, quota(0.85), "swe"), {
      kind: "excluded",
      detail: "reserved for reasoning: 5h window 85% used, last 15% kept",
    });
    assert.deepEqual(checkReserve(RESERVE, quota(0.9), undefined)?.kind, "excluded");
    assert.deepEqual(checkReserve(RESERVE, quota(0.9), "reasoning"), {
      kind: "allowed",
      reason: "uses the reserve for reasoning (5h window 90% used, last 15% kept)",
    });
  });

  it("keeps an interactive reserve for typed prompts of any tier, and only for them", () => {
    const typed = { percent: 20, for: ["interactive" as const] };
    assert.deepEqual(checkReserve(typed, quota(0.85), "swe", false), {
      kind: "excluded",
      detail: "reserved for interactive prompts: 5h window 85% used, last 20% kept",
    });
    assert.deepEqual(checkReserve(typed, quota(0.85), "swe", true), {
      kind: "allowed",
      reason: "uses the reserve for interactive prompts (5h window 85% used, last 20% kept)",
    });
    const both = { percent: 20, for: ["reasoning" as const, "interactive" as const] };
    assert.equal(checkReserve(both, quota(0.85), "reasoning", false)?.kind, "allowed");
    assert.match(
      (checkReserve(both, quota(0.85), undefined, false) as { detail: string }).detail,
      /^reserved for reasoning, interactive prompts:/,
    );
  });
});

describe("route: quota reserves", () => {
  const features: RequestFeatures = {
    estimatedTokens: 2_000,
    contextClass: "short",
    hasImages: false,
    hasTools: false,
    intent: "general",
    intentConfidence: 0.5,
  };
  const routes: Record<string, RouteConfig> = {
    r: {
      targets: [
        { provider: "anthropic", modelId: "opus" },
        { provider: "deepseek", modelId: "v4" },
      ],
    },
  };
  const models: Record<string, ModelFacts> = {
    "anthropic/opus": { resolvable: true, hasCredentials: true, reasoning: true },
    "deepseek/v4": { resolvable: true, hasCredentials: true, reasoning: true },
  };
  const snapshot: RoutingSnapshot = {
    config: { routes, quota: { reserve: { anthropic: RESERVE } } },
    models,
    cooldowns: {},
    targets: {},
    providers: { anthropic: { quota: quota(0.9) } },
    budgetPolicy: "soft",
    quotaHard: false,
    timeZone: "UTC",
  };

  it("skips the provider for an ordinary prompt and explain says what it is reserved for", () => {
    const decision = route({ routeId: "r", features }, snapshot, NOW);
    assert.deepEqual(
      decision.candidates.map((c) => c.key),
      ["deepseek/v4"],
    );
    assert.match(
      formatDecision(decision).join("\n"),
      / - anthropic\/opus: quota - reserved for reasoning: 5h window 90% used, last 15% kept/,
    );
  });

  it("skips it until its fullest window resets, so a wait for the reset and Retry-After can read when it is back", () => {
    const windows = [
      { name: "5h", usedFraction: 0.9, windowMs: 5 * 3_600_000, resetsAt: NOW + 600_000 },
      { name: "7d", usedFraction: 0.5, windowMs: 7 * 24 * 3_600_000, resetsAt: NOW + 3 * 24 * 3_600_000 },
    ];
    const status = quotaStatus([assessQuota(windows, NOW)!.shared!]);
    assert.equal(status.windowResetsAt, NOW + 600_000);
    const paced = { ...snapshot, providers: { anthropic: { quota: status } } };
    const skipped = route({ routeId: "r", features }, paced, NOW).skipped.find((s) => s.key === "anthropic/opus");
    assert.equal(skipped?.reason, "quota");
    assert.equal(skipped?.until, NOW + 600_000);
  });

  it("applies a reserve written in another case than the target's provider, as budgets match provider names", () => {
    const spelled = { ...snapshot, config: { routes, quota: { reserve: { Anthropic: RESERVE } } } };
    const decision = route({ routeId: "r", features }, spelled, NOW);
    assert.deepEqual(
      decision.candidates.map((c) => c.key),
      ["deepseek/v4"],
    );
  });

  it("keeps it for the reserved tier", () => {
    const decision = route(
      { routeId: "r", features, shortcuts: parseShortcuts("@reasoning prove it").shortcuts },
      snapshot,
      NOW,
    );
    assert.equal(decision.candidates[0]?.key, "anthropic/opus");
    assert.match(decision.candidates[0]!.reasons.join("; "), /uses the reserve for reasoning/);
  });
});
