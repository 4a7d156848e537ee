// A target that refused the encrypted reasoning it was sent back (OpenAI's 400 `invalid_encrypted_content`: another
// account or organisation made it) is sent the request again at once without that reasoning, as part of the same
// attempt: the route's attempt count, a hard budget's reservation and a half-open breaker's probe claim are taken once
// for both tries, and the attempt's result (usage, breaker, health) is recorded once, for the try that ends it. The
// refused try still shows: a `result` event of the same attempt number, a note, and the observer's attempt list.
// The caller learns from the refusal (ReplayedReasoning): a later request leaves out, from the target's first try, the
// items of an issuer it refused before (or the very items, when their issuer is not known), with a note saying so.
import type { Candidate } from "../routing/types.ts";
import type { AttemptOutcome } from "./attempt.ts";
import { applyFailurePolicy } from "./classify-failure.ts";
import { resultEventData } from "./decision-events.ts";
import type { RequestReport } from "./request-environment.ts";
import { addNote, type RequestState } from "./request-state.ts";
import type { ReplayedReasoning, RequestObserver } from "./route-request.ts";
import { plural } from "../analytics/text-format.ts";

type FailedOutcome = Extract<AttemptOutcome, { status: "failed" }>;

/** The refusal a second try without the replayed reasoning gets past (made once per target and request). */
export const refusedReasoning = (outcome: AttemptOutcome): outcome is FailedOutcome =>
  outcome.status === "failed" && outcome.failure.encryptedReasoning === true;

/**
 * Records the refused try (no rest and no breaker failure: invalid_request says nothing about the target's health)
 * and marks the target to be sent the request without the reasoning from now on in this request.
 */
export function recordRefusedReasoning(
  env: { report: Pick<RequestReport, "record" | "note"> },
  state: RequestState,
  candidate: Candidate,
  outcome: FailedOutcome,
  policy: Parameters<typeof applyFailurePolicy>[1],
  observer: RequestObserver | undefined,
): void {
  const refused = { ...outcome, failure: applyFailurePolicy(outcome.failure, policy) };
  env.report.record(state.requestId, state.routeId, "result", resultEventData(state.attempts, candidate, refused));
  observer?.onAttemptResult?.(candidate, refused);
  state.failures.push({ key: candidate.key, kind: refused.failure.kind });
  (state.withoutReasoning ??= new Set()).add(candidate.key);
  addNote(
    env.report,
    state,
    `retried ${candidate.key} without the replayed reasoning: it refused the encrypted reasoning (another account's)`,
  );
  observer?.onReasoningLeftOut?.(candidate);
}

/**
 * The client's reasoning items this target is sent without from its first try, because it refused their issuer's
 * reasoning before (in an earlier request), with a note naming the issuers; undefined when there are none.
 */
export function leftOutForRefusedBefore(
  env: { report: Pick<RequestReport, "note"> },
  state: RequestState,
  candidate: Candidate,
  replayed: ReplayedReasoning | undefined,
  observer: RequestObserver | undefined,
): ReadonlySet<string> | undefined {
  const known = replayed?.refusedBefore(candidate);
  if (!known) return undefined;
  const issuers = known.issuers.join(", ");
  if (issuers)
    addNote(
      env.report,
      state,
      `left out ${issuers}'s encrypted reasoning for ${candidate.key} before its first try: it refused ${issuers}'s reasoning before (another account's)`,
    );
  if (known.unknownIssuer > 0) {
    const items = plural(known.unknownIssuer, "encrypted reasoning item");
    addNote(
      env.report,
      state,
      `left out ${items} of an issuer not known here for ${candidate.key} before its first try: it refused ${known.unknownIssuer === 1 ? "it" : "them"} before`,
    );
  }
  observer?.onReasoningLeftOut?.(candidate);
  return known.keys;
}
