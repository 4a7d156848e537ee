// The ranges of the numbers the router's own state holds. A number of the right type that no real state reaches (a
// hand-edited spend of $9e15, a count of 1e308, a time to first token of 4e15 ms) is damage, refused as a value of
// the wrong type is (the file is kept aside and what can be read is salvaged; a team hash's field is read as none):
// read as written, it would block a budget or rank a target last for good, and sums of such values reach Infinity.
import { z } from "zod";

/** Counts and sums (tokens, requests, US dollars): 10^15 is far above any real total and far below a sum's overflow. */
export const MAX_STATE_AMOUNT = 1e15;
/** A duration the router measured (a time to first token, in ms): 10^9 ms is over eleven days. */
export const MAX_STATE_DURATION_MS = 1e9;
/**
 * A time the state records (epoch ms): no later than the year 9999, the last an ISO date writes with four digits. A
 * time past it (a hand edit: the year 30000, 1e300) is no clock's: it would keep a mark "recent" for good, and a date
 * outside JavaScript's range (past 8.64e15) cannot be printed at all.
 */
export const MAX_STATE_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * A number from 0 to `max`, or an issue in words naming the range and what was written (zod's own, "Too big: expected
 * number to be <=253402300799999", named neither). The first check out of range ends the checks: 1e300 is not also
 * said to be beyond a whole number's safe range.
 */
function inRange(max: number, range: string) {
  const error = (issue: { input?: unknown }) => `expected ${range}, got ${String(issue.input)}`;
  return z.number().min(0, { error, abort: true }).max(max, { error, abort: true });
}

/** An amount of the state: finite, 0 or more, at most MAX_STATE_AMOUNT. */
export const stateAmount = () => inRange(MAX_STATE_AMOUNT, `a number from 0 to ${MAX_STATE_AMOUNT} (10^15)`);
/** A count of the state (failed checks in a row): a whole number from 0 to MAX_STATE_AMOUNT. */
export const stateCount = () =>
  inRange(MAX_STATE_AMOUNT, `a whole number from 0 to ${MAX_STATE_AMOUNT} (10^15)`).int({
    error: (issue) => `expected a whole number from 0 to ${MAX_STATE_AMOUNT} (10^15), got ${String(issue.input)}`,
  });
/** A measured duration of the state, in ms: 0 or more, at most MAX_STATE_DURATION_MS. */
export const stateDuration = () =>
  inRange(MAX_STATE_DURATION_MS, `a duration from 0 to ${MAX_STATE_DURATION_MS} ms (over eleven days)`);
/** A time of the state (epoch ms): 0 or more, at most MAX_STATE_TIME_MS. */
export const stateTime = () =>
  inRange(MAX_STATE_TIME_MS, `a time in epoch ms from 0 to ${MAX_STATE_TIME_MS} (the end of the year 9999)`);

/** Whether `value` (read from a team hash's text) is an amount of the state. */
export const isStateAmount = (value: number): boolean =>
  Number.isFinite(value) && value >= 0 && value <= MAX_STATE_AMOUNT;
