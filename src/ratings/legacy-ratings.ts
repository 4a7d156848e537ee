// The earlier public pi-auto-router kept its ratings in the file we use for ours, `auto-router.ratings.json`, as an
// array (its last 500) of `{provider, modelId, routeId, rating, reason?, tags?, tier?, intent?, requestId?,
// conversationId?, timestamp}` (shared/docs/legacy-formats.md). Read exactly, they become our per-target windows, so a
// user's ratings keep steering routing; the next write stores them in our shape, with everything each one said.
import { z } from "zod";
import { lazy } from "../lazy.ts";
import { redactText } from "../state/redact.ts";
import {
  RATING_WINDOW,
  ratingDetailsShape,
  ratingsStateSchema,
  type RatingEntry,
  type RatingsState,
} from "./ratings-book.ts";

/** Built only when such a file is read. */
export const legacyRatingsSchema = lazy(() =>
  z.array(
    z.object({
      provider: z.string().min(1),
      modelId: z.string().min(1),
      rating: z.enum(["good", "bad"]),
      requestId: z.string().optional(),
      ...ratingDetailsShape(),
      // Epoch ms, or an ISO string.
      timestamp: z.union([z.number().finite(), z.string().datetime({ offset: true })]),
    }),
  ),
);

/** Our state from the old array; ratings without a request id get a stable one from their position. */
export function fromLegacyRatings(raw: unknown): RatingsState {
  const entries = legacyRatingsSchema().parse(raw);
  const targets: RatingsState["targets"] = {};
  entries.forEach((entry, index) => {
    const key = `${entry.provider}/${entry.modelId}`;
    const at = typeof entry.timestamp === "number" ? entry.timestamp : Date.parse(entry.timestamp);
    const rating: RatingEntry = {
      at,
      rating: entry.rating,
      requestId: entry.requestId ?? `legacy-rating-${index + 1}`,
    };
    // Nothing it said is lost when the file is next written in our shape.
    for (const field of ["routeId", "tier", "intent", "conversationId"] as const)
      if (entry[field] !== undefined) rating[field] = entry[field];
    // Text a user typed: redacted like everything the router writes.
    if (entry.reason !== undefined) rating.reason = redactText(entry.reason);
    if (entry.tags !== undefined) rating.tags = entry.tags.map(redactText);
    targets[key] = [...(targets[key] ?? []), rating].slice(-RATING_WINDOW);
  });
  return { v: 1, targets };
}

/** The ratings store's parser: our shape, or the earlier implementation's array. */
export const parseRatingsState = (raw: unknown): RatingsState =>
  Array.isArray(raw) ? fromLegacyRatings(raw) : ratingsStateSchema().parse(raw);
