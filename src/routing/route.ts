// route(request, snapshot, now): the pure decision (DESIGN.md rule 1). Ordered candidates, every skipped target
// with its reason, and a trace from which `/auto-router explain` and the event log are built without recomputing.
//
// Tier: a shortcut, else the first matching force-tier rule (on the selected route), else the intent hint. A tier
// from a shortcut or rule switches to `config.tiers[tier].route` when that route exists and applies the tier's
// constraints; an intent-only tier never switches route, it only ranks targets meeting it first (in their bucket).
// Rule `when.tier` sees the tier in effect, including an intent hint.
// Rules: force-tier rules come from the selected route (global + its own); every other rule from the active route.
//
// Fallback when every remaining target was skipped for SOFT reasons only (excluded by a rule, over budget):
//   budgetPolicy soft -> they become candidates anyway, in declared order, and trace.fallback says so;
//   budgetPolicy hard -> only the rule-excluded ones that are not over budget become candidates; when none is left
//                        the decision carries a `refusal` naming the providers and their budget details.
// Hard reasons (missing, no credentials, unhealthy, cooldown, circuit, capability, preferences, price, quota) never
// fall back: the user or the provider said no.
import type { Constraint, Intent, Tier } from "../config/routing-schema.ts";
import type { TargetConfig } from "../config/schema.ts";
import { checkConstraint, describeConstraint, meetsConstraint, mergeConstraints, requestConstraint, tierConstraint } from "./constraints.ts";
import { INTENT_HINT_CONFIDENCE } from "./intent.ts";
import { collectRules, conditionUsesTarget, evaluateCondition, type ConditionContext, type ScopedRule } from "./policy-rules.ts";
import { checkPreferences, describePreferences, mergePreferences, providerIndex } from "./preferences.ts";
import { explainWinner, rankEntries, type RankEntry, type RankMode } from "./rank.ts";
import { applyRule, describeRuleEffect, type TargetView } from "./rule-effects.ts";
import { fallBack, skippedTarget, skipTarget, type Pending } from "./soft-fallback.ts";
import { chooseShortcutTier } from "./shortcuts.ts";
import { checkReserve } from "./reserve.ts";
import { targetSettingsNotes } from "./target-settings-note.ts";
import {
  accountOf,
  routeTargetKey, targetKey,
  type Candidate, type Decision, type DecisionTrace, type RouteRequest, type RoutingSnapshot, type RuleTrace,
} from "./types.ts";

/** Intent -> tier hint. Creative and general prompts give none. */
export const INTENT_TIER_HINTS: Partial<Record<Intent, Tier>> = { code: "swe", analysis: "reasoning" };
/** Output assumed for the cost estimate when the caller did not say (pi rarely sets maxTokens). */
export const ASSUMED_OUTPUT_TOKENS = 1_000;
const TOKENS_PER_MILLION = 1_000_000;

interface PerTargetRule { scoped: ScopedRule; line: RuleTrace; matchedLabels: string[] }

/** What the steps of one route() call share. */
interface RouteState {
  request: RouteRequest;
  snapshot: RoutingSnapshot;
  now: number;
  decision: Decision;
  trace: DecisionTrace;
  hints: string[];
  rules: RuleTrace[];
  /** The condition context of request-level rules: the tier in effect (shortcut, rule or intent hint). */
  context: ConditionContext;
  constraint: Constraint;
  hintConstraint?: Constraint;
  requestedRules: ScopedRule[];
}

interface ActiveRules { matched: ScopedRule[]; perTarget: PerTargetRule[] }

interface Ranking { preferences: ReturnType<typeof mergePreferences>; mode: RankMode; orderLength: number; outputTokens: number }

export function route(request: RouteRequest, snapshot: RoutingSnapshot, now: number): Decision {
  const state = startDecision(request, snapshot, now);
  if (!snapshot.config.routes[request.routeId]) {
    state.decision.refusal = `auto-router: route "${request.routeId}" is not in the config (known: ${Object.keys(snapshot.config.routes).join(", ")})`;
    return state.decision;
  }
  chooseTier(state);
  const active = snapshot.config.routes[state.decision.routeId]!;
  const rules = collectActiveRules(state);
  const ranking = rankingSettings(state, active);
  const { eligible, soft } = assessTargets(state, active.targets, rules, ranking);
  closePerTargetRules(rules.perTarget);
  orderCandidates(state, eligible, soft, ranking.mode);
  return state.decision;
}

