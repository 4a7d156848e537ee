// Every target of the active route, in declared order: skipped with a hard reason (missing, credentials, constraints,
// health, cooldown, breaker, preferences, quota), held back for a soft one (a rule, a blocked budget), or eligible
// with its candidate and rank entry.
import type { TargetConfig } from "../config/schema.ts";
import { checkConstraint, meetsConstraint } from "./constraints.ts";
import { checkPreferences, providerIndex } from "./preferences.ts";
import { keepsDeclaredOrder, type RankEntry } from "./rank.ts";
import { restKey } from "./rest-key.ts";
import { checkReserve, reserveOf } from "./reserve.ts";
import type { ActiveRules, Ranking, RouteState } from "./route-state.ts";
import type { TargetView } from "./rule-effects.ts";
import { applyRules } from "./rule-order.ts";
import { skippedTarget, skipTarget, type Pending } from "./soft-fallback.ts";
import { targetSettingsNotes } from "./target-settings-note.ts";
import { accountOf, billingOf, CANDIDATE_NOTE, quotaOfModel, targetKey, type Candidate } from "./types.ts";

const TOKENS_PER_MILLION = 1_000_000;

/** What a configured target's strings are, computed once per target object (the config is immutable once loaded). */
interface TargetNames {
  key: string;
  account: string;
  provider: string;
  authLower: string | undefined;
  /** The cooldown key of this target on the route it was last assessed for (built again for another route). */
  routeId?: string;
  routeKey?: string;
}
const targetNames = new WeakMap<TargetConfig, TargetNames>();

function namesOf(target: TargetConfig): TargetNames {
  let names = targetNames.get(target);
  if (!names) {
    names = {
      key: targetKey(target.provider, target.modelId),
      account: accountOf(target),
      provider: target.provider.toLowerCase(),
      authLower: target.authProvider?.toLowerCase(),
    };
    targetNames.set(target, names);
  }
  return names;
}

const hasEntries = (record: object): boolean => {
  for (const _ in record) return true;
  return false;
};

/** A target that passed the hard checks, as the rules see it, with what the budget check after them needs. */
interface Reached extends TargetView {
  pending: Pending;
  auth: string;
  target: TargetConfig;
}

/** Whether a route's target list names one provider/model twice: remembered per list. */
const repeats = new WeakMap<readonly unknown[], boolean>();
function repeatsTargets(targets: ReadonlyArray<{ provider: string; modelId: string }>): boolean {
  let known = repeats.get(targets);
  if (known === undefined) {
    const keys = targets.map((target) => `${target.provider}/${target.modelId}`);
    known = new Set(keys).size < keys.length;
    repeats.set(targets, known);
  }
  return known;
}

