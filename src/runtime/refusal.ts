// A target's refusal: a content_policy stop inside its answer (Anthropic stop_reason refusal / sensitive, OpenAI
// finish_reason content_filter, a Gemini safety stop), which pi-ai reports as an error with no HTTP status. It is
// about the prompt, not the target's health: the failure policy gives it no cooldown, and the breaker does not count
// it. pi-ai 0.73.1 words it "An unknown error occurred", which hides that the model declined: what pi shows says so.
import type { AssistantMessage } from "@mariozechner/pi-ai";

/**
 * Whether a failure is a target's refusal. A content policy HTTP error (OpenAI's 400 "Invalid prompt: ... flagged as
 * potentially violating our usage policy") has a status and is not: it stays an error, as the provider gives it.
 */
export const isRefusal = (failure: { kind?: string; status?: number } | undefined): boolean =>
  failure?.kind === "content_policy" && failure.status === undefined;

/** The message pi shows for `key`'s refusal: that it refused, with the target's own words after it. */
export function refusedMessage(message: AssistantMessage, key: string): AssistantMessage {
  const words = message.errorMessage?.trim();
  return { ...message, errorMessage: `auto-router: ${key} refused to answer${words ? ` (${words})` : ""}` };
}
