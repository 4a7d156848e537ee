// A stop pi-ai does not know, reported as an error though the answer ended well: Anthropic's
// `model_context_window_exceeded` (the default on Claude Sonnet 4.5 and later) says the context window filled up
// mid-answer, which is a length stop like `max_tokens`. pi-ai (0.73.1 to 1.6.0) throws "Unhandled stop reason: ..."
// on it, so pi and a translated gateway client saw a failure (a non-streaming request failed over, paying twice).
import type { AssistantMessageEvent } from "@mariozechner/pi-ai";
import { isUnknownLengthStop } from "./classify-failure.ts";

/** `event` as it is, or, for an error that is such a stop, the answer done with `reason: "length"`. */
export function withLengthStop(event: AssistantMessageEvent): AssistantMessageEvent {
  if (event.type !== "error" || event.reason !== "error" || !isUnknownLengthStop(event.error?.errorMessage))
    return event;
  const { errorMessage: _, ...message } = event.error;
  return { type: "done", reason: "length", message: { ...message, stopReason: "length" } };
}
