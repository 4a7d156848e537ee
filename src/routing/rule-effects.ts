// What a matched policy rule does to one target (exclude, require, prefer, demote, force billing), and the short
// description of that effect in the trace. route() decides which rules matched; this applies them.
import type { Billing, PolicyRule } from "../config/routing-schema.ts";
import { describeConstraint } from "./constraints.ts";
import type { ConditionContext, ScopedRule } from "./policy-rules.ts";
import { providerIndex, providerListed } from "./preferences.ts";
import type { RankEntry } from "./rank.ts";
import type { Candidate, TargetStatus } from "./types.ts";

/** Rule-preferred providers rank after the preferences' `order`; each rule gets its own band. */
const RULE_PREFERENCE_BAND = 100;

/** One target as the rules see it; `excludedBy` is set by the first rule that excludes it. */
export interface TargetView {
  key: string;
  label: string;
  targetProvider: string;
  provider: string;
  authLower?: string;
  billing: Billing;
  candidate: Candidate;
  entry: RankEntry;
  orderLength: number;
  /** The target's live status, for the conditions evaluated per target (`badRatingShareAbove`). */
  status?: TargetStatus;
  /** The condition context for this target, made the first time a per-target rule needs it. */
  context?: ConditionContext;
  excludedBy?: string;
}

/** The rule types that leave targets out (the others only reorder them). */
export const excludesTargets = (type: PolicyRule["type"]): boolean =>
  type === "exclude-provider" || type === "require-provider" || type === "force-billing";

/** Why a matched rule of an excluding type leaves this target out, or undefined when it keeps it. */
export function exclusionOf(scoped: ScopedRule, view: TargetView): string | undefined {
  const { rule } = scoped;
  switch (rule.type) {
    case "exclude-provider":
      return providerListed(rule.providers, view.provider, view.authLower)
        ? `${scoped.name}: excludes ${view.targetProvider}`
        : undefined;
    case "require-provider":
      return providerListed(rule.providers, view.provider, view.authLower)
        ? undefined
        : `${scoped.name}: requires ${rule.providers?.join(", ")}`;
    case "force-billing":
      return rule.billing && view.billing !== rule.billing
        ? `${scoped.name}: ${rule.billing} only, this is ${view.billing}`
        : undefined;
    default:
      return undefined;
  }
}

/** Applies a matched rule to one target; true when it had an effect on it. */
export function applyRule(scoped: ScopedRule, ruleIndex: number, view: TargetView): boolean {
  const { rule } = scoped;
  switch (rule.type) {
    case "exclude-provider":
    case "require-provider":
    case "force-billing": {
      const excludedBy = exclusionOf(scoped, view);
      if (excludedBy === undefined) return false;
      view.excludedBy = excludedBy;
      return true;
    }
    case "prefer-provider": {
      const at = providerIndex(rule.providers, view.provider, view.authLower);
      if (at < 0) return false;
      const rank = view.orderLength + (ruleIndex + 1) * RULE_PREFERENCE_BAND + at;
      if (rank < view.entry.preferredRank) {
        view.entry.preferredRank = rank;
        view.candidate.reasons.push(`preferred by ${scoped.name}`);
      }
      return true;
    }
    case "demote-target":
      if (rule.targets && !rule.targets.includes(view.key)) return false;
      view.candidate.bucket = "demoted";
      view.candidate.reasons.push(`demoted by ${scoped.name}`);
      return true;
    default:
      return false;
  }
}

// A rule object is never changed once its config is loaded: its description is computed once (a pure memo).
const effects = new WeakMap<object, string>();

export function describeRuleEffect(scoped: ScopedRule): string {
  let effect = effects.get(scoped.rule);
  if (effect === undefined) effects.set(scoped.rule, (effect = describeEffect(scoped.rule)));
  return effect;
}

function describeEffect(rule: ScopedRule["rule"]): string {
  switch (rule.type) {
    case "exclude-provider":
      return `exclude ${rule.providers?.join(", ")}`;
    case "require-provider":
      return `only ${rule.providers?.join(", ")}`;
    case "prefer-provider":
      return `prefer ${rule.providers?.join(", ")}`;
    case "force-billing":
      return `${rule.billing} only`;
    case "demote-target":
      return rule.targets ? `demote ${rule.targets.join(", ")}` : "demote matching targets";
    case "force-constraint":
      return `requires ${describeConstraint(rule.constraint ?? {})}`;
    default:
      return rule.type;
  }
}

/** A matched rule that changed no target it was applied to: why it changed nothing. */
export function describeNoEffect(scoped: ScopedRule): string {
  const { rule } = scoped;
  switch (rule.type) {
    case "exclude-provider":
    case "prefer-provider":
      return `none: no target left is from ${rule.providers?.join(", ")}`;
    case "require-provider":
      return `none: every target left is from ${rule.providers?.join(", ")}`;
    case "force-billing":
      return `none: every target left is ${rule.billing}`;
    case "demote-target":
      return `none: no target left is ${rule.targets?.join(", ")}`;
    default:
      return describeRuleEffect(scoped);
  }
}