function startDecision(request: RouteRequest, snapshot: RoutingSnapshot, now: number): RouteState {
  const { features } = request;
  const hints: string[] = [];
  const rules: RuleTrace[] = [];
  const trace: DecisionTrace = {
    tokens: request.shortcuts?.tokens ?? [], tierSource: "none", intent: features.intent, intentConfidence: features.intentConfidence,
    estimatedTokens: features.estimatedTokens, contextClass: features.contextClass, rules, hints,
  };
  const decision: Decision = { requestedRouteId: request.routeId, routeId: request.routeId, candidates: [], skipped: [], trace, declaredOrder: [] };
  // Every property present from the start, in one order: the condition evaluator sees one object shape.
  const context: ConditionContext = { features, tier: undefined, now, timeZone: snapshot.timeZone };
  return { request, snapshot, now, decision, trace, hints, rules, context, constraint: requestConstraint(features), requestedRules: [] };
}

/** Shortcut, else the first matching force-tier rule, else the intent hint; a tier may switch the route. */
function chooseTier(state: RouteState): void {
  const { request, snapshot: { config }, trace, hints, rules, context } = state;
  const { features } = request;
  const hintTier = features.intentConfidence >= INTENT_HINT_CONFIDENCE ? INTENT_TIER_HINTS[features.intent] : undefined;
  const choice = chooseShortcutTier(request.shortcuts?.tiers ?? []);
  for (const ignored of choice.ignored) hints.push(`@${ignored} ignored: @${choice.tier} wins (capability tiers beat preference tiers, else first written)`);
  let tier = choice.tier;
  if (tier) trace.tierSource = "shortcut";
  context.tier = tier ?? hintTier;
  state.requestedRules = collectRules(config, request.routeId, rules);
  for (const scoped of state.requestedRules) {
    if (scoped.rule.type !== "force-tier") continue;
    const result = evaluateCondition(scoped.rule.when, context);
    const line: RuleTrace = { rule: scoped.name, scope: scoped.scope, matched: result.matched, why: result.why };
    if (result.matched && scoped.rule.tier) {
      if (tier) line.effect = `none: tier ${tier} already set by ${trace.tierSource}`;
      else { tier = scoped.rule.tier; trace.tierSource = "rule"; line.effect = `tier ${tier}`; }
    }
    rules.push(line);
  }
  const est = features.estimatedTokens;
  if (tier) {
    trace.tier = tier;
    const tierRoute = config.tiers?.[tier]?.route;
    if (tierRoute && tierRoute !== state.decision.routeId && config.routes[tierRoute]) {
      state.decision.routeId = tierRoute;
      hints.push(`tier ${tier} (${trace.tierSource}) switches to route ${tierRoute}`);
    }
    mergeConstraints(mergeConstraints(state.constraint, tierConstraint(tier, est)), config.tiers?.[tier]?.constraint);
    if (hintTier && hintTier !== tier) hints.push(`intent ${features.intent} hint (${hintTier}) unused: tier ${tier} from ${trace.tierSource}`);
  } else if (hintTier) {
    trace.tier = hintTier;
    trace.tierSource = "intent";
    state.hintConstraint = mergeConstraints(tierConstraint(hintTier, est), config.tiers?.[hintTier]?.constraint);
    hints.push(`intent ${features.intent} (${features.intentConfidence}) hints tier ${hintTier}: targets with ${describeConstraint(state.hintConstraint)} first in their bucket; route unchanged`);
  } else if (INTENT_TIER_HINTS[features.intent]) {
    hints.push(`intent ${features.intent} confidence ${features.intentConfidence} < ${INTENT_HINT_CONFIDENCE}: no tier hint`);
  }
}

/** The active route's rules: request-level ones evaluated now, target-dependent ones kept for each target. */
function collectActiveRules(state: RouteState): ActiveRules {
  const { request, decision: { routeId }, rules } = state;
  const activeRules = routeId === request.routeId ? state.requestedRules : collectRules(state.snapshot.config, routeId, rules);
  const matched: ScopedRule[] = [];
  const perTarget: PerTargetRule[] = [];
  for (const scoped of activeRules) {
    const { rule } = scoped;
    if (rule.type === "force-tier") {
      if (routeId !== request.routeId) rules.push({ rule: scoped.name, scope: scoped.scope, matched: false, why: "force-tier rules apply on the selected route only" });
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
      line.effect = `requires ${describeConstraint(rule.constraint ?? {})}`;
    } else {
      matched.push(scoped);
      line.effect = describeRuleEffect(scoped);
    }
  }
  return { matched, perTarget };
}

