// The chaos suite's ground truth: for every prompt, the fault each target will inject (drawn from the seed before
// anything runs), whether the prompt will be aborted, and what the router must therefore serve. The expectation is
// derived from the router's own recorded candidate order, so a target legitimately skipped (cooling down, breaker
// open) is not held against it, while a healthy target it did try must be the one that served.
import { ANSWERING_FAULTS, FAULT_WEIGHTS, type Fault } from "./chaos-faults.ts";
import type { SeededRandom } from "./seeded-random.ts";

export interface PromptPlan {
  index: number;
  /** Target key (provider/model) -> fault for every call of this prompt to it. */
  faults: Record<string, Fault>;
  abort: boolean;
  /** Delay after the first text before session.abort(). */
  abortDelayMs: number;
}

export const ABORT_SHARE = 0.05;
export const MAX_ABORT_DELAY_MS = 60;

export function planPrompts(random: SeededRandom, count: number, targets: string[]): PromptPlan[] {
  return Array.from({ length: count }, (_, index) => {
    const faults: Record<string, Fault> = {};
    for (const target of targets) faults[target] = random.weighted(FAULT_WEIGHTS);
    const abort = random.chance(ABORT_SHARE);
    return { index, faults, abort, abortDelayMs: random.integer(0, MAX_ABORT_DELAY_MS) };
  });
}

export type Expectation =
  | { kind: "served"; target: string }
  | { kind: "failed-after-commit"; target: string }
  | { kind: "no-healthy-target" };

/**
 * Walks the candidates in the order the router listed them (every decision of the request, in order): the first
 * answering target must serve; a target that drops after text ends the request there; if neither comes up, no
 * healthy target was available to this request.
 */
export function expectedOutcome(plan: PromptPlan, candidateOrder: string[]): Expectation {
  for (const target of candidateOrder) {
    const fault = plan.faults[target];
    if (fault === undefined) continue;
    if (ANSWERING_FAULTS.has(fault)) return { kind: "served", target };
    if (fault === "drop-after-text") return { kind: "failed-after-commit", target };
  }
  return { kind: "no-healthy-target" };
}

/** p50 / p90 / p99 / max of a list of numbers (nearest rank), for printing only. */
export function percentiles(values: number[]): { p50: number; p90: number; p99: number; max: number } {
  const sorted = [...values].sort((left, right) => left - right);
  const at = (share: number) =>
    sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)]!;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted.at(-1) ?? 0 };
}
