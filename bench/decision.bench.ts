// route() latency for 10 targets and 20 rules, with a warm-up, against a baseline measured in the same run (a plain
// declared-order copy of the target list). Prints figures, never asserts on them (timings belong here, not in tests).
import { pathToFileURL } from "node:url";
import type { PolicyRule } from "../src/config/routing-schema.ts";
import type { RouteConfig } from "../src/config/schema.ts";
import { route } from "../src/routing/route.ts";
import { parseShortcuts } from "../src/routing/shortcuts.ts";
import { routeTargetKey, type ModelFacts, type RequestFeatures, type RoutingSnapshot } from "../src/routing/types.ts";

const WARM_UP_ITERATIONS = 20_000;
const MEASURED_ITERATIONS = 50_000;
const TARGET_COUNT = 10;
const RULE_COUNT = 20;
const NOW = Date.parse("2026-03-04T12:00:00Z");

function buildSnapshot(): RoutingSnapshot {
  const targets: RouteConfig["targets"] = [];
  const models: Record<string, ModelFacts> = {};
  for (let index = 0; index < TARGET_COUNT; index++) {
    const provider = `provider${index % 5}`;
    const modelId = `model-${index}`;
    targets.push({ provider, modelId, label: `Model ${index}` });
    models[`${provider}/${modelId}`] = {
      resolvable: true,
      hasCredentials: true,
      usesOAuth: index % 3 === 0,
      contextWindow: 200_000,
      maxTokens: 32_000,
      reasoning: index % 2 === 0,
      vision: true,
      tools: true,
      pricing: { input: 1 + index, output: 5 + index * 2 },
    };
  }
  const kinds: PolicyRule[] = [
    { type: "exclude-provider", providers: ["nobody"], when: { intent: "creative" } },
    { type: "prefer-provider", providers: ["provider2"], when: { minTokens: 1_000 } },
    {
      type: "exclude-provider",
      providers: ["provider4"],
      when: { timeWindow: { after: "22:00", before: "06:00", timeZone: "Europe/Berlin" } },
    },
    { type: "demote-target", when: { badRatingShareAbove: 0.4 } },
    {
      type: "force-constraint",
      constraint: { tools: true },
      when: { any: [{ intent: "code" }, { daysOfWeek: ["sat"] }] },
    },
  ];
  const policyRules: PolicyRule[] = [];
  for (let index = 0; index < RULE_COUNT; index++)
    policyRules.push({ ...kinds[index % kinds.length], id: `rule-${index}`, priority: index % 4 });
  const snapshot: RoutingSnapshot = {
    config: {
      routes: { bench: { targets, policyRules: policyRules.slice(0, RULE_COUNT / 2) } },
      policyRules: policyRules.slice(RULE_COUNT / 2),
    },
    models,
    cooldowns: { [routeTargetKey("bench", "provider1/model-1")]: { until: NOW + 10_000, kind: "rate_limit" } },
    targets: { "provider3/model-3": { ttftMs: 400, badRatingShare: 0.5 }, "provider0/model-5": { ttftMs: 900 } },
    providers: {
      provider0: { quota: { level: "surplus", detail: "UVI 0.4" } },
      provider2: { budget: { level: "warning", detail: "82% of daily" } },
    },
    budgetPolicy: "soft",
    quotaHard: false,
    timeZone: "UTC",
  };
  return snapshot;
}

const percentile = (sorted: number[], fraction: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))];

function measure(run: () => unknown): { p50: number; p99: number } {
  for (let index = 0; index < WARM_UP_ITERATIONS; index++) run();
  const samples = new Float64Array(MEASURED_ITERATIONS);
  for (let index = 0; index < MEASURED_ITERATIONS; index++) {
    const start = process.hrtime.bigint();
    run();
    samples[index] = Number(process.hrtime.bigint() - start) / 1_000;
  }
  const sorted = Array.from(samples).sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99) };
}

export async function runDecisionBench(): Promise<{ name: string; figures: Record<string, number>; lines: string[] }> {
  const snapshot = buildSnapshot();
  const features: RequestFeatures = {
    estimatedTokens: 12_000,
    contextClass: "medium",
    hasImages: false,
    hasTools: true,
    intent: "code",
    intentConfidence: 0.8,
  };
  const shortcuts = parseShortcuts("@sort=latency fix it").shortcuts;
  const request = { routeId: "bench", features, shortcuts };
  const declared = snapshot.config.routes.bench.targets;
  const baseline = measure(() =>
    declared.map((target) => ({ key: `${target.provider}/${target.modelId}`, label: target.label })),
  );
  const decision = measure(() => route(request, snapshot, NOW));
  const check = route(request, snapshot, NOW);
  const figures = {
    decisionP50Us: decision.p50,
    decisionP99Us: decision.p99,
    baselineP50Us: baseline.p50,
    baselineP99Us: baseline.p99,
    ratioP50: decision.p50 / Math.max(baseline.p50, 1e-3),
    candidates: check.candidates.length,
    skipped: check.skipped.length,
    rulesTraced: check.trace.rules.length,
  };
  const lines = [
    `decision: ${TARGET_COUNT} targets, ${RULE_COUNT} rules, ${MEASURED_ITERATIONS} runs after ${WARM_UP_ITERATIONS} warm-up`,
    `  route()          p50 ${decision.p50.toFixed(2)} us   p99 ${decision.p99.toFixed(2)} us   (goal p50 <= 10 us, p99 <= 50 us)`,
    `  declared copy    p50 ${baseline.p50.toFixed(2)} us   p99 ${baseline.p99.toFixed(2)} us   (baseline)`,
    `  ratio p50 route()/baseline: ${figures.ratioP50.toFixed(1)}x; ${figures.candidates} candidates, ${figures.skipped} skipped, ${figures.rulesTraced} rules traced`,
  ];
  return { name: "decision", figures, lines };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const result = await runDecisionBench();
  for (const line of result.lines) console.log(line);
}
