// routing-quality-stats: user ratings (feedback events) joined to the requests they rate. A rating points at its
// request by `ratedRequestId`; requests are remembered in a compact form (bounded) so ratings that arrive after the
// request's final can still be joined. A request rated twice counts once, with its latest rating.
//
// The earlier router's ratings also say the rated request's tier, intent and outcome (copied from its decision and
// final when it was rated). The request's own lines win when the log has them: they are what routing-stats groups
// that request by, so a tier's ratings are those of its requests. The rating's copy stands in when the request is
// not in the log (rotated out, or read from another file), so such ratings still count by tier, intent and outcome.
import { RecentMap } from "../recent-map.ts";
import { SharedNames } from "./shared-names.ts";
import type { EventOf, NormalizedEvent } from "../events/event-types.ts";
import type { LegacyFeedbackData } from "../events/legacy-events.ts";
import { failedOver, providerOf, servedTargetOf, type JoinedItem } from "./request-join.ts";
import {
  formatCount,
  formatPercent,
  formatSection,
  formatTable,
  formatUtcTime,
  moreRows,
  plural,
  ratio,
  UTC_TIME_HEADER,
} from "./text-format.ts";

/** Finished requests remembered for joining ratings; the oldest are forgotten first. */
export const MAX_REMEMBERED_REQUESTS = 100_000;

interface RequestSummary {
  routeId: string;
  requestedRouteId: string;
  served?: string;
  /** Absent when the request's decision is not in the log. */
  tier?: string;
  intent?: string;
  outcome: string;
  failedOver: boolean;
}

export interface ShareRow {
  key: string;
  rated: number;
  good: number;
  bad: number;
  positiveShare?: number;
}

export interface RecentRating {
  ts: string;
  ratedRequestId: string;
  rating: "good" | "bad";
  routeId?: string;
  servedTarget?: string;
  reason?: string;
  tags: string[];
}

export interface QualityStats {
  ratings: number;
  good: number;
  bad: number;
  positiveShare?: number;
  /** Ratings whose request is not in the log (or was forgotten): grouped by what the rating itself says. */
  unjoined: number;
  /** Ratings given in the window of requests before --since: left out, as their requests are (see addLeftOut). */
  ofRequestsBeforeSince: number;
  byRoute: ShareRow[];
  byProvider: ShareRow[];
  byModel: ShareRow[];
  byTier: ShareRow[];
  byIntent: ShareRow[];
  byOutcome: ShareRow[];
  byTag: ShareRow[];
  failover: {
    /** Joined ratings, the base of the shares below. */
    rated: number;
    withFailover: number;
    failoverShare?: number;
    positiveShareWithFailover?: number;
    positiveShareWithoutFailover?: number;
  };
  recentGood: RecentRating[];
  recentBad: RecentRating[];
}

type Grouping = Map<string, ShareRow>;

function count(grouping: Grouping, key: string, good: boolean): void {
  const row = grouping.get(key) ?? { key, rated: 0, good: 0, bad: 0 };
  row.rated++;
  if (good) row.good++;
  else row.bad++;
  grouping.set(key, row);
}

const rows = (grouping: Grouping): ShareRow[] =>
  [...grouping.values()]
    .map((row) => ({ ...row, positiveShare: ratio(row.good, row.rated) }))
    .sort((a, b) => b.rated - a.rated || a.key.localeCompare(b.key));

export class QualityStatsAccumulator {
  private readonly requests = new RecentMap<string, RequestSummary>(MAX_REMEMBERED_REQUESTS);
  private readonly ratings = new Map<string, EventOf<"feedback">>();
  /** The few route, target, tier, intent and outcome names, one copy each for every summary remembered. */
  private readonly names = new SharedNames();

  /** Requests --since left out (their route): a rating of one is outside the window, not unmatched. */
  private readonly beforeSince = new RecentMap<string, string | undefined>(MAX_REMEMBERED_REQUESTS);
  /** Ratings given after --until: counted only when the request they rate is in the window. */
  private readonly late = new Set<string>();

  constructor(private readonly options: { route?: string; limit?: number } = {}) {}