function rankingSettings(state: RouteState, active: RoutingSnapshot["config"]["routes"][string]): Ranking {
  const { shortcuts, features } = state.request;
  const preferences = mergePreferences({ global: state.snapshot.config.preferences, route: active.preferences, prompt: shortcuts?.preferences });
  const described = describePreferences(preferences);
  if (described.length) state.hints.push(`provider preferences: ${described.join("; ")}`);
  const mode: RankMode = shortcuts?.preferences.sort ?? (active.sortBy && active.sortBy !== "auto" ? active.sortBy : undefined) ?? preferences.sort ?? "auto";
  return { preferences, mode, orderLength: preferences.order?.length ?? 0, outputTokens: features.requestedMaxTokens ?? ASSUMED_OUTPUT_TOKENS };
}

/** Every target of the active route: skipped with a reason, held back for a soft reason, or eligible. */
function assessTargets(state: RouteState, targets: TargetConfig[], rules: ActiveRules, ranking: Ranking): { eligible: Pending[]; soft: Pending[] } {
  const { snapshot, now, decision, hints, context } = state;
  const routeId = decision.routeId;
  const { preferences, orderLength, outputTokens } = ranking;
  const est = state.request.features.estimatedTokens;
  const eligible: Pending[] = [];
  const reserves = snapshot.config.quota?.reserve;
  const soft: Pending[] = [];
  const warnedProviders: string[] = [];
  for (let index = 0; index < targets.length; index++) {
    const target = targets[index];
    const key = targetKey(target.provider, target.modelId);
    const label = target.label ?? key;
    if (target.enabled === false) { skipTarget(decision, target, key, label, "disabled", "enabled: false in the config"); continue; }
    const facts = snapshot.models[key];
    if (!facts?.resolvable) { skipTarget(decision, target, key, label, "missing-model", "not in pi's model registry"); continue; }
    const auth = accountOf(target);
    if (!facts.hasCredentials) { skipTarget(decision, target, key, label, "no-credentials", facts.credentialsProblem ?? `no credentials for ${auth} (/login or an API key)`); continue; }
    const providerStatus = snapshot.providers[auth];
    const unhealthy = providerStatus?.unhealthy ?? (auth !== target.provider ? snapshot.providers[target.provider]?.unhealthy : undefined);
    if (unhealthy) { skipTarget(decision, target, key, label, "unhealthy", unhealthy); continue; }
    const cooldown = snapshot.cooldowns[routeTargetKey(routeId, key)];
    if (cooldown && cooldown.until > now) {
      skipTarget(decision, target, key, label, "cooldown", `${cooldown.kind}${cooldown.message ? `: ${cooldown.message}` : ""}`, cooldown.until); continue;
    }
    const status = snapshot.targets[key];
    const breaker = status?.breaker;
    let probe = false;
    if (breaker && breaker.state !== "closed") {
      // An open breaker whose time is up is half-open in all but name: it may send its one probe.
      const open = breaker.state === "open" && (breaker.until === undefined || breaker.until > now);
      if (open) { skipTarget(decision, target, key, label, "circuit-open", "circuit breaker open", breaker.until); continue; }
      if (breaker.probeInFlight) { skipTarget(decision, target, key, label, "circuit-open", "half-open: a probe is already in flight", breaker.until); continue; }
      probe = true;
    }
    const violation = checkConstraint(facts, state.constraint);
    if (violation) { skipTarget(decision, target, key, label, violation.reason, violation.detail); continue; }
    const provider = target.provider.toLowerCase();
    const authLower = target.authProvider?.toLowerCase();
    const rejection = checkPreferences(preferences, provider, authLower, facts);
    if (rejection) { skipTarget(decision, target, key, label, rejection.reason, rejection.detail); continue; }
    const quota = providerStatus?.quota;
    if (quota?.level === "critical") { skipTarget(decision, target, key, label, "quota", `quota critical: ${quota.detail}`); continue; }
    if (quota?.level === "stressed" && snapshot.quotaHard) { skipTarget(decision, target, key, label, "quota", `quota stressed (hard mode): ${quota.detail}`); continue; }
    const reserve = reserves ? checkReserve(reserves[auth], quota, state.trace.tier, state.request.interactive) : undefined;
    if (reserve?.kind === "excluded") { skipTarget(decision, target, key, label, "quota", reserve.detail); continue; }

    const billing = target.billing ?? (facts.usesOAuth ? "subscription" : "per-token");
    const candidate: Candidate = { key, provider: target.provider, modelId: target.modelId, account: auth, label, declaredIndex: index, bucket: "normal", billing, reasons: [], warnings: [] };
    if (facts.pricing) candidate.estimatedCostUsd = (facts.pricing.input * est + facts.pricing.output * outputTokens) / TOKENS_PER_MILLION;
    if (status?.ttftMs !== undefined) candidate.ttftMs = status.ttftMs;
    if (reserve?.kind === "allowed") candidate.reasons.push(reserve.reason);
    if (target.retryBeforeFailover || target.headers || target.body) candidate.reasons.push(...targetSettingsNotes(target));
    if (probe) { candidate.probe = true; candidate.reasons.push("half-open breaker: this attempt is the probe"); }
    if (quota?.level === "surplus") { candidate.bucket = "promoted"; candidate.reasons.push(`quota surplus: ${quota.detail}`); }
    if (quota?.level === "stressed") {
      candidate.bucket = "demoted"; candidate.reasons.push(`quota stressed: ${quota.detail}`); candidate.warnings.push(`quota stressed: ${quota.detail}`);
    }
    let preferredRank = providerIndex(preferences.order, provider, authLower);
    if (preferredRank >= 0) candidate.reasons.push(`preferred provider (order #${preferredRank + 1})`);
    else preferredRank = Infinity;
    const entry: RankEntry = { candidate, preferredRank, meetsHint: state.hintConstraint ? meetsConstraint(facts, state.hintConstraint) : false };
    if (status?.tokensPerSecond !== undefined) entry.tokensPerSecond = status.tokensPerSecond;
    const budget = providerStatus?.budget;
    const pending: Pending = { candidate, entry, budgetBlocked: budget?.level === "blocked" ? budget.detail : undefined };

    // Rules: request-level ones already matched; per-target ones are evaluated with this target's status.
    const view: TargetView = { key, targetProvider: target.provider, provider, authLower, billing, candidate, entry, orderLength };
    for (let ruleIndex = 0; ruleIndex < rules.matched.length && view.excludedBy === undefined; ruleIndex++) applyRule(rules.matched[ruleIndex], ruleIndex, view);
    if (rules.perTarget.length > 0) {
      const targetContext: ConditionContext = { features: context.features, tier: context.tier, now, timeZone: context.timeZone, target: status ?? {} };
      for (let ruleIndex = 0; ruleIndex < rules.perTarget.length && view.excludedBy === undefined; ruleIndex++) {
        const item = rules.perTarget[ruleIndex];
        const result = evaluateCondition(item.scoped.rule.when, targetContext);
        if (result.matched && applyRule(item.scoped, rules.matched.length + ruleIndex, view)) item.matchedLabels.push(`${label} (${result.why})`);
      }
    }
    const excludedBy = view.excludedBy;
    if (excludedBy) { pending.skip = skippedTarget(target, key, label, "excluded-by-rule", excludedBy); soft.push(pending); continue; }
    if (budget?.level === "blocked") { pending.skip = skippedTarget(target, key, label, "budget", `budget blocked: ${budget.detail}`); soft.push(pending); continue; }
    if (budget?.level === "warning") {
      candidate.warnings.push(`budget: ${budget.detail}`);
      if (!warnedProviders.includes(auth)) { warnedProviders.push(auth); hints.push(`budget warning for ${auth}: ${budget.detail}`); }
    }
    eligible.push(pending);
  }
  return { eligible, soft };
}

