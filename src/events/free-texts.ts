// The free texts of our format's events, where an upstream's words land: an error message, a rating's reason, a
// warning. Our writer redacts them, but a log written by an earlier version or edited by hand may hold a key there, so
// the readers redact them again as they read them (the known key shapes; a reader remembers no credential), as the
// earlier format's are (legacy-events.ts). Only these strings: every line of every log is read.
import { redactText } from "../state/redact.ts";
import type { EventType, NormalizedEvent } from "./event-types.ts";

const FREE_TEXT_FIELDS: Partial<Record<EventType, readonly string[]>> = {
  result: ["message"],
  warning: ["message"],
  feedback: ["reason"],
  health: ["lastError"],
  breaker: ["lastFailure"],
};

/** Redacts the event's free texts in place. */
export function redactFreeTexts(event: NormalizedEvent): void {
  const fields = FREE_TEXT_FIELDS[event.type];
  if (fields === undefined) return;
  const data = event.data as unknown as Record<string, unknown>;
  for (const field of fields) {
    const text = data[field];
    if (typeof text === "string") data[field] = redactText(text);
  }
}
