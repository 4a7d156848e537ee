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
import { assessTargets } from "./assess-targets.ts";
import { chooseTier } from "./choose-tier.ts";
import { providerNameProblems } from "./provider-name-problems.ts";
import { describePreferences, mergePreferences } from "./preferences.ts";
import { explainWinner, rankEntries, type RankEntry, type RankMode } from "./rank.ts";
import { closeRules, collectActiveRules } from "./route-rules.ts";
import { startDecision, type Ranking, type RouteState } from "./route-state.ts";
import { fallBack, type Pending } from "./soft-fallback.ts";
import { ASSUMED_OUTPUT_TOKENS, type Decision, type RouteRequest, type RoutingSnapshot } from "./types.ts";

export function route(request: RouteRequest, snapshot: RoutingSnapshot, now: number): Decision {
  const state = startDecision(request, snapshot, now);
  if (!snapshot.config.routes[request.routeId]) {
    state.decision.refusal = `auto-router: route "${request.routeId}" is not in the config (known: ${Object.keys(snapshot.config.routes).join(", ")})`;
    state.decision.refusalKind = "unknown-route";
    return state.decision;
  }
  chooseTier(state);
  const active = snapshot.config.routes[state.decision.routeId]!;
  const problems = providerNameProblems(
    request.shortcuts?.preferences,
    state.decision.routeId,
    active.targets,
    snapshot.config.routes,
  );
  if (problems.length > 0) {
    state.decision.refusal = `auto-router: ${problems.join(" ")} Nothing was sent: correct the name in the request's provider preferences (@only=/@ignore=, or the gateway's X-Provider or body provider). Waiting will not change this.`;
    state.decision.refusalKind = "no-match";
    return state.decision;
  }
  const rules = collectActiveRules(state, active.sortBy === "config");
  const ranking = rankingSettings(state, active);
  const targets = request.serves ? active.targets.filter(request.serves) : active.targets;
  const { eligible, soft } = assessTargets(state, targets, rules, ranking);
  closeRules(rules, state.decision.skipped);
  orderCandidates(state, eligible, soft, ranking.mode);
  return state.decision;
}

function rankingSettings(state: RouteState, active: RoutingSnapshot["config"]["routes"][string]): Ranking {
  const { shortcuts, features } = state.request;
  const preferences = mergePreferences({
    global: state.snapshot.config.preferences,
    route: active.preferences,
    prompt: shortcuts?.preferences,
  });
  // A prompt's sort wins; on a sortBy "config" route it ranks ahead of the declared order, which still breaks ties
  // (the preferences' `order` and prefer-provider rules stay out of the ranking, as they are without it).
  const promptSort = shortcuts?.preferences.sort;
  const routeSort = active.sortBy && active.sortBy !== "auto" ? active.sortBy : undefined;
  const mode: RankMode =
    promptSort !== undefined
      ? active.sortBy === "config"
        ? `config:${promptSort}`
        : promptSort
      : (routeSort ?? preferences.sort ?? "auto");
  const described = describePreferences(preferences);
  if (described.length) {
    // Say which of them rank nothing here, so a `sort` listed beside "sorted by config" is not taken as applied.
    const unused: string[] = [];
    if (preferences.order && active.sortBy === "config") unused.push("order");
    if (preferences.sort && promptSort === undefined && routeSort !== undefined && routeSort !== preferences.sort)
      unused.push("sort");
    const note = unused.length
      ? ` (${unused.join(" and ")} unused: route ${state.decision.routeId} ${active.sortBy === "config" ? 'keeps its declared order (sortBy "config")' : `is sorted by ${routeSort} (sortBy)`})`
      : "";
    state.hints.push(`provider preferences: ${described.join("; ")}${note}`);
  }
  return {
    preferences,
    mode,
    orderLength: preferences.order?.length ?? 0,
    outputTokens: features.requestedMaxTokens ?? ASSUMED_OUTPUT_TOKENS,
  };
}

/** Falls back on soft exclusions when nothing is eligible, then ranks (or keeps declared order for a fallback). */
function orderCandidates(state: RouteState, eligible: Pending[], soft: Pending[], mode: RankMode): void {
  const { decision, trace, hints } = state;
  let ranked = eligible;
  if (eligible.length === 0 && soft.length > 0) ranked = fallBack(decision, soft, state.snapshot.budgetPolicy);
  else for (const item of soft) if (item.skip) decision.skipped.push(item.skip);
  for (const item of ranked) decision.declaredOrder.push(item.candidate.key);
  if (mode !== "auto")
    hints.push(`sorted by ${mode.startsWith("config:") ? `${mode.slice(7)}, then declared order` : mode}`);
  if (trace.fallback) {
    for (const item of ranked) decision.candidates.push(item.candidate);
    if (ranked.length > 0)
      trace.winner = `${ranked[0].candidate.label}: first in declared order among the fallback targets`;
  } else if (ranked.length > 0) {
    const entries: RankEntry[] = [];
    for (const item of ranked) entries.push(item.entry);
    rankEntries(entries, mode);
    for (const entry of entries) decision.candidates.push(entry.candidate);
    trace.winner = explainWinner(entries, mode, trace.tierSource === "intent" ? trace.tier : undefined);
  }
}
