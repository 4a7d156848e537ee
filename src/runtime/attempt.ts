// One attempt against one target: buffer events until the commit point (DESIGN.md rule 4), then forward them
// unchanged. Before the commit point a failure is returned so the caller can fail over; after it, the target's own
// terminal event is forwarded (or a stall becomes a clear error) and the attempt is final.
import type { AssistantMessage, AssistantMessageEvent, AssistantMessageEventStream } from "@mariozechner/pi-ai";
import { AttemptWatchdog, type AttemptTimeouts } from "./attempt-watchdog.ts";
import { classifyFailure, isScriptException, makeFailure, type Failure } from "./classify-failure.ts";
import { withLengthStop } from "./length-stop.ts";
import { isRefusal, refusedMessage } from "./refusal.ts";
import {
  cutOffText,
  emptyResponseFailure,
  endedWithoutResultText,
  THINKING_COMMIT_MS,
  ThinkingProgress,
  timeoutFailure as timeoutOf,
} from "./commit-point.ts";

export type { AttemptTimeouts } from "./attempt-watchdog.ts";

/** After the router aborts a target, how long it may take to end its stream before it is abandoned. */
export const ABANDON_GRACE_MS = 2_000;

export type AttemptOutcome =
  | { status: "committed"; final: "done" | "aborted"; message?: AssistantMessage; ttftMs?: number; latencyMs: number }
  /** An error after the commit point (a cut-off answer), classified here once for everything that reads it. */
  | {
      status: "committed";
      final: "error";
      failure: Failure;
      /**
       * The target's own error response, passed on whole as its answer (the wildcard proxy's 400 or 404), not an
       * answer cut off: its target does not rest for it.
       */
      answeredError?: true;
      message?: AssistantMessage;
      ttftMs?: number;
      latencyMs: number;
    }
  | { status: "failed"; failure: Failure; message?: AssistantMessage; ttftMs?: number; latencyMs: number }
  | { status: "aborted"; message?: AssistantMessage; latencyMs: number };

export interface AttemptInput {
  stream: AssistantMessageEventStream;
  /** Where committed events go (the router's output stream). */
  push: (event: AssistantMessageEvent) => void;
  /**
   * Aborts the target request on a timeout; owned by the caller, combined with the user's signal. Absent when the
   * attempt has no timeout (nothing here could abort it then).
   */
  controller?: AbortController;
  userSignal?: AbortSignal;
  timeouts: AttemptTimeouts;
  contextWindow?: number;
  now: () => number;
  /** Called once, at the commit point (for an answer held to its end: when it is whole). */
  onCommit?: () => void;
  /**
   * The caller's client gets the answer only whole (a gateway client that did not ask to stream): past the commit
   * point nothing is forwarded until the answer is done, so a target that breaks off mid-answer is a failure the
   * request fails over from, not a cut-off answer.
   */
  holdsAnswer?: boolean;
  /** How long an aborted target may take to end its stream (default ABANDON_GRACE_MS). */
  abandonGraceMs?: number;
  label: string;
  /** Whether the target's HTTP response has arrived (pi-ai's onResponse), for the wording of pi-ai's own errors. */
  answered?: () => boolean;
}

const hasRealContent = (message: AssistantMessage | undefined): boolean =>
  !!message?.content?.some((block) => (block.type === "text" && block.text.trim() !== "") || block.type === "toolCall");

function isSubstantive(event: AssistantMessageEvent): boolean {
  return (event.type === "text_delta" && event.delta !== "") || event.type === "toolcall_start";
}

/**
 * What the router cannot pass on of an event, if anything: a delta whose text is missing or no text (pi-ai hands on
 * what the target sent, `"delta"` left out of an OpenAI Responses event among it, and adds it to its own text as
 * "undefined"). Passed on, it would break what reads the deltas, the answer's credential scrub, pi and the gateway's
 * clients alike.
 */
function unreadable(event: AssistantMessageEvent): string | undefined {
  if (event.type !== "text_delta" && event.type !== "thinking_delta" && event.type !== "toolcall_delta") return;
  const delta: unknown = event.delta;
  if (typeof delta === "string") return;
  return `a ${event.type} event ${delta === undefined ? "without its delta" : `whose delta is ${delta === null ? "null" : `a ${Array.isArray(delta) ? "list" : typeof delta}`}, not text`}`;
}

const textOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * pi-ai's own exception while it read the target's answer (an event without a field it reads, `message_start`
 * without its `message`, say) is reported in JavaScript's words, which read as the router's bug: once the target's
 * response has arrived, the error names the target and says what happened, quoting those words.
 */
function namedReadError(event: AssistantMessageEvent, input: AttemptInput): AssistantMessageEvent {
  if (event.type !== "error" || event.reason !== "error" || !input.answered?.()) return event;
  const text = event.error?.errorMessage;
  if (!isScriptException(text)) return event;
  const errorMessage = `${input.label}: the target sent an answer pi-ai could not read (${text})`;
  return { ...event, error: { ...event.error, errorMessage } };
}

/** Turns the partial message of a stalled, committed attempt into a clean error message for pi. */
function stalledMessage(partial: AssistantMessage | undefined, text: string, now: number): AssistantMessage {
  return { ...(partial as AssistantMessage), stopReason: "error", errorMessage: text, timestamp: now };
}

export async function runAttempt(input: AttemptInput): Promise<AttemptOutcome> {
  const { push, controller, timeouts, now } = input;
  const startedAt = now();
  let committed = false;
  let ttftMs: number | undefined;
  const thinking = new ThinkingProgress();
  let thinkingTimer: ReturnType<typeof setTimeout> | undefined;
  let lastPartial: AssistantMessage | undefined;
  const buffer: AssistantMessageEvent[] = [];

  let abandonTimer: ReturnType<typeof setTimeout> | undefined;
  const watchdog = new AttemptWatchdog(timeouts, now, (reason) => {
    controller?.abort(new Error(`auto-router ${reason} timeout`));
    // A target that does not end its stream after the abort is abandoned: ending the stream from this side (its
    // public end()) makes the pending read return, so the loop below needs no race per event.
    abandonTimer = setTimeout(() => input.stream.end(), input.abandonGraceMs ?? ABANDON_GRACE_MS);
  });
  // Past the commit point with the answer held to its end: the first-token deadline is gone, nothing is forwarded yet.
  let held = false;
  const reachCommitPoint = () => {
    ttftMs = now() - startedAt;
    watchdog.commit();
  };
  const forward = () => {
    committed = true;
    for (const event of buffer) push(event);
    buffer.length = 0;
    input.onCommit?.();
  };
  const commit = () => {
    reachCommitPoint();
    if (input.holdsAnswer) held = true;
    else forward();
  };
  /**
   * Thinking has begun: the first-token wait is over (only the stall deadline remains), and thinking that goes on
   * commits by its time even when no event comes meanwhile (a redacted block, or one whose text comes only at its end:
   * pi-ai passes no keep-alive on), as it does on the passthrough at the target's pings.
   */
  const thinkingBegins = () => {
    watchdog.commit();
    thinkingTimer = setTimeout(() => {
      if (!committed && !held && !watchdog.tripped && !input.userSignal?.aborted) commit();
    }, THINKING_COMMIT_MS);
  };
  const latency = () => now() - startedAt;
  const committedError = (message: AssistantMessage | undefined): AttemptOutcome => ({
    status: "committed",
    final: "error",
    failure: classifyFailure({ stopReason: "error", errorMessage: message?.errorMessage }, now()),
    message,
    ttftMs,
    latencyMs: latency(),
  });

  const timeoutFailure = (): Failure =>
    timeoutOf(input.label, watchdog.tripped ?? "stall", timeouts, watchdog.inThinking);
  /**
   * The target's answer broke off here for a reason of the router's reading (`text` says which): the target is
   * stopped; before the commit point it is a failure to fail over from, after it the answer is cut off with that text,
   * never continued by another target.
   */
  const brokenOff = (text: string): AttemptOutcome => {
    controller?.abort(new Error(text));
    if (!committed) {
      const message = held ? lastPartial : undefined;
      return { status: "failed", failure: makeFailure("unknown", text), message, latencyMs: latency() };
    }
    const message = stalledMessage(lastPartial, `auto-router: ${text}; the answer was cut off`, now());
    push({ type: "error", reason: "error", error: message });
    return committedError(message);
  };

  watchdog.arm();
  const iterator = input.stream[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      const event = namedReadError(withLengthStop(next.value), input);
      const why = unreadable(event);
      if (why) return brokenOff(`${input.label}: the target sent an event the router could not read (${why})`);
      watchdog.touch();
      // Inside a thinking block the stall deadline is the longer one (see attempt-watchdog.ts); the one that passed
      // stays as it was for the failure's text (the abort's error event follows).
      if (!watchdog.tripped && event.type !== "thinking_delta") watchdog.inThinking = event.type === "thinking_start";
      if ("partial" in event && event.partial) lastPartial = event.partial;
      if (committed) {
        if (event.type === "error" && watchdog.tripped === "stall") {
          const message = stalledMessage(event.error ?? lastPartial, cutOffText(timeoutFailure()), now());
          push({ type: "error", reason: "error", error: message });
          return committedError(message);
        }
        if (event.type === "error" && event.reason === "error") {
          // A refusal mid-answer is told as one (pi-ai 0.73.1 words it "An unknown error occurred").
          const outcome = committedError(event.error);
          if (outcome.status !== "committed" || outcome.final !== "error" || !isRefusal(outcome.failure)) {
            push(event);
            return outcome;
          }
          const refused = refusedMessage(event.error, input.label);
          push({ ...event, error: refused });
          return { ...outcome, message: refused };
        }
        push(event);
        if (event.type === "done")
          return { status: "committed", final: "done", message: event.message, ttftMs, latencyMs: latency() };
        if (event.type === "error")
          return { status: "committed", final: "aborted", message: event.error, ttftMs, latencyMs: latency() };
        watchdog.arm();
        continue;
      }
      if (event.type === "error") {
        if (watchdog.tripped)
          return { status: "failed", failure: timeoutFailure(), message: event.error, latencyMs: latency() };
        if (event.reason === "aborted" || input.userSignal?.aborted)
          return { status: "aborted", message: event.error, latencyMs: latency() };
        const failure = classifyFailure(
          {
            stopReason: event.error?.stopReason,
            errorMessage: event.error?.errorMessage,
            contextWindow: input.contextWindow,
          },
          now(),
        );
        return { status: "failed", failure, message: event.error, latencyMs: latency() };
      }
      if (event.type === "done") {
        // An answer its output limit stopped while the model thought is the target's answer all the same: another
        // target asked for as much would be stopped alike, and the thinking paid for twice.
        const stoppedThinking = event.reason === "length" && thinking.begun;
        if (!hasRealContent(event.message) && !stoppedThinking) {
          return {
            status: "failed",
            failure: emptyResponseFailure(input.label),
            message: event.message,
            latencyMs: latency(),
          };
        }
        buffer.push(event);
        if (!held) reachCommitPoint();
        forward();
        return { status: "committed", final: "done", message: event.message, ttftMs, latencyMs: latency() };
      }
      buffer.push(event);
      if (held) {
        watchdog.arm();
        continue;
      }
      if (event.type === "thinking_start" || event.type === "thinking_delta") {
        if (!thinking.begun) thinkingBegins();
        thinking.add(event.type === "thinking_delta" ? event.delta.length : 0, now());
      }
      if (isSubstantive(event) || thinking.sustained(now())) commit();
      else watchdog.arm();
    }
    // The stream ended without a terminal event, or was abandoned after the router aborted it.
    // A held answer's partial message says what the attempt spent.
    const spent = held ? lastPartial : undefined;
    if (watchdog.tripped && !committed)
      return { status: "failed", failure: timeoutFailure(), message: spent, latencyMs: latency() };
    if (input.userSignal?.aborted) return { status: "aborted", latencyMs: latency() };
    const text = watchdog.tripped
      ? `auto-router: ${timeoutFailure().message} (timed out)`
      : endedWithoutResultText(input.label);
    if (committed) {
      const message = stalledMessage(lastPartial, text, now());
      push({ type: "error", reason: "error", error: message });
      return committedError(message);
    }
    return { status: "failed", failure: makeFailure("network", text), message: spent, latencyMs: latency() };
  } catch (error) {
    // Something on the way out threw. Before the commit point the caller fails over (attempt-target.ts); after it, its
    // output has gone out, so the answer is cut off rather than continued by another target.
    if (!committed) throw error;
    return brokenOff(`${input.label}: ${textOf(error)}`);
  } finally {
    watchdog.stop();
    clearTimeout(thinkingTimer);
    if (abandonTimer) clearTimeout(abandonTimer);
  }
}
