// A target's refusal as the client's own refusal signal. pi-ai has no stop reason for one: it ends a refused answer
// with an error (Anthropic `stop_reason: "refusal"` / `"sensitive"`, OpenAI `finish_reason: "content_filter"`, a
// Gemini safety stop), which the runtime's classifier calls `content_policy`. A client of the target's own API gets
// the provider's answer as is (passthrough); a client of another API gets its protocol's refusal instead of an error:
// Chat `finish_reason: "content_filter"`, Responses `status: "incomplete"` with `incomplete_details.reason:
// "content_filter"`, Anthropic `stop_reason: "refusal"`, each with whatever text the target wrote before it stopped.
import type { AssistantMessage, AssistantMessageEvent } from "@mariozechner/pi-ai";
import { type Failure, makeFailure } from "../runtime/classify-failure.ts";
import type { RequestEnd } from "../runtime/failover-stream.ts";
import { isRefusal } from "../runtime/refusal.ts";
import type { AttemptRecord, ErrorCategory } from "./errors.ts";

export { isRefusal };

/** The gateway's own end event for a refused answer (the encoders turn it into the client's refusal). */
export interface RefusalEvent {
  type: "refusal";
  message: AssistantMessage;
}

/**
 * pi-ai's error event of an answer cut off after its commit point, with the error type the client is told (an
 * overloaded target's stays overloaded: errors.ts cutOffCategory).
 */
export type CutOffEvent = Extract<AssistantMessageEvent, { type: "error" }> & { category: ErrorCategory };

/** What the gateway's encoders take: pi-ai's events, the refusal end and a cut-off answer's error. */
export type AnswerEvent = AssistantMessageEvent | RefusalEvent | CutOffEvent;

/**
 * A passthrough answer that ended with its target's refusal before any output (`stop`: the stop as its API wrote
 * it): the content_policy failure pi-ai's error makes of it on the translating path, not an empty response, which
 * would fail over and rest the target.
 */
export const refusalFailure = (label: string, stop: string): Failure =>
  makeFailure("content_policy", `${label} stopped with ${stop} before any output`);

/**
 * The target whose refusal a request that ended before any answer ended in, if it did: the target's refusal was
 * surfaced (by default a refusal does not fail over), or every target tried refused (a route that fails over on
 * content_policy) and the last one is named.
 */
export function refusedBy(end: RequestEnd | undefined, attempts: readonly AttemptRecord[]): string | undefined {
  if (end?.outcome !== "failed" || end.refusal !== undefined) return undefined;
  const refused = end.surfaced ? isRefusal(end.surfaced) : attempts.length > 0 && attempts.every(isRefusal);
  return refused ? end.failures.at(-1)?.key : undefined;
}
