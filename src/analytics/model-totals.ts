// Per model (served target): attempts, outcomes and the latency, first-token and cost distributions the session
// stats report (percentiles plus fixed buckets), folded in one attempt result at a time.
import type { AttemptCost } from "./attempt-costs.ts";
import { BucketCounter, ValueSample } from "./percentiles.ts";

export const LATENCY_BUCKET_BOUNDS_MS = [1_000, 2_000, 5_000, 10_000, 30_000, 60_000] as const;
export const COST_BUCKET_BOUNDS_USD = [0.001, 0.01, 0.05, 0.1, 0.5, 1] as const;

export interface Distribution {
  count: number;
  p50?: number;
  p90?: number;
  buckets: Array<{ label: string; count: number }>;
}

export interface ModelRow {
  model: string;
  attempts: number;
  success: number;
  failed: number;
  latencyMs: Distribution;
  ttftMs: Distribution;
  costUsd: Distribution & { total: number };
  /** Attempts whose usage or cost was estimated. */
  estimated: number;
}

export interface ModelTotals {
  attempts: number;
  success: number;
  failed: number;
  estimated: number;
  latency: ValueSample;
  ttft: ValueSample;
  cost: ValueSample;
  latencyBuckets: BucketCounter;
  ttftBuckets: BucketCounter;
  costBuckets: BucketCounter;
}

export const newModelTotals = (): ModelTotals => ({
  attempts: 0,
  success: 0,
  failed: 0,
  estimated: 0,
  latency: new ValueSample(),
  ttft: new ValueSample(),
  cost: new ValueSample(),
  latencyBuckets: new BucketCounter(LATENCY_BUCKET_BOUNDS_MS),
  ttftBuckets: new BucketCounter(LATENCY_BUCKET_BOUNDS_MS),
  costBuckets: new BucketCounter(COST_BUCKET_BOUNDS_USD),
});

const msLabel = (value: number) => (value >= 1000 ? `${value / 1000}s` : `${value}ms`);
const usdLabel = (value: number) => `$${value}`;

function distribution(sample: ValueSample, buckets: BucketCounter, label: (value: number) => string): Distribution {
  const labels = buckets.labels(label);
  return {
    count: sample.count,
    p50: sample.percentile(50),
    p90: sample.percentile(90),
    buckets: labels.map((name, index) => ({ label: name, count: buckets.counts[index]! })),
  };
}

/**
 * One attempt: its result's outcome, and on success its latency and first-token time; its cost when known (as the
 * budget counted it, see attempt-costs.ts).
 */
export function addAttempt(totals: ModelTotals, attempt: AttemptCost): void {
  if (attempt.estimated) totals.estimated++;
  const cost = attempt.costUsd;
  if (cost !== undefined) {
    totals.cost.add(cost);
    totals.costBuckets.add(cost);
  }
  const result = attempt.result;
  if (!result) return;
  totals.attempts++;
  if (result.outcome === "success") {
    totals.success++;
    totals.latency.add(result.latencyMs);
    totals.latencyBuckets.add(result.latencyMs);
    if (result.ttftMs !== undefined) {
      totals.ttft.add(result.ttftMs);
      totals.ttftBuckets.add(result.ttftMs);
    }
  } else if (result.outcome !== "aborted") totals.failed++;
}

export function modelRow(model: string, totals: ModelTotals): ModelRow {
  return {
    model,
    attempts: totals.attempts,
    success: totals.success,
    failed: totals.failed,
    estimated: totals.estimated,
    latencyMs: distribution(totals.latency, totals.latencyBuckets, msLabel),
    ttftMs: distribution(totals.ttft, totals.ttftBuckets, msLabel),
    costUsd: { ...distribution(totals.cost, totals.costBuckets, usdLabel), total: totals.cost.sum },
  };
}
