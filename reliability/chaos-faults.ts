// The faults the chaos suite injects, and how each one looks on the wire of an OpenAI or Anthropic emulator.
// "healthy" and "slow-drip" are the only faults that answer; everything else must fail over before the commit
// point, except "drop-after-text", which fails after it (the answer is the user's, never replayed elsewhere).
import type { EmulatorReply } from "../test/helpers/sse-emulator-core.ts";

export const FAULTS = [
  "healthy",
  "slow-drip",
  "rate-limit-429",
  "overloaded-529",
  "server-500",
  "bad-gateway-502",
  "unavailable-503",
  "connection-refused",
  "reset-before-headers",
  "stall-before-first-token",
  "drop-after-text",
  "empty-200",
  "malformed-sse",
] as const;
export type Fault = (typeof FAULTS)[number];

/** Relative weights: about half of all calls answer, so most prompts have a healthy target and some have none. */
export const FAULT_WEIGHTS: Record<Fault, number> = {
  healthy: 40,
  "slow-drip": 8,
  "rate-limit-429": 6,
  "overloaded-529": 5,
  "server-500": 4,
  "bad-gateway-502": 4,
  "unavailable-503": 4,
  "connection-refused": 4,
  "reset-before-headers": 4,
  "stall-before-first-token": 4,
  "drop-after-text": 4,
  "empty-200": 4,
  "malformed-sse": 5,
};

export const ANSWERING_FAULTS: ReadonlySet<Fault> = new Set<Fault>(["healthy", "slow-drip"]);

/** Pause between the chunks of a slow drip: well below the routes' stall timeout, so it is slow but healthy. */
export const DRIP_CHUNK_DELAY_MS = 25;
/** Chunks a drip or an abort-prompt answer is cut into (one per word of the scripted text). */
export const SCRIPTED_WORDS = 8;
/** The rate-limited answer asks for this pause, in the body (which pi-ai passes on) and as Retry-After. */
export const RETRY_AFTER_SECONDS = 1;
/** Chunks a dropped stream delivers before its connection ends. */
const DROP_AFTER_CHUNKS = 3;

export type Dialect = "openai" | "anthropic";

/** The text a call answers with: unique per prompt, target and call, so any mixing of answers is visible. */
export function scriptedText(promptIndex: number, target: string, callIndex: number): string {
  const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"];
  return [`[p${promptIndex} ${target} c${callIndex}]`, ...words.slice(0, SCRIPTED_WORDS - 1)].join(" ") + ".";
}

/** The emulator reply for a fault. `slow` makes an answering reply drip (used for prompts that will be aborted). */
export function replyFor(fault: Fault, dialect: Dialect, text: string, slow: boolean): EmulatorReply {
  const drip = { text, chunkDelayMs: DRIP_CHUNK_DELAY_MS };
  switch (fault) {
    case "healthy":
      return slow ? drip : { text };
    case "slow-drip":
      return drip;
    case "rate-limit-429":
      return {
        status: 429,
        retryAfterSeconds: RETRY_AFTER_SECONDS,
        errorMessage: `Rate limit reached for requests. Please try again in ${RETRY_AFTER_SECONDS}s.`,
        ...(dialect === "anthropic" ? { errorType: "rate_limit_error" } : {}),
      };
    case "overloaded-529":
      return {
        status: 529,
        errorMessage: "Overloaded",
        ...(dialect === "anthropic" ? { errorType: "overloaded_error" } : {}),
      };
    case "server-500":
      return { status: 500 };
    case "bad-gateway-502":
      return { status: 502 };
    case "unavailable-503":
      return { status: 503 };
    case "reset-before-headers":
      return { resetBeforeHeaders: true };
    case "stall-before-first-token":
      return { text, stallAfterChunks: 0 };
    case "drop-after-text":
      return { text, dropAfterChunks: DROP_AFTER_CHUNKS, chunkDelayMs: 5 };
    case "empty-200":
      return { emptyStream: true };
    case "malformed-sse":
      return { malformedSse: true };
    case "connection-refused":
      // Never reaches an emulator: the gate in front of it is closed for the prompt.
      return { status: 500 };
  }
}
