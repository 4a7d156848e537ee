// The events of one routed request built from what the runtime already has (the decision route() returned, an
// attempt's outcome), never recomputed, in the shapes of the shared event type map.
import type {
  CandidatesEventData,
  DecisionEventData,
  ResultEventData,
  ShadowComparison,
} from "../events/event-types.ts";
import type { Candidate, Decision, PromptShortcuts, RequestFeatures } from "../routing/types.ts";
import { zeroFilled } from "../budget/reconcile-usage.ts";
import { redactText } from "../state/redact.ts";
import { type UnitPrices, unitsCostUsd, usageUnits } from "../usage-units.ts";
import type { AttemptOutcome } from "./attempt.ts";

export function decisionEventData(
  decision: Decision,
  features: RequestFeatures,
  shortcuts: PromptShortcuts | undefined,
  shadow: ShadowComparison | undefined,
): DecisionEventData {
  return {
    requestedRouteId: decision.requestedRouteId,
    routeId: decision.routeId,
    tier: decision.trace.tier,
    tierSource: decision.trace.tierSource,
    intent: decision.trace.intent,
    intentConfidence: decision.trace.intentConfidence,
    features,
    shortcutTokens: decision.trace.tokens,
    preferences: shortcuts?.preferences,
    plannedTarget: decision.candidates[0]?.key,
    rules: decision.trace.rules,
    hints: decision.trace.hints,
    fallback: decision.trace.fallback,
    refusal: decision.refusal,
    shadow,
  };
}

/** ttftMs is a moving average: a microsecond is precision enough for the log. */
const toMicrosecond = (ms: number | undefined) => (ms === undefined ? undefined : Math.round(ms * 1000) / 1000);

export function candidatesEventData(decision: Decision): CandidatesEventData {
  return {
    candidates: decision.candidates.map((c, rank) => ({
      key: c.key,
      rank: rank + 1,
      bucket: c.bucket,
      billing: c.billing,
      reasons: c.reasons,
      warnings: c.warnings,
      estimatedCostUsd: c.estimatedCostUsd,
      ttftMs: toMicrosecond(c.ttftMs),
      probe: c.probe,
    })),
    skipped: decision.skipped.map((s) => ({ key: s.key, reason: s.reason, detail: s.detail, until: s.until })),
  };
}

const finite = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : undefined) as number;
const addUnits = (tokensUsd: number | undefined, unitsUsd: number | undefined) =>
  (tokensUsd === undefined ? undefined : tokensUsd + (unitsUsd ?? 0)) as number;

/**
 * One attempt's `result` event; a failure's message is redacted. Its usage's cost is the tokens' plus, where the
 * routes file prices them all (`unitPrices`), the units' (as the `usage` event and the budget count it).
 */
export function resultEventData(
  attempt: number,
  candidate: Candidate,
  outcome: AttemptOutcome,
  unitPrices?: UnitPrices,
): ResultEventData {
  // pi-ai's usage of zeros is no reading: a failure's error message carries it, and so does an answer whose stream
  // brought no usage (the budget estimates it, reconcile-usage.ts); the gateway's passthrough has no message at all.
  // All three log the attempt without one.
  const usage = outcome.message?.usage;
  const reported = usage && !zeroFilled(usage);
  const units = usageUnits(usage);
  const data: ResultEventData = {
    outcome: "failed",
    attempt,
    target: candidate.key,
    latencyMs: outcome.latencyMs,
    ttftMs: outcome.status !== "aborted" ? outcome.ttftMs : undefined,
    // As reported, but only numbers: a provider's `"completion_tokens": "12"` is no count (the `usage` event's reason
    // names it), and a NaN cost would be written as null.
    usage: reported
      ? {
          input: finite(usage.input),
          output: finite(usage.output),
          cacheRead: finite(usage.cacheRead),
          cacheWrite: finite(usage.cacheWrite),
          costUsd: finite(units ? addUnits(usage.cost?.total, unitsCostUsd(units, unitPrices)) : usage.cost?.total),
          ...(units ? { units } : {}),
        }
      : undefined,
  };
  if (outcome.status === "committed") {
    data.outcome =
      outcome.final === "done" ? "success" : outcome.final === "aborted" ? "aborted" : "failed-after-commit";
  } else if (outcome.status === "aborted") {
    data.outcome = "aborted";
  }
  // A failure, before the commit point or one that cut an answer off (its target rests as well): why, and how long.
  if ("failure" in outcome) {
    data.failureKind = outcome.failure.kind;
    data.message = redactText(outcome.failure.message);
    // An error the target answered as its whole answer (the wildcard proxy's 401 or 404 passed back) rests nothing
    // (try-candidates.ts): a cooldown logged for it would say the target rests when it is tried again at once.
    const rests = !(outcome.status === "committed" && outcome.answeredError);
    if (rests && outcome.failure.cooldownMs !== undefined) data.cooldownMs = outcome.failure.cooldownMs;
  }
  return data;
}

/**
 * Shadow mode: the full pipeline still ranks, but the request is routed in declared order, and both orders are
 * recorded so `/auto-router shadow show` can tell how often the ranking would have chosen differently.
 */
export function inDeclaredOrder(ranked: Decision): { decision: Decision; shadow: ShadowComparison } {
  const declared = [...ranked.candidates].sort((a, b) => a.declaredIndex - b.declaredIndex);
  const routedOrder = ranked.candidates.map((candidate) => candidate.key);
  const declaredOrder = declared.map((candidate) => candidate.key);
  const shadow = { enabled: true, declaredOrder, routedOrder, match: routedOrder[0] === declaredOrder[0] };
  const hint = `shadow mode: routed in declared order; the ranking chose ${routedOrder[0] ?? "no target"}`;
  return {
    decision: { ...ranked, candidates: declared, trace: { ...ranked.trace, hints: [...ranked.trace.hints, hint] } },
    shadow,
  };
}
