// What a failed attempt leaves behind, the same for a routed stream (failover-stream.ts) and a request the gateway's
// wildcard proxy forwarded: the route's failure policy applied, the result recorded once (event, breaker, health,
// budgets through onAttemptResult), then, when the request moves on, a cooldown on the target and a warning for
// rejected credentials.
import type { Candidate } from "../routing/types.ts";
import { routeTargetKey } from "../routing/types.ts";
import type { AttemptOutcome } from "./attempt.ts";
import { applyFailurePolicy, type Failure } from "./classify-failure.ts";
import type { AttemptContext, RequestEnvironment } from "./request-environment.ts";

type FailedOutcome = Extract<AttemptOutcome, { status: "failed" }>;

/** Applies the route's policy to the classified failure and records the attempt's result. */
export function settleFailure(
  env: RequestEnvironment,
  request: AttemptContext,
  candidate: Candidate,
  outcome: FailedOutcome,
  policy: Parameters<typeof applyFailurePolicy>[1],
): Failure {
  const failure = applyFailurePolicy(outcome.failure, policy);
  env.onAttemptResult(request, candidate, { ...outcome, failure });
  return failure;
}

/** The target rests for the failure's cooldown (on this route); rejected credentials also get one warning. */
export function restTarget(env: RequestEnvironment, routeId: string, candidate: Candidate, failure: Failure): void {
  if (failure.cooldownMs && failure.cooldownMs > 0) {
    const resetKnown = failure.kind === "quota_exhausted" && failure.retryAfterMs !== undefined ? true : undefined;
    env.cooldowns.set(routeTargetKey(routeId, candidate.key), { until: env.now() + failure.cooldownMs, kind: failure.kind, message: env.redact(failure.message), resetKnown }, env.now());
  }
  if (failure.kind === "auth") env.warn(`auto-router: ${candidate.key} rejected its credentials; it rests for ${Math.round((failure.cooldownMs ?? 0) / 60000)} min. Check /login or the API key.`);
}
