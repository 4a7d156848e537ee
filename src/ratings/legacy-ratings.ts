// The earlier public pi-auto-router kept its ratings in the file we use for ours, `auto-router.ratings.json`, as an
// array (its last 500) of `{provider, modelId, routeId, rating, reason?, tags?, tier?, intent?, requestId?,
// conversationId?, timestamp}` (shared/docs/legacy-formats.md). Read exactly, they become our per-target windows, so a
// user's ratings keep steering routing; the next write stores them in our shape, with everything each one said.
// In team mode the same conversion is merged into the team's ratings (src/state/legacy-import.ts).
import { z } from "zod";
import { lazy } from "../lazy.ts";
import { issueLines } from "../config/zod-issue-text.ts";
import { isObject } from "../is-object.ts";
import {
  keptOrThrow,
  legacyMarker,
  withoutDropped,
  type LegacyConverted,
  type LegacyFormat,
} from "../state/legacy-import.ts";
import { redactText } from "../state/redact.ts";
import { salvageRecords } from "../state/salvage.ts";
import {
  emptyRatings,
  RATING_WINDOW,
  ratingDetailsShape,
  ratingsStateSchema,
  type RatingEntry,
  type RatingsState,
} from "./ratings-book.ts";

/** Built only when such a file is read. */
const legacyRatingSchema = lazy(() =>
  z.object({
    provider: z.string().min(1),
    modelId: z.string().min(1),
    rating: z.enum(["good", "bad"]),
    requestId: z.string().optional(),
    ...ratingDetailsShape(),
    // Epoch ms, or an ISO string.
    timestamp: z.union([z.number().finite(), z.string().datetime({ offset: true })]),
  }),
);

/** The fields a rating may leave out: one written as null is left out (the earlier router checked none of them). */
const OPTIONAL_FIELDS = ["requestId", "routeId", "reason", "tags", "tier", "intent", "conversationId"];
const withoutNullOptionals = (value: unknown): unknown =>
  isObject(value)
    ? Object.fromEntries(
        Object.entries(value).filter(([field, held]) => !(held === null && OPTIONAL_FIELDS.includes(field))),
      )
    : value;

/**
 * The old array's readable ratings as our state, marked as imported, and where each one left out is (`3.rating: ...`,
 * by its place in the array). Ratings without a request id get one from their time, the same on every machine holding
 * that rating (a position would differ between two machines' files). Throws when there are ratings and none reads.
 */
function readLegacyRatings(raw: readonly unknown[]): LegacyConverted<RatingsState> {
  const targets: RatingsState["targets"] = {};
  const dropped: string[][] = [];
  let kept = 0;
  raw.forEach((value, index) => {
    const read = legacyRatingSchema().safeParse(withoutNullOptionals(value), { reportInput: true });
    if (!read.success) {
      dropped.push(issueLines([index], read.error));
      return;
    }
    const entry = read.data;
    kept += 1;
    const key = `${entry.provider}/${entry.modelId}`;
    const at = typeof entry.timestamp === "number" ? entry.timestamp : Date.parse(entry.timestamp);
    const rating: RatingEntry = {
      at,
      rating: entry.rating,
      requestId: entry.requestId ?? `legacy-rating-${at}`,
    };
    // Nothing it said is lost when the file is next written in our shape.
    for (const field of ["routeId", "tier", "intent", "conversationId"] as const)
      if (entry[field] !== undefined) rating[field] = entry[field];
    // Text a user typed: redacted like everything the router writes.
    if (entry.reason !== undefined) rating.reason = redactText(entry.reason);
    if (entry.tags !== undefined) rating.tags = entry.tags.map(redactText);
    targets[key] = [...(targets[key] ?? []), rating].slice(-RATING_WINDOW);
  });
  // A new file of our shape: the old array's ratings are moved into `targets`, nothing of it is carried beside them
  // (unknown-fields.ts keeps a newer version's fields, not the earlier router's, which would then be there twice).
  return keptOrThrow({ state: { v: 1, targets, legacyImports: [legacyMarker(raw)] }, dropped }, kept, "rating");
}

/** Our shape is an object with `v`; the old one an array. */
const isOurs = (raw: unknown): boolean => isObject(raw) && "v" in raw;
const NEITHER =
  'expected this router\'s ratings ({"v": 1, "targets": {...}}) or the earlier router\'s (an array of ratings)';

/** Adds the ratings `state` does not hold (by request id), in time order; the most recent RATING_WINDOW stay. */
function mergeRatings(state: RatingsState, imported: RatingsState): RatingsState {
  const targets = { ...state.targets };
  for (const [key, entries] of Object.entries(imported.targets)) {
    const held = targets[key] ?? [];
    const added = entries.filter((entry) => !held.some((existing) => existing.requestId === entry.requestId));
    if (added.length > 0) targets[key] = [...held, ...added].sort((a, b) => a.at - b.at).slice(-RATING_WINDOW);
  }
  return { ...state, targets };
}

export const legacyRatingsFormat: LegacyFormat<RatingsState> = {
  convert: (raw) => (Array.isArray(raw) ? readLegacyRatings(raw) : undefined),
  merge: mergeRatings,
};

/** The ratings store's parser: our shape, or the earlier implementation's array (one with an unreadable entry throws). */
export function parseRatingsState(raw: unknown): RatingsState {
  if (Array.isArray(raw)) return withoutDropped(readLegacyRatings(raw), "ratings file");
  if (!isOurs(raw)) throw new Error(NEITHER);
  return ratingsStateSchema().parse(raw);
}

/**
 * What the store continues from when the file does not parse (it is moved aside and named in a warning first): every
 * entry that reads, of our shape or of the old array, as the other state files keep theirs.
 */
export function salvageRatingsState(raw: unknown): RatingsState {
  if (Array.isArray(raw)) return readLegacyRatings(raw).state;
  if (!isOurs(raw)) throw new Error(NEITHER);
  return salvageRecords(ratingsStateSchema, emptyRatings)(raw);
}
