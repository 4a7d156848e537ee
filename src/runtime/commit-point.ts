// What every kind of attempt (a pi-ai stream in attempt.ts, the gateway's passthrough) decides alike: when thinking
// counts as output, and the failures the router detects itself, with their texts.
import { type AttemptTimeouts, stallLimitMs, type TimeoutReason } from "./attempt-watchdog.ts";
import { makeFailure, type Failure } from "./classify-failure.ts";

/** Thinking this long (characters) counts as real output: the user is watching it, so it is never replayed. */
export const THINKING_COMMIT_CHARS = 200;
/** ...or thinking that has gone on this long. */
export const THINKING_COMMIT_MS = 1_500;

/** An attempt's thinking before the commit point: sustained thinking commits the answer like text does. */
export class ThinkingProgress {
  private chars = 0;
  private startedAt: number | undefined;

  /** Whether thinking has begun (its block started, with or without text yet). */
  get begun(): boolean {
    return this.startedAt !== undefined;
  }

  add(chars: number, now: number): void {
    this.startedAt ??= now;
    this.chars += chars;
  }

  sustained(now: number): boolean {
    return (
      this.startedAt !== undefined &&
      (this.chars >= THINKING_COMMIT_CHARS || now - this.startedAt >= THINKING_COMMIT_MS)
    );
  }
}

export function timeoutFailure(
  label: string,
  reason: TimeoutReason,
  timeouts: AttemptTimeouts,
  inThinking = false,
): Failure {
  if (reason === "first-token")
    return makeFailure("timeout", `${label}: no output within ${timeouts.firstTokenMs} ms (first-token timeout)`, {
      firstTokenTimeout: true,
    });
  const thinking = inThinking && stallLimitMs(timeouts, true) !== timeouts.stallMs;
  return makeFailure(
    "timeout",
    `${label}: no data for ${stallLimitMs(timeouts, inThinking)} ms${thinking ? " while thinking" : ""} (stream stalled)`,
  );
}

/** The text of a committed answer that a timeout cut off. */
export const cutOffText = (timeout: Failure): string =>
  `auto-router: ${timeout.message}; the answer was cut off (timed out)`;

export const emptyResponseFailure = (label: string): Failure =>
  makeFailure("empty_response", `${label}: finished without text or a tool call (empty response)`);

/** A stream that ended without its terminal event. */
export const endedWithoutResultText = (label: string): string =>
  `auto-router: ${label} ended its stream without a result (terminated)`;
