// Staying on a warm flat-rate target through a blip: how long to wait before trying the SAME target again, or
// undefined to fail over now. Pure (randomness and elapsed time are arguments), so the failover loop stays the one
// retry loop and this file only answers "again, after how long?".
import type { RetryBeforeFailoverConfig, RetryKind } from "../config/subscription-schema.ts";
import type { Failure } from "./classify-failure.ts";

export const DEFAULT_RETRY_KINDS: readonly RetryKind[] = ["rate_limit", "overloaded", "server"];
export const DEFAULT_RETRY_MAX_DELAY_MS = 5_000;
/** First backoff step; each further retry doubles it (before jitter and the cap). */
export const RETRY_BASE_DELAY_MS = 500;

export interface RetryQuestion {
  config: RetryBeforeFailoverConfig | undefined;
  failure: Failure;
  /** Retries of this target already made in this request. */
  retriesDone: number;
  /**
   * Time already spent on this target in this request, including earlier retries and waits, since its current
   * first-token window opened (the first try, or the last retry after a first-token timeout).
   */
  elapsedOnTargetMs: number;
  /** The request's time budget for one target's window (its first-token timeout); 0 = none. */
  budgetMs: number;
  /** A number in [0, 1). */
  random: number;
  /** No other target of the route is left to fail over to. */
  lastTarget?: boolean;
}

/**
 * Milliseconds to wait before retrying, or undefined to move on. A quota or usage-limit failure never retries (the
 * window will not reset within seconds); a retry hint longer than maxDelayMs means the target asked for more than a
 * blip, so the request fails over instead of sitting on it; and no retry may push the time spent on this target past
 * the request's first-token budget. A first-token timeout used that whole budget by definition: when `timeout` is
 * listed, its retry opens a new first-token window (the wait before it counted in that window, so a wait as long as
 * the window means no retry), and the caller counts the target's time from the failure on (`opensNewWindow`).
 */
export function retryDelayMs(question: RetryQuestion): number | undefined {
  const { config, failure } = question;
  // One bad generation (a tool call the provider could not parse) on the only target left: sampled again once, at
  // once, unless the target's own retryBeforeFailover says otherwise. Failing over is not possible, and pi's own retry
  // does not act on it, so without this the prompt would end on one unlucky sample.
  if (!config)
    return question.lastTarget && failure.kind === "malformed_output" && question.retriesDone === 0 ? 0 : undefined;
  if (question.retriesDone >= config.times) return undefined;
  const kinds: readonly string[] = config.kinds ?? DEFAULT_RETRY_KINDS;
  if (!kinds.includes(failure.kind)) return undefined;
  const maxDelayMs = config.maxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS;
  let delayMs: number;
  if (failure.retryAfterMs !== undefined) {
    if (failure.retryAfterMs > maxDelayMs) return undefined;
    delayMs = failure.retryAfterMs;
  } else {
    const backoffMs = Math.min(maxDelayMs, RETRY_BASE_DELAY_MS * 2 ** question.retriesDone);
    // "Equal jitter": half fixed, half random, so parallel sessions hitting the same blip spread out.
    delayMs = Math.round(backoffMs / 2 + (backoffMs / 2) * question.random);
  }
  const elapsedMs = opensNewWindow(failure) ? 0 : question.elapsedOnTargetMs;
  if (question.budgetMs > 0 && elapsedMs + delayMs >= question.budgetMs) return undefined;
  return delayMs;
}

/** A retry after this failure gets a first-token window of its own: the time on the target is counted from now. */
export const opensNewWindow = (failure: Failure): boolean => failure.firstTokenTimeout === true;