/** Every target of the active route: skipped with a reason, held back for a soft reason, or eligible. */
export function assessTargets(
  state: RouteState,
  targets: TargetConfig[],
  rules: ActiveRules,
  ranking: Ranking,
): { eligible: Pending[]; soft: Pending[] } {
  const { snapshot, now, decision, hints, context } = state;
  const routeId = decision.routeId;
  const { preferences, orderLength, outputTokens } = ranking;
  const est = state.request.features.estimatedTokens;
  const eligible: Pending[] = [];
  const reserves = snapshot.config.quota?.reserve;
  const soft: Pending[] = [];
  const warnedProviders: string[] = [];
  const anyCooldown = hasEntries(snapshot.cooldowns);
  const reached: Reached[] = [];
  // One provider/model listed twice in a route (a load warning) is one target: assessed, listed and tried once. Asked
  // once per route's list (a config's lists do not change), so a request on a route without repeats makes no set.
  const seen = repeatsTargets(targets) ? new Set<string>() : undefined;
  for (let index = 0; index < targets.length; index++) {
    const target = targets[index];
    const names = namesOf(target);
    const key = names.key;
    if (seen) {
      if (seen.has(key)) continue;
      seen.add(key);
    }
    const label = target.label ?? key;
    if (target.enabled === false) {
      skipTarget(decision, target, key, label, "disabled", "enabled: false in the config");
      continue;
    }
    const facts = snapshot.models[key];
    if (!facts?.resolvable) {
      skipTarget(decision, target, key, label, "missing-model", "not in pi's model registry");
      continue;
    }
    const auth = names.account;
    if (!facts.hasCredentials) {
      skipTarget(
        decision,
        target,
        key,
        label,
        "no-credentials",
        facts.credentialsProblem ?? `no credentials for ${auth} (/login or an API key)`,
      );
      continue;
    }
    // Before the passing states (health, cooldown, breaker): a target that cannot take the request at all is left out
    // for that, or a prompt too long for every window would read "none available now" and wait for a resting one.
    const violation = checkConstraint(facts, state.constraint, state.request.features.estimatedTokens);
    if (violation) {
      const requiredBy = state.constraintBy[violation.need];
      const skipped = skippedTarget(target, key, label, violation.reason, violation.detail);
      decision.skipped.push(requiredBy ? { ...skipped, requiredBy } : skipped);
      continue;
    }
    // The request's own provider preferences leave a target out whatever its state: one resting or broken that they
    // exclude is no reason to wait (a gateway client told to retry later could never be served by it).
    const { provider, authLower } = names;
    const rejection = checkPreferences(preferences, provider, authLower, facts);
    if (rejection) {
      skipTarget(decision, target, key, label, rejection.reason, rejection.detail);
      continue;
    }
    const providerStatus = snapshot.providers[auth];
    const marked = providerStatus?.unhealthy
      ? providerStatus
      : auth !== target.provider
        ? snapshot.providers[target.provider]
        : undefined;
    if (marked?.unhealthy) {
      skipTarget(decision, target, key, label, "unhealthy", marked.unhealthy, marked.unhealthyUntil);
      continue;
    }
    // A key built afresh on every lookup has to be hashed every time; the remembered one is hashed once.
    if (anyCooldown && names.routeId !== routeId) {
      names.routeId = routeId;
      names.routeKey = restKey(snapshot.config.routes, routeId, key);
    }
    // Under a hard budget a provider over its limit cannot serve whenever its rest ends: it is left out for its budget
    // (below), not as resting, or a request would wait for a target the budget refuses and say it is back soon.
    const overHardBudget =
      snapshot.budgetPolicy === "hard" &&
      providerStatus?.budget?.level === "blocked" &&
      providerStatus.budget.spendUnknown !== true &&
      billingOf(target, facts) !== "subscription";
    const cooldown = anyCooldown && !overHardBudget ? snapshot.cooldowns[names.routeKey!] : undefined;
    if (cooldown && cooldown.until > now) {
      skipTarget(
        decision,
        target,
        key,
        label,
        "cooldown",
        cooldownDetail(cooldown.kind, cooldown.message),
        cooldown.until,
      );
      continue;
    }
    const status = snapshot.targets[key];
    const breaker = overHardBudget ? undefined : status?.breaker;
    let probe = false;
    if (breaker && breaker.state !== "closed") {
      // An open breaker whose time is up is half-open in all but name: it may send its one probe.
      const open = breaker.state === "open" && (breaker.until === undefined || breaker.until > now);
      if (open) {
        skipTarget(decision, target, key, label, "circuit-open", "circuit breaker open", breaker.until);
        continue;
      }
      if (breaker.probeInFlight) {
        skipTarget(
          decision,
          target,
          key,
          label,
          "circuit-open",
          "half-open: a probe is already in flight",
          breaker.until,
        );
        continue;
      }
      probe = true;
    }
    // A window only some models draw on (Anthropic's weekly Opus limit) paces those models, not the whole provider.
    const billing = billingOf(target, facts);
    const quota = overHardBudget ? undefined : quotaOfModel(providerStatus, target.modelId, billing);
    if (quota?.level === "critical") {
      // With its time, like a cooldown: a short wait, "First available" and a gateway's Retry-After read it.
      // Hard mode keeps it out while it is stressed too: back once its pace is below stressed.
      const back = snapshot.quotaHard ? quota.calmUntil : quota.until;
      skipTarget(decision, target, key, label, "quota", `quota critical: ${quota.detail}`, back);
      continue;
    }
    if (quota?.level === "stressed" && snapshot.quotaHard) {
      const detail = `quota stressed (hard mode): ${quota.detail}`;
      skipTarget(decision, target, key, label, "quota", detail, quota.calmUntil);
      continue;
    }
    const reserve = reserves
      ? checkReserve(reserveOf(reserves, auth), quota, state.trace.tier, state.request.interactive)
      : undefined;
    if (reserve?.kind === "excluded") {
      // With the time its window resets, as a critical one: a wait for the reset, "First available" and a gateway's
      // Retry-After read it (without one the target looked out for good, and the gateway answered 503 at once).
      skipTarget(decision, target, key, label, "quota", reserve.detail, quota?.windowResetsAt);
      continue;
    }

    const candidate: Candidate = {
      key,
      provider: target.provider,
      modelId: target.modelId,
      account: auth,
      label,
      declaredIndex: index,
      bucket: "normal",
      billing,
      reasons: [],
      warnings: [],
    };
    if (facts.pricing)
      candidate.estimatedCostUsd =
        (facts.pricing.input * est + facts.pricing.output * outputTokens) / TOKENS_PER_MILLION;
    if (status?.ttftMs !== undefined) candidate.ttftMs = status.ttftMs;
    if (status?.ttftFromEarlierRouter) candidate.ttftFromEarlierRouter = true;
    if (reserve?.kind === "allowed") candidate.reasons.push(reserve.reason);
    if (target.retryBeforeFailover || target.headers || target.body)
      candidate.reasons.push(...targetSettingsNotes(target));
    if (probe) {
      candidate.probe = true;
      candidate.reasons.push("half-open breaker: this attempt is the probe");
    }
    // A plan's unused share is lost at its reset, so a subscription in surplus goes first; a per-token target's unused
    // rate limit costs nothing, and moving it ahead would spend money a subscription could have saved.
    if (quota?.level === "surplus" && billing === "subscription") {
      candidate.bucket = "promoted";
      candidate.reasons.push(`${CANDIDATE_NOTE.quotaSurplus}${quota.detail}`);
    }
    if (quota?.level === "stressed") {
      candidate.bucket = "demoted";
      candidate.reasons.push(`${CANDIDATE_NOTE.quotaStressed}${quota.detail}`);
      candidate.warnings.push(`${CANDIDATE_NOTE.quotaStressed}${quota.detail}`);
    }
    const askedOutput = context.features.requestedMaxTokens;
    if (askedOutput !== undefined && facts.maxTokens !== undefined && facts.maxTokens < askedOutput) {
      candidate.bucket = "demoted";
      candidate.reasons.push(`max output ${facts.maxTokens} < ${askedOutput} tokens asked: the answer is capped there`);
    }
    let preferredRank = providerIndex(preferences.order, provider, authLower);
    // On a sortBy config route the order does not rank (rank.ts): the candidate is not said to be preferred.
    if (preferredRank >= 0 && !keepsDeclaredOrder(ranking.mode))
      candidate.reasons.push(`preferred provider (order #${preferredRank + 1})`);
    else preferredRank = Infinity;
    const entry: RankEntry = {
      candidate,
      preferredRank,
      meetsHint: state.hintConstraint ? meetsConstraint(facts, state.hintConstraint) : false,
    };
    if (status?.tokensPerSecond !== undefined) entry.tokensPerSecond = status.tokensPerSecond;
    // A subscription's answers cost nothing of the provider's budget: its limit never holds one back or warns of it.
    const budget = billing === "subscription" ? undefined : providerStatus?.budget;
    const pending: Pending = {
      candidate,
      entry,
      budgetBlocked: budget?.level === "blocked" ? budget.detail : undefined,
      spendUnknown: budget?.level === "blocked" && budget.spendUnknown === true,
    };

    reached.push({
      pending,
      auth,
      target,
      key,
      label,
      targetProvider: target.provider,
      provider,
      authLower,
      billing,
      candidate,
      entry,
      orderLength,
      status,
    });
  }
  // Rules see every target that reached them at once: a rule that would leave none of them yields (rule-order.ts).
  if (rules.length > 0) applyRules(rules, reached, context);
  for (const { pending, auth, target, excludedBy, key, label } of reached) {
    const { candidate } = pending;
    if (excludedBy) {
      pending.skip = skippedTarget(target, key, label, "excluded-by-rule", excludedBy);
      soft.push(pending);
      continue;
    }
    const budget = candidate.billing === "subscription" ? undefined : snapshot.providers[auth]?.budget;
    if (budget?.level === "blocked") {
      pending.skip = skippedTarget(target, key, label, "budget", `${CANDIDATE_NOTE.budgetBlocked}${budget.detail}`);
      soft.push(pending);
      continue;
    }
    if (budget?.level === "warning") {
      candidate.warnings.push(`budget: ${budget.detail}`);
      if (!warnedProviders.includes(auth)) {
        warnedProviders.push(auth);
        hints.push(`budget warning for ${auth}: ${budget.detail}`);
      }
    }
    eligible.push(pending);
  }
  return { eligible, soft };
}

/** A cooldown's skip detail: the failure kind that started it, then the provider's message (kept for explain). */
export const cooldownDetail = (kind: string, message?: string): string => `${kind}${message ? `: ${message}` : ""}`;

/** The failure kind at the head of a cooldown's skip detail (a kind has no colon). */
export const cooldownKindOf = (detail: string): string => detail.split(":", 1)[0]!;
