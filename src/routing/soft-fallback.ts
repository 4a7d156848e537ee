// Skipped targets and the fallback on soft exclusions (rules, budgets) when no target is eligible: route()'s
// bookkeeping for targets it does not rank normally.
import type { TargetConfig } from "../config/schema.ts";
import { everyTargetOf, isDirectModel } from "./direct-model.ts";
import type { RankEntry } from "./rank.ts";
import { CANDIDATE_NOTE, type Candidate, type Decision, type SkippedTarget, type SkipReason } from "./types.ts";

/** A target that passed the hard checks: ranked if eligible, held back with `skip` for a soft reason. */
export interface Pending {
  candidate: Candidate;
  entry: RankEntry;
  budgetBlocked?: string;
  /** Blocked because the spend cannot be read now, not because it is over the limit. */
  spendUnknown?: boolean;
  skip?: SkippedTarget;
}

export function skippedTarget(
  target: TargetConfig,
  key: string,
  label: string,
  reason: SkipReason,
  detail: string,
  until?: number,
): SkippedTarget {
  const entry: SkippedTarget = { key, provider: target.provider, modelId: target.modelId, label, reason, detail };
  if (until !== undefined) entry.until = until;
  return entry;
}

export function skipTarget(
  decision: Decision,
  target: TargetConfig,
  key: string,
  label: string,
  reason: SkipReason,
  detail: string,
  until?: number,
): void {
  decision.skipped.push(skippedTarget(target, key, label, reason, detail, until));
}

/**
 * A hard budget refuses the request: the budgeted targets named with their budgets, and any other target of the route
 * with the reason it was left out, so the budget is blamed only for the targets it stopped.
 */
export function overBudgetText(
  routeId: string,
  overBudget: string[],
  others: ReadonlyArray<{ key: string; detail: string }>,
): string {
  const advice = 'Raise the budget or set budgets.policy to "soft".';
  if (others.length === 0)
    return `auto-router: ${everyTargetOf(routeId)} is over budget and the budget policy is hard: ${overBudget.join("; ")}. ${advice}`;
  const left = others.map((other) => `${other.key}: ${other.detail}`).join("; ");
  return `auto-router: the targets of route ${routeId} left for this request are over budget and the budget policy is hard: ${overBudget.join("; ")}; the others were left out for other reasons: ${left}. ${advice}`;
}

/** Skip reasons that pass with time: a target skipped for one of them may serve the same request a little later. */
const PASSING_REASONS: ReadonlySet<SkipReason> = new Set(["cooldown", "circuit-open", "unhealthy", "quota"]);

/** Every remaining target was skipped for soft reasons only: apply the configured budget policy. */
export function fallBack(decision: Decision, soft: Pending[], policy: "soft" | "hard"): Pending[] {
  const usable = policy === "soft" ? soft : soft.filter((item) => !item.budgetBlocked);
  for (const item of soft) if (!usable.includes(item) && item.skip) decision.skipped.push(item.skip);
  // A target that is only resting is no reason to refuse: the request waits for it or is told when it is back, with
  // the budget among the reasons (never "every target is over budget", which is not so).
  if (usable.length === 0 && decision.skipped.some((skipped) => PASSING_REASONS.has(skipped.reason))) return [];
  if (usable.length === 0) {
    const overBudget = [...new Set(soft.map((item) => `${item.candidate.provider} (${item.budgetBlocked})`))];
    // A target whose spend is only unknown may be under its limit once the spend can be read again.
    const spendUnknown = soft.some((item) => item.spendUnknown);
    // The targets left out before the budget was looked at (the prompt's @ignore, no credentials...), with their own
    // reasons: the budget is not why they did not serve.
    const others = decision.skipped.filter((skipped) => !soft.some((item) => item.skip === skipped));
    decision.refusal = spendUnknown
      ? `auto-router: ${isDirectModel(decision.routeId) ? `model ${decision.routeId} cannot` : `no target of route ${decision.routeId} can`} be checked against its hard budget now: ${overBudget.join("; ")}. Retry once the team store answers again, or set state.onStoreDown to "local" to check against this machine's view.`
      : overBudgetText(decision.routeId, overBudget, others);
    decision.refusalKind = spendUnknown ? "spend-unknown" : "over-budget";
    return [];
  }
  // What left the targets out, the budget-blocked ones a hard policy keeps out included.
  const reasons = [...new Set(soft.map((item) => item.skip?.reason))];
  const byBudget = reasons.includes("budget");
  decision.trace.fallbackBy = byBudget ? (reasons.length > 1 ? ["rule", "budget"] : ["budget"]) : ["rule"];
  // Targets skipped before (a used-up quota, a cooldown) are named: "every target" alone would say they were not.
  const hardReasons = [
    ...new Set(
      decision.skipped.filter((skipped) => !soft.some((item) => item.skip === skipped)).map((item) => item.reason),
    ),
  ];
  const every = hardReasons.length > 0 ? `every target not skipped (${hardReasons.join(", ")})` : "every target";
  // Rules alone: the budget policy decided nothing, so the rules are named, not it.
  const rules = [...new Set(soft.map((item) => item.skip?.detail))].join("; ");
  decision.trace.fallback = byBudget
    ? `${every} was excluded by soft reasons (${reasons.join(" and ")}); budget policy ${policy}: routing on ${usable.length} of them in declared order`
    : `${every} was left out by policy rules (${rules}), and rules never leave a route without a target: routing on ${usable.length} of them in declared order`;
  for (const item of usable) {
    if (item.skip) item.candidate.warnings.push(`${CANDIDATE_NOTE.fallback}${item.skip.detail}`);
    item.candidate.reasons.push("fallback after soft exclusion");
  }
  return usable.sort((a, b) => a.candidate.declaredIndex - b.candidate.declaredIndex);
}