  /**
   * An event the reader left out of the window: a request event before --since marks its request as outside it, and
   * a rating after --until is kept, for a request in the window.
   */
  addLeftOut(event: NormalizedEvent, side: "before" | "after"): void {
    if (side === "after") {
      if (event.type !== "feedback") return;
      const feedback = event as EventOf<"feedback">;
      this.add({ kind: "feedback", event: feedback });
      this.late.add(feedback.data.ratedRequestId);
      return;
    }
    if (event.type === "feedback" || event.requestId === undefined) return;
    const routeId = event.type === "decision" ? (event.data as { routeId?: string }).routeId : undefined;
    const known = this.beforeSince.get(event.requestId);
    const route = routeId ?? known ?? event.routeId ?? undefined;
    this.beforeSince.set(event.requestId, route === undefined ? undefined : this.names.of(route));
  }

  add(item: JoinedItem): void {
    if (item.kind === "feedback") {
      const id = item.event.data.ratedRequestId;
      this.late.delete(id);
      this.ratings.delete(id); // re-insert so Map order follows the latest rating
      this.ratings.set(id, item.event);
      return;
    }
    if (item.kind !== "request") return;
    const request = item.request;
    if (!request.final) return;
    const served = servedTargetOf(request);
    this.requests.set(request.requestId, {
      routeId: this.names.of(request.routeId),
      requestedRouteId: this.names.of(request.requestedRouteId),
      served: served === undefined ? undefined : this.names.of(served),
      tier: request.decision?.tier === undefined ? undefined : this.names.of(request.decision.tier),
      intent: request.decision === undefined ? undefined : this.names.of(request.decision.intent),
      outcome: this.names.of(request.final.outcome),
      failedOver: failedOver(request),
    });
  }

  result(): QualityStats {
    const groupings = {
      route: new Map(),
      provider: new Map(),
      model: new Map(),
      tier: new Map(),
      intent: new Map(),
      outcome: new Map(),
      tag: new Map(),
    } satisfies Record<string, Grouping>;
    let good = 0;
    let bad = 0;
    let unjoined = 0;
    let ofRequestsBeforeSince = 0;
    const failover = { rated: 0, withFailover: 0, goodWith: 0, goodWithout: 0 };
    const recent: RecentRating[] = [];
    for (const [ratedRequestId, event] of this.ratings) {
      const summary = this.requests.get(ratedRequestId);
      // A rating given after --until whose request is not in the window is outside it too.
      if (!summary && this.late.has(ratedRequestId)) continue;
      const outside = !summary && this.beforeSince.has(ratedRequestId);
      const routeId =
        summary?.routeId ??
        (outside ? this.beforeSince.get(ratedRequestId) : undefined) ??
        event.data.routeId ??
        event.routeId;
      if (
        this.options.route !== undefined &&
        !(routeId === this.options.route || summary?.requestedRouteId === this.options.route)
      )
        continue;
      if (outside) {
        ofRequestsBeforeSince++;
        continue;
      }
      const isGood = event.data.rating === "good";
      if (isGood) good++;
      else bad++;
      const served = summary?.served ?? event.data.servedTarget;
      count(groupings.route, routeId ?? "(unknown)", isGood);
      if (served) {
        count(groupings.provider, providerOf(served), isGood);
        count(groupings.model, served, isGood);
      }
      for (const tag of event.data.tags ?? []) count(groupings.tag, tag, isGood);
      const recorded: Partial<LegacyFeedbackData> = event.legacy ? event.data : {};
      const tier = summary?.tier ?? recorded.tier;
      const intent = summary?.intent ?? recorded.intent;
      const outcome = summary?.outcome ?? recorded.outcome;
      if (summary || tier) count(groupings.tier, tier ?? "none", isGood);
      if (summary || intent) count(groupings.intent, intent ?? "unknown", isGood);
      if (outcome) count(groupings.outcome, outcome, isGood);
      if (summary) {
        failover.rated++;
        if (summary.failedOver) {
          failover.withFailover++;
          if (isGood) failover.goodWith++;
        } else if (isGood) failover.goodWithout++;
      } else {
        unjoined++;
      }
      recent.push({
        ts: event.ts,
        ratedRequestId,
        rating: event.data.rating,
        routeId,
        servedTarget: served,
        reason: event.data.reason,
        tags: event.data.tags ?? [],
      });
    }
    const limit = this.options.limit ?? 10;
    recent.sort((a, b) => Date.parse(b.ts) - Date.parse(a.ts));
    return {
      ratings: good + bad,
      good,
      bad,
      positiveShare: ratio(good, good + bad),
      unjoined,
      ofRequestsBeforeSince,
      byRoute: rows(groupings.route),
      byProvider: rows(groupings.provider),
      byModel: rows(groupings.model),
      byTier: rows(groupings.tier),
      byIntent: rows(groupings.intent),
      byOutcome: rows(groupings.outcome),
      byTag: rows(groupings.tag),
      failover: {
        rated: failover.rated,
        withFailover: failover.withFailover,
        failoverShare: ratio(failover.withFailover, failover.rated),
        positiveShareWithFailover: ratio(failover.goodWith, failover.withFailover),
        positiveShareWithoutFailover: ratio(failover.goodWithout, failover.rated - failover.withFailover),
      },
      recentGood: recent.filter((rating) => rating.rating === "good").slice(0, limit),
      recentBad: recent.filter((rating) => rating.rating === "bad").slice(0, limit),
    };
  }
}

