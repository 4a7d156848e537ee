// The ratings of every target, over one store, and the service `/auto-router rate` talks to: a second rating of the
// same request replaces the first, and only the most recent RATING_WINDOW per target count.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { readBounded } from "../state/bounded-entries.ts";
import { stateTime } from "../state/state-numbers.ts";
import { stateObject } from "../state/unknown-fields.ts";
import type { FeedbackEventData, Rating } from "../events/event-types.ts";
import type { RatingMark } from "../routing/types.ts";
import type { PluginContext } from "../runtime/plugin.ts";
import type { StateStore } from "../state/json-store.ts";
import { lazy } from "../lazy.ts";
import { redactText } from "../state/redact.ts";

/** Ratings kept per target: the share of bad ones is over this many most recent, so old opinions fade out. */
export const RATING_WINDOW = 50;

/** What was said with a rating, all optional (the earlier implementation's ratings bring their tier and intent). */
export const ratingDetailsShape = () => ({
  routeId: z.string().optional(),
  reason: z.string().optional(),
  tags: z.array(z.string()).optional(),
  tier: z.string().optional(),
  intent: z.string().optional(),
  conversationId: z.string().optional(),
});

/** A rating, with what was said with it. */
const ratingEntrySchema = () =>
  stateObject({ at: stateTime(), rating: z.enum(["good", "bad"]), requestId: z.string(), ...ratingDetailsShape() });
/** Built when a ratings file is first read: nothing is stored until someone rates a request. */
export const ratingsStateSchema = lazy(() =>
  stateObject({
    v: z.literal(1),
    targets: z.record(z.string(), z.array(ratingEntrySchema())),
    /** The earlier router's ratings files already imported (src/state/legacy-import.ts). */
    legacyImports: z.array(z.string()).optional(),
  }),
);
export type RatingsState = z.infer<ReturnType<typeof ratingsStateSchema>>;
export type RatingEntry = z.infer<ReturnType<typeof ratingEntrySchema>>;
export const emptyRatings = (): RatingsState => ({ v: 1, targets: {} });

/** The request a rating attaches to. */
export interface RatedRequest {
  requestId: string;
  routeId: string;
  servedTarget: string;
  at: number;
}

export interface TargetRatings {
  good: number;
  bad: number;
  count: number;
  /** 0..1 */
  badShare: number;
  /** Each rating's time and verdict, oldest first (a rule may count only recent ones). */
  marks: RatingMark[];
}

/** Pure store operation: a second rating of the same request replaces the first; only the last RATING_WINDOW stay. */
export function addRating(state: RatingsState, key: string, entry: RatingEntry): RatingsState {
  const kept = (state.targets[key] ?? []).filter((existing) => existing.requestId !== entry.requestId);
  return { ...state, targets: { ...state.targets, [key]: [...kept, entry].slice(-RATING_WINDOW) } };
}

/**
 * A target's ratings with each stamped after `now` (a clock that ran ahead, another machine's, a hand edit) given
 * `now`, so that it ages from here rather than counting as recent until newer ratings push it out; the same list when
 * none is.
 */
const ratedByNow = (entries: RatingEntry[], now: number): RatingEntry[] =>
  entries.some((entry) => entry.at > now)
    ? entries.map((entry) => (entry.at > now ? { ...entry, at: now } : entry))
    : entries;

export function summarizeRatings(state: RatingsState): Record<string, TargetRatings> {
  const out: Record<string, TargetRatings> = {};
  for (const [key, entries] of Object.entries(state.targets)) {
    if (entries.length === 0) continue;
    const marks = entries.map((entry) => ({ at: entry.at, bad: entry.rating === "bad" }));
    const bad = marks.filter((mark) => mark.bad).length;
    out[key] = { good: entries.length - bad, bad, count: entries.length, badShare: bad / entries.length, marks };
  }
  return out;
}

export interface RatingInput {
  rating: Rating;
  reason?: string;
  tags?: string[];
}

export interface RatingService {
  /** The last request of this session a target completed; undefined before the first. */
  lastCompleted(): RatedRequest | undefined;
  /** An answer of a model chosen directly (not routed) that came after lastCompleted(), the latest; else undefined. */
  unroutedSince(): { target: string; at: number } | undefined;
  /**
   * Rates the last completed request; undefined when there is none. `replaced`: the rating the request had before,
   * which this one takes the place of.
   */
  rate(input: RatingInput, now: number): { rated: RatedRequest; stats: TargetRatings; replaced?: Rating } | undefined;
  /** Each target's ratings; one stamped after `now` is first written back stamped `now` (ratedByNow). */
  stats(now: number): Record<string, TargetRatings>;
}

export function createRatingService(
  store: StateStore<RatingsState>,
  record: PluginContext["record"],
): RatingService & {
  remember(request: RatedRequest | undefined): void;
  rememberUnrouted(answer: { target: string; at: number } | undefined): void;
} {
  let last: RatedRequest | undefined;
  let unrouted: { target: string; at: number } | undefined;
  // Asked for on every decision: bounded and summarised again only when the stored state is a new one (once bounded,
  // its times stay behind a clock that moves on).
  let summarised: { state: RatingsState; stats: Record<string, TargetRatings> } | undefined;
  const stats = (now: number): Record<string, TargetRatings> => {
    if (summarised?.state === store.read()) return summarised.stats;
    readBounded(
      store,
      (state) => state.targets,
      (state, targets) => ({ ...state, targets }),
      (entries) => ratedByNow(entries, now),
    );
    const state = store.read();
    summarised = { state, stats: summarizeRatings(state) };
    return summarised.stats;
  };
  return {
    remember: (request) => void (last = request),
    rememberUnrouted: (answer) => void (unrouted = answer),
    lastCompleted: () => last,
    unroutedSince: () => (unrouted && (!last || unrouted.at >= last.at) ? unrouted : undefined),
    stats,
    rate(input, now) {
      if (!last) return undefined;
      const rated = last;
      const entry: RatingEntry = { at: now, rating: input.rating, requestId: rated.requestId, routeId: rated.routeId };
      // Typed by the user: a key pasted into a reason must not reach the file (the event log redacts its copy too).
      if (input.reason) entry.reason = redactText(input.reason);
      if (input.tags?.length) entry.tags = input.tags.map(redactText);
      const replaced = store
        .read()
        .targets[rated.servedTarget]?.find((existing) => existing.requestId === rated.requestId)?.rating;
      store.update((state) => addRating(state, rated.servedTarget, entry));
      const data: FeedbackEventData = {
        rating: input.rating,
        ratedRequestId: rated.requestId,
        servedTarget: rated.servedTarget,
        routeId: rated.routeId,
      };
      if (input.reason) data.reason = input.reason;
      if (input.tags?.length) data.tags = input.tags;
      record("feedback", { ...data }, { requestId: randomUUID(), routeId: rated.routeId });
      return { rated, stats: stats(now)[rated.servedTarget]!, ...(replaced ? { replaced } : {}) };
    },
  };
}
