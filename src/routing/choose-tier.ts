// The tier a request is routed with: a shortcut, else the first matching force-tier rule of the selected route, else
// the intent hint. A tier from a shortcut or rule may switch the route and adds its constraints; an intent hint only
// ranks the targets meeting it first.
import type { Intent, Tier } from "../config/routing-schema.ts";
import {
  describeConstraint,
  mergeConstraints,
  mergeConstraintsFrom,
  shortcutRequirement,
  tierConstraint,
} from "./constraints.ts";
import { INTENT_HINT_CONFIDENCE } from "./intent.ts";
import { collectRules, evaluateCondition } from "./policy-rules.ts";
import type { RouteState } from "./route-state.ts";
import { chooseShortcutTier } from "./shortcuts.ts";
import type { RuleTrace } from "./types.ts";

/** Intent -> tier hint. Creative and general prompts give none. */
export const INTENT_TIER_HINTS: Partial<Record<Intent, Tier>> = { code: "swe", analysis: "reasoning" };

/** Shortcut, else the first matching force-tier rule, else the intent hint; a tier may switch the route. */
export function chooseTier(state: RouteState): void {
  const {
    request,
    snapshot: { config },
    trace,
    hints,
    rules,
    context,
  } = state;
  const { features } = request;
  const hintTier = features.intentConfidence >= INTENT_HINT_CONFIDENCE ? INTENT_TIER_HINTS[features.intent] : undefined;
  const choice = chooseShortcutTier(request.shortcuts?.tiers ?? []);
  for (const ignored of choice.ignored)
    hints.push(
      `@${ignored} ignored: @${choice.tier} wins (capability tiers beat preference tiers, else first written)`,
    );
  let tier = choice.tier;
  /** The force-tier rule that set the tier, which then asks for what the tier needs. */
  let tierRule: string | undefined;
  if (tier) trace.tierSource = "shortcut";
  context.tier = tier ?? hintTier;
  state.requestedRules = collectRules(config, request.routeId, rules);
  for (const scoped of state.requestedRules) {
    if (scoped.rule.type !== "force-tier") continue;
    const result = evaluateCondition(scoped.rule.when, context);
    const line: RuleTrace = { rule: scoped.name, scope: scoped.scope, matched: result.matched, why: result.why };
    if (result.matched && scoped.rule.tier) {
      if (tier) line.effect = `none: tier ${tier} already set by ${trace.tierSource}`;
      else {
        tier = scoped.rule.tier;
        tierRule = scoped.name;
        trace.tierSource = "rule";
        line.effect = `tier ${tier}`;
      }
    }
    rules.push(line);
  }
  // The later rules' `when.tier` sees the tier a rule set, as it sees a shortcut's (not the intent hint's it replaced).
  if (tierRule) context.tier = tier;
  const est = features.estimatedTokens;
  if (tier) {
    trace.tier = tier;
    const tierRoute = config.tiers?.[tier]?.route;
    if (tierRoute && tierRoute !== state.decision.routeId && config.routes[tierRoute]) {
      state.decision.routeId = tierRoute;
      hints.push(`tier ${tier} (${trace.tierSource}) switches to route ${tierRoute}`);
    } else if (tierRoute && !config.routes[tierRoute])
      hints.push(`tier ${tier} (${trace.tierSource}) names route ${tierRoute}, which is no route: route unchanged`);
    const needs = mergeConstraints(tierConstraint(tier, est), config.tiers?.[tier]?.constraint);
    // What the tier adds beyond the request's own needs is named, so an error can say what to drop or change.
    const who = tierRule ? `rule ${tierRule} (tier ${tier})` : shortcutRequirement(tier);
    mergeConstraintsFrom(state.constraint, needs, state.constraintBy, who);
    if (hintTier && hintTier !== tier)
      hints.push(`intent ${features.intent} hint (${hintTier}) unused: tier ${tier} from ${trace.tierSource}`);
  } else if (hintTier) {
    trace.tier = hintTier;
    trace.tierSource = "intent";
    state.hintConstraint = mergeConstraints(tierConstraint(hintTier, est), config.tiers?.[hintTier]?.constraint);
    // A sortBy "config" route keeps its declared order: the hint reorders nothing there (rank.ts), and says so.
    const declared = config.routes[state.decision.routeId]?.sortBy === "config";
    hints.push(
      declared
        ? `intent ${features.intent} (${features.intentConfidence}) hints tier ${hintTier}: unused, route ${state.decision.routeId} keeps its declared order (sortBy "config")`
        : `intent ${features.intent} (${features.intentConfidence}) hints tier ${hintTier}: targets with ${describeConstraint(state.hintConstraint)} first in their bucket; route unchanged`,
    );
  } else if (INTENT_TIER_HINTS[features.intent]) {
    hints.push(
      `intent ${features.intent} confidence ${features.intentConfidence} < ${INTENT_HINT_CONFIDENCE}: no tier hint`,
    );
  }
}
