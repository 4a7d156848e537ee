// The active route's matched rules applied to the targets that reached them, one rule at a time in priority order.
// A rule that leaves targets out (exclude, require, force-billing) and, applied after the excluding rules before it,
// would leave no target at all yields to them: a rule of lower priority never undoes what a higher one decided. A
// rule that leaves every target out on its own (no rule before it excluded any) is applied, and the route falls back
// on its soft exclusions (soft-fallback.ts) as before.
import { type ConditionContext, evaluateCondition } from "./policy-rules.ts";
import type { ActiveRule, ActiveRules } from "./route-state.ts";
import { applyRule, excludesTargets, exclusionOf, type TargetView } from "./rule-effects.ts";

/** Applies the active rules to the targets in their order; `views` is in declared order and keeps it. */
export function applyRules(rules: ActiveRules, views: TargetView[], context: ConditionContext): void {
  // The excluding rules that left at least one target out so far.
  let decidedBy: string[] | undefined;
  for (let ruleIndex = 0; ruleIndex < rules.length; ruleIndex++) {
    const rule = rules[ruleIndex];
    if (!rule.perTarget && !anyLeft(views)) {
      // Nothing left to act on (the rules before it left every target out, or none reached the rules).
      rule.noTargetLeft = decidedBy ? decidedBy.slice() : [];
      continue;
    }
    if (decidedBy && excludesTargets(rule.scoped.rule.type) && wouldLeaveNone(rule, views, context)) {
      rule.yieldedTo = decidedBy.slice();
      if (rule.perTarget) for (const view of views) if (view.excludedBy === undefined) noteMatch(rule, view, context);
      continue;
    }
    let excluded = false;
    for (const view of views) {
      if (view.excludedBy !== undefined) continue;
      const why = rule.perTarget ? conditionFor(rule, view, context) : "";
      if (why === undefined || !applyRule(rule.scoped, ruleIndex, view)) continue;
      rule.acted = true;
      if (rule.perTarget) rule.matchedLabels.push(`${view.label} (${why})`);
      if (view.excludedBy !== undefined) excluded = true;
    }
    if (excluded) (decidedBy ??= []).push(rule.scoped.name);
  }
}

const anyLeft = (views: TargetView[]): boolean => views.some((view) => view.excludedBy === undefined);

/** True when the excluding rule would leave out every target the rules before it kept (and there is one). */
function wouldLeaveNone(rule: ActiveRule, views: TargetView[], context: ConditionContext): boolean {
  let remaining = 0;
  for (const view of views) {
    if (view.excludedBy !== undefined) continue;
    remaining++;
    if (rule.perTarget && conditionFor(rule, view, context) === undefined) return false;
    if (exclusionOf(rule.scoped, view) === undefined) return false;
  }
  return remaining > 0;
}

function noteMatch(rule: ActiveRule, view: TargetView, context: ConditionContext): void {
  const why = conditionFor(rule, view, context);
  if (why !== undefined) rule.matchedLabels.push(`${view.label} (${why})`);
}

/** Why a per-target rule's condition matches this target, or undefined when it does not. */
function conditionFor(rule: ActiveRule, view: TargetView, context: ConditionContext): string | undefined {
  view.context ??= {
    features: context.features,
    tier: context.tier,
    now: context.now,
    timeZone: context.timeZone,
    target: view.status ?? {},
  };
  const result = evaluateCondition(rule.scoped.rule.when, view.context);
  if (result.matched) return result.why;
  // Why it did not: explain shows it when the rule matched no target at all.
  (rule.unmatchedLabels ??= []).push(`${view.label}: ${result.why}`);
  return undefined;
}
