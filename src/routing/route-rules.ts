// The active route's policy rules for one decision: request-level rules are evaluated once, target-dependent ones are
// kept and evaluated per target (assess-targets.ts), then their trace lines are closed with what they matched.
import { mergeConstraints } from "./constraints.ts";
import { collectRules, conditionUsesTarget, evaluateCondition, type ScopedRule } from "./policy-rules.ts";
import type { ActiveRules, PerTargetRule, RouteState } from "./route-state.ts";
import { describeRuleEffect } from "./rule-effects.ts";
import type { RuleTrace } from "./types.ts";

/** The active route's rules: request-level ones evaluated now, target-dependent ones kept for each target. */
export function collectActiveRules(state: RouteState): ActiveRules {
  const {
    request,
    decision: { routeId },
    rules,
  } = state;
  const activeRules =
    routeId === request.routeId ? state.requestedRules : collectRules(state.snapshot.config, routeId, rules);
  const matched: ScopedRule[] = [];
  const perTarget: PerTargetRule[] = [];
  for (const scoped of activeRules) {
    const { rule } = scoped;
    if (rule.type === "force-tier") {
      if (routeId !== request.routeId)
        rules.push({
          rule: scoped.name,
          scope: scoped.scope,
          matched: false,
          why: "force-tier rules apply on the selected route only",
        });
      continue;
    }
    if (conditionUsesTarget(rule.when) && rule.type !== "force-constraint") {
      const line: RuleTrace = { rule: scoped.name, scope: scoped.scope, matched: false, why: "evaluated per target" };
      rules.push(line);
      perTarget.push({ scoped, line, matchedLabels: [] });
      continue;
    }
    const result = evaluateCondition(rule.when, state.context);
    const line: RuleTrace = { rule: scoped.name, scope: scoped.scope, matched: result.matched, why: result.why };
    rules.push(line);
    if (!result.matched) continue;
    if (rule.type === "force-constraint") {
      mergeConstraints(state.constraint, rule.constraint);
    } else matched.push(scoped);
    line.effect = describeRuleEffect(scoped);
  }
  return { matched, perTarget };
}

export function closePerTargetRules(perTarget: PerTargetRule[]): void {
  for (const item of perTarget) {
    item.line.matched = item.matchedLabels.length > 0;
    item.line.why = item.line.matched ? `matched for ${item.matchedLabels.join("; ")}` : "matched no eligible target";
    if (item.line.matched) item.line.effect = describeRuleEffect(item.scoped);
  }
}