function closePerTargetRules(perTarget: PerTargetRule[]): void {
  for (const item of perTarget) {
    item.line.matched = item.matchedLabels.length > 0;
    item.line.why = item.line.matched ? `matched for ${item.matchedLabels.join("; ")}` : "matched no eligible target";
    if (item.line.matched) item.line.effect = describeRuleEffect(item.scoped);
  }
}

/** Falls back on soft exclusions when nothing is eligible, then ranks (or keeps declared order for a fallback). */
function orderCandidates(state: RouteState, eligible: Pending[], soft: Pending[], mode: RankMode): void {
  const { decision, trace, hints } = state;
  let ranked = eligible;
  if (eligible.length === 0 && soft.length > 0) ranked = fallBack(decision, soft, state.snapshot.budgetPolicy);
  else for (const item of soft) if (item.skip) decision.skipped.push(item.skip);
  for (const item of ranked) decision.declaredOrder.push(item.candidate.key);
  if (mode !== "auto") hints.push(`sorted by ${mode}`);
  if (trace.fallback) {
    for (const item of ranked) decision.candidates.push(item.candidate);
    if (ranked.length > 0) trace.winner = `${ranked[0].candidate.label}: first in declared order among the fallback targets`;
  } else if (ranked.length > 0) {
    const entries: RankEntry[] = [];
    for (const item of ranked) entries.push(item.entry);
    rankEntries(entries, mode);
    for (const entry of entries) decision.candidates.push(entry.candidate);
    trace.winner = explainWinner(entries, mode, trace.tierSource === "intent" ? trace.tier : undefined);
  }
}
