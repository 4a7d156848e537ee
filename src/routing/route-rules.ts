// The active route's policy rules for one decision: request-level rules are evaluated once, target-dependent ones are
// kept and evaluated per target (rule-order.ts), then their trace lines are closed with what they did.
import { mergeConstraintsFrom } from "./constraints.ts";
import { collectRules, conditionUsesTarget, evaluateCondition, type ScopedRule } from "./policy-rules.ts";
import type { ActiveRules, RouteState } from "./route-state.ts";
import { describeNoEffect, describeRuleEffect } from "./rule-effects.ts";
import type { RuleTrace, SkippedTarget } from "./types.ts";

/** What a prefer-provider rule does on a route whose declared order stands (sortBy config: rank.ts). */
const KEEPS_DECLARED_ORDER =
  'none: the route keeps its declared order (sortBy "config"), which preferences do not change';

/**
 * The active route's rules: request-level ones evaluated now, target-dependent ones kept for each target.
 * `declaredOrder`: the route ranks in its declared order, so prefer-provider rules are traced but not applied.
 */
export function collectActiveRules(state: RouteState, declaredOrder = false): ActiveRules {
  const {
    request,
    decision: { routeId },
    rules,
  } = state;
  const switched = routeId !== request.routeId;
  const activeRules = switched ? switchedRouteRules(state) : state.requestedRules;
  const active: ActiveRules = [];
  const traced = switched ? new Set(rules.map(traceKey)) : undefined;
  for (const scoped of activeRules) {
    const { rule } = scoped;
    if (rule.type === "force-tier") {
      if (traced && !traced.has(traceKey({ scope: scoped.scope, rule: scoped.name })))
        rules.push({
          rule: scoped.name,
          scope: scoped.scope,
          matched: false,
          why: "force-tier rules apply on the selected route only",
        });
      continue;
    }
    if (declaredOrder && rule.type === "prefer-provider") {
      const result = conditionUsesTarget(rule.when) ? undefined : evaluateCondition(rule.when, state.context);
      const line: RuleTrace = {
        rule: scoped.name,
        scope: scoped.scope,
        matched: result?.matched ?? false,
        why: result?.why ?? "evaluated per target",
      };
      if (result?.matched !== false) line.effect = KEEPS_DECLARED_ORDER;
      rules.push(line);
      continue;
    }
    if (conditionUsesTarget(rule.when) && rule.type !== "force-constraint") {
      const line: RuleTrace = { rule: scoped.name, scope: scoped.scope, matched: false, why: "evaluated per target" };
      rules.push(line);
      active.push({ scoped, line, perTarget: true, matchedLabels: [] });
      continue;
    }
    const result = evaluateCondition(rule.when, state.context);
    const line: RuleTrace = { rule: scoped.name, scope: scoped.scope, matched: result.matched, why: result.why };
    rules.push(line);
    if (!result.matched) continue;
    if (rule.type === "force-constraint") {
      mergeConstraintsFrom(state.constraint, rule.constraint, state.constraintBy, `rule ${scoped.name}`);
    } else active.push({ scoped, line, perTarget: false, matchedLabels: [] });
    line.effect = describeRuleEffect(scoped);
  }
  return active;
}

const traceKey = (line: { scope: string; rule: string }): string => `${line.scope}\u0000${line.rule}`;

/**
 * After a tier switched the route, the rules of the route that serves apply. The requested route's own rules are
 * listed as not applied, and each rule is traced once: a global rule scoped to the requested route is not traced
 * again as "scoped to" it.
 */
function switchedRouteRules(state: RouteState): ScopedRule[] {
  const {
    request,
    decision: { routeId },
    rules,
  } = state;
  const fresh: RuleTrace[] = [];
  const active = collectRules(state.snapshot.config, routeId, fresh);
  const applying = new Set(active.map((scoped) => scoped.rule));
  const traced = new Set(rules.map(traceKey));
  for (const scoped of state.requestedRules) {
    if (scoped.rule.type === "force-tier" || applying.has(scoped.rule)) continue;
    const line: RuleTrace = {
      rule: scoped.name,
      scope: scoped.scope,
      matched: false,
      why: `not applied: tier ${state.trace.tier} switched from route ${request.routeId} to ${routeId}, whose rules apply`,
    };
    rules.push(line);
    traced.add(traceKey(line));
  }
  for (const line of fresh) if (!traced.has(traceKey(line))) rules.push(line);
  return active;
}

/**
 * Closes the trace lines of the rules applied: what the per-target ones matched, and which rules yielded. `skipped`
 * are the targets left out before the rules, which say why none reached a rule.
 */
export function closeRules(active: ActiveRules, skipped: readonly SkippedTarget[]): void {
  let noneReached: string | undefined;
  for (const item of active) {
    const { line } = item;
    if (item.perTarget) {
      line.matched = item.matchedLabels.length > 0;
      const unmatched = item.unmatchedLabels ? ` (${[...new Set(item.unmatchedLabels)].join("; ")})` : "";
      line.why = line.matched
        ? `matched for ${item.matchedLabels.join("; ")}`
        : `matched no eligible target${unmatched}`;
    }
    if (item.yieldedTo)
      line.effect = `none: yields to ${item.yieldedTo.join(", ")} (applied after it, it would leave no target)`;
    else if (item.noTargetLeft)
      line.effect = item.noTargetLeft.length
        ? `none: ${item.noTargetLeft.join(", ")} had left every target out before it`
        : (noneReached ??= noneReachedWhy(skipped));
    else if (item.perTarget && line.matched) line.effect = describeRuleEffect(item.scoped);
    else if (!item.perTarget && !item.acted) line.effect = describeNoEffect(item.scoped);
  }
}

/**
 * Why no target reached the rules: the force-constraint rules (or a tier's) whose requirement left every target out,
 * named even when listed after the rule (they apply before every rule), else the reasons the targets were skipped.
 */
function noneReachedWhy(skipped: readonly SkippedTarget[]): string {
  const requiredBy = [...new Set(skipped.flatMap((target) => (target.requiredBy ? [target.requiredBy] : [])))];
  const others = [...new Set(skipped.filter((target) => !target.requiredBy).map((target) => target.reason))];
  if (requiredBy.length && !others.length)
    return `none: the requirement of ${requiredBy.join(", ")} left every target out before the rules applied`;
  const reasons = [...(requiredBy.length ? [`required by ${requiredBy.join(", ")}`] : []), ...others];
  return `none: no target reached the rules${reasons.length ? ` (${reasons.join(", ")})` : ""}`;
}
