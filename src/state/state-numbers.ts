// The ranges of the numbers the router's own state holds. A number of the right type that no real state reaches (a
// hand-edited spend of $9e15, a count of 1e308, a time to first token of 4e15 ms) is damage, refused as a value of
// the wrong type is (the file is kept aside and what can be read is salvaged; a team hash's field is read as none):
// read as written, it would block a budget or rank a target last for good, and sums of such values reach Infinity.
import { z } from "zod";

/** Counts and sums (tokens, requests, US dollars): 10^15 is far above any real total and far below a sum's overflow. */
export const MAX_STATE_AMOUNT = 1e15;
/** A duration the router measured (a time to first token, in ms): 10^9 ms is over eleven days. */
export const MAX_STATE_DURATION_MS = 1e9;

/** An amount of the state: finite, 0 or more, at most MAX_STATE_AMOUNT. */
export const stateAmount = () => z.number().nonnegative().max(MAX_STATE_AMOUNT);
/** A measured duration of the state, in ms: 0 or more, at most MAX_STATE_DURATION_MS. */
export const stateDuration = () => z.number().nonnegative().max(MAX_STATE_DURATION_MS);

/** Whether `value` (read from a team hash's text) is an amount of the state. */
export const isStateAmount = (value: number): boolean =>
  Number.isFinite(value) && value >= 0 && value <= MAX_STATE_AMOUNT;