export async function computeQualityStats(
  items: AsyncIterable<JoinedItem>,
  options: { route?: string; limit?: number } = {},
): Promise<QualityStats> {
  const accumulator = new QualityStatsAccumulator(options);
  for await (const item of items) accumulator.add(item);
  return accumulator.result();
}

const shareTable = (title: string, shareRows: ShareRow[]): string =>
  formatTable(
    [title, "rated", "good", "bad", "positive"],
    shareRows.map((row) => [
      row.key,
      formatCount(row.rated),
      formatCount(row.good),
      formatCount(row.bad),
      formatPercent(row.positiveShare),
    ]),
    ["left", "right", "right", "right", "right"],
  );

const recentTable = (ratings: RecentRating[], total: number): string =>
  ratings.length === 0
    ? moreRows(0, total).trim() || "(none)"
    : formatTable(
        [UTC_TIME_HEADER, "request", "served", "tags", "reason"],
        ratings.map((rating) => [
          formatUtcTime(rating.ts),
          rating.ratedRequestId,
          rating.servedTarget ?? "-",
          rating.tags.join(",") || "-",
          rating.reason ?? "",
        ]),
      ) + moreRows(ratings.length, total);

export function formatQualityStats(stats: QualityStats): string {
  const summary = [
    `ratings          ${formatCount(stats.ratings)} (good ${formatCount(stats.good)}, bad ${formatCount(stats.bad)})${stats.unjoined ? `, ${formatCount(stats.unjoined)} not matched to a request` : ""}${stats.ofRequestsBeforeSince ? `; ${formatCount(stats.ofRequestsBeforeSince)} left out: their requests are before --since` : ""}`,
    `positive share   ${formatPercent(stats.positiveShare)}`,
    `failover share   ${formatPercent(stats.failover.failoverShare)} of ${plural(stats.failover.rated, "matched rating")} had a failover`,
    `positive share   ${formatPercent(stats.failover.positiveShareWithFailover)} with failover, ${formatPercent(stats.failover.positiveShareWithoutFailover)} without`,
  ].join("\n");
  const sections: Array<[string, ShareRow[]]> = [
    ["route", stats.byRoute],
    ["provider", stats.byProvider],
    ["model", stats.byModel],
    ["tier", stats.byTier],
    ["intent", stats.byIntent],
    ["outcome", stats.byOutcome],
    ["tag", stats.byTag],
  ];
  return [
    formatSection("Ratings", summary),
    ...sections.map(([title, shareRows]) =>
      formatSection(`By ${title}`, shareRows.length ? shareTable(title, shareRows) : "(none)"),
    ),
    formatSection("Recent good", recentTable(stats.recentGood, stats.good)),
    formatSection("Recent bad", recentTable(stats.recentBad, stats.bad)),
  ].join("\n\n");
}
