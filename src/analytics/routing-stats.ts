// routing-stats: how many requests, how many succeeded, how many needed a failover; split by route and by the
// provider that served; and which planned target ended up served by which. Aborted requests are counted but left
// out of the rates: the user stopped them, so they say nothing about the router. A request's cost is every attempt's,
// as the budget counted it (attempt-costs.ts): a cut-off answer's estimated spend included; by provider, each
// attempt's cost is its own provider's, whichever provider then served.
import { attemptCosts, type RequestCost, requestCost } from "./attempt-costs.ts";
import {
  failedOver,
  matchesRoute,
  plannedTargetOf,
  providerOf,
  servedTargetOf,
  type JoinedItem,
  type JoinedRequest,
} from "./request-join.ts";
import {
  formatCount,
  formatPercent,
  formatSection,
  formatTable,
  formatUsd,
  moreRows,
  plural,
  ratio,
} from "./text-format.ts";
import { countUnder } from "../own-record.ts";

export interface GroupRow {
  key: string;
  requests: number;
  success: number;
  /** Requests that moved to another target at least once. */
  failovers: number;
  /** Moves to the next target: a request that failed over twice counts 2. */
  targetSwitches: number;
  successRate?: number;
  failoverRate?: number;
  costUsd: number;
}

export interface PairRow {
  planned: string;
  served: string;
  requests: number;
  /** Another target than the planned one served. */
  changed: boolean;
  /**
   * No target served (every one tried failed, or none could be tried): an outcome of its own, not a change of target,
   * as routing-session-stats' drift counts it ("not served").
   */
  notServed: boolean;
}

export interface RoutingStats {
  /** Requests with a final event (after the route filter). */
  requests: number;
  /** Requests seen without a final event. */
  incomplete: number;
  outcomes: Record<string, number>;
  /**
   * Of the `refused` outcomes, those a target refused (its content filter: `refusedBy` on the final line), apart from
   * those the router refused before calling any target (a hard budget). Neither is a failure.
   */
  refusedByTarget: number;
  /**
   * success / (requests - aborted - refused): a refusal, the router's (a hard budget) or a target's (its content
   * filter), is an answer the request got on purpose, neither a success of routing nor a failure.
   */
  successRate?: number;
  /** Requests with at least one failover / (requests - aborted). */
  failoverRate?: number;
  /** Requests that moved to another target at least once. */
  failovers: number;
  /** The same as failovers, under the name session-stats' days use for it. */
  requestsFailedOver: number;
  /** Moves to the next target: a request that failed over twice counts 2 (session-stats' days' `targetSwitches`). */
  targetSwitches: number;
  /** Every attempt's spend and every health probe's, as the budget counts it. */
  totalCostUsd: number;
  /** Attempts whose cost was estimated (the target reported no usable usage). */
  estimatedCosts: number;
  /**
   * The answers of `health --probe` (the gateway's `?probe=1`): spend of no request and no route, in the total and in
   * their provider's row. Left out with `--route`.
   */
  probes: { count: number; costUsd: number };
  byRoute: GroupRow[];
  byServedProvider: GroupRow[];
  plannedToServed: PairRow[];
}

interface GroupTotals {
  requests: number;
  /** Requests not aborted: the failover rate's denominator. */
  counted: number;
  /** Requests neither aborted nor refused: the success rate's denominator. */
  servable: number;
  success: number;
  failovers: number;
  targetSwitches: number;
  costUsd: number;
  estimatedCosts: number;
}

const newTotals = (): GroupTotals => ({
  requests: 0,
  counted: 0,
  servable: 0,
  success: 0,
  failovers: 0,
  targetSwitches: 0,
  costUsd: 0,
  estimatedCosts: 0,
});

/** `cost`: what the request cost (the route's rows); a provider's rows book each attempt's apart (addAttemptCosts). */
function addTo(totals: GroupTotals, request: JoinedRequest, cost?: RequestCost): void {
  const final = request.final!;
  totals.requests++;
  if (final.outcome !== "aborted") totals.counted++;
  if (final.outcome !== "aborted" && final.outcome !== "refused") totals.servable++;
  if (final.outcome === "success") totals.success++;
  if (failedOver(request)) totals.failovers++;
  totals.targetSwitches += final.failovers;
  if (!cost) return;
  totals.costUsd += cost.costUsd;
  totals.estimatedCosts += cost.estimated;
}

const toRow = (key: string, totals: GroupTotals): GroupRow => ({
  key,
  requests: totals.requests,
  success: totals.success,
  failovers: totals.failovers,
  targetSwitches: totals.targetSwitches,
  successRate: ratio(totals.success, totals.servable),
  failoverRate: ratio(totals.failovers, totals.counted),
  costUsd: totals.costUsd,
});

const byRequestsThenKey = (a: { requests: number; key?: string }, b: { requests: number; key?: string }) =>
  b.requests - a.requests || (a.key ?? "").localeCompare(b.key ?? "");

export class RoutingStatsAccumulator {
  private readonly total = newTotals();
  private incomplete = 0;
  private refusedByTarget = 0;
  private readonly outcomes: Record<string, number> = {};
  private readonly routes = new Map<string, GroupTotals>();
  private readonly providers = new Map<string, GroupTotals>();
  private readonly pairs = new Map<string, PairRow>();
  private readonly probes = { count: 0, costUsd: 0 };

  constructor(private readonly route?: string) {}

  private provider(name: string): GroupTotals {
    let totals = this.providers.get(name);
    if (!totals) this.providers.set(name, (totals = newTotals()));
    return totals;
  }

  add(item: JoinedItem): void {
    if (item.kind === "probe" && this.route === undefined) {
      const { provider, costUsd } = item.event.data;
      this.probes.count++;
      this.probes.costUsd += costUsd;
      this.total.costUsd += costUsd;
      this.provider(provider).costUsd += costUsd;
      return;
    }
    if (item.kind !== "request" || !matchesRoute(item.request, this.route)) return;
    const request = item.request;
    if (!request.final) {
      this.incomplete++;
      return;
    }
    const cost = requestCost(request);
    addTo(this.total, request, cost);
    // Counted under the outcome the final line names, a newer writer's too ("constructor" is a name like any other).
    countUnder(this.outcomes, request.final.outcome);
    if (request.final.outcome === "refused" && request.final.refusedBy !== undefined) this.refusedByTarget++;
    const routeKey = request.routeId || "(unknown)";
    if (!this.routes.has(routeKey)) this.routes.set(routeKey, newTotals());
    addTo(this.routes.get(routeKey)!, request, cost);
    const served = servedTargetOf(request);
    if (served) addTo(this.provider(providerOf(served)), request);
    // Each attempt's cost is its own provider's, as the budget books it: a failed attempt's is not the server's (a
    // provider that only failed has a row of its spend, no request served).
    for (const attempt of attemptCosts(request))
      if (attempt.costUsd) this.provider(providerOf(attempt.target)).costUsd += attempt.costUsd;
    const planned = plannedTargetOf(request) ?? "(none)";
    const servedKey = served ?? "(not served)";
    const pairKey = `${planned}\u0000${servedKey}`;
    const pair = this.pairs.get(pairKey) ?? {
      planned,
      served: servedKey,
      requests: 0,
      changed: served !== undefined && planned !== "(none)" && planned !== served,
      notServed: served === undefined,
    };
    pair.requests++;
    this.pairs.set(pairKey, pair);
  }

  result(): RoutingStats {
    return {
      requests: this.total.requests,
      incomplete: this.incomplete,
      outcomes: this.outcomes,
      refusedByTarget: this.refusedByTarget,
      successRate: ratio(this.total.success, this.total.servable),
      failoverRate: ratio(this.total.failovers, this.total.counted),
      failovers: this.total.failovers,
      requestsFailedOver: this.total.failovers,
      targetSwitches: this.total.targetSwitches,
      totalCostUsd: this.total.costUsd,
      estimatedCosts: this.total.estimatedCosts,
      probes: { ...this.probes },
      byRoute: [...this.routes].map(([key, totals]) => toRow(key, totals)).sort(byRequestsThenKey),
      byServedProvider: [...this.providers].map(([key, totals]) => toRow(key, totals)).sort(byRequestsThenKey),
      plannedToServed: [...this.pairs.values()].sort(
        (a, b) => b.requests - a.requests || a.planned.localeCompare(b.planned) || a.served.localeCompare(b.served),
      ),
    };
  }
}

export async function computeRoutingStats(
  items: AsyncIterable<JoinedItem>,
  options: { route?: string } = {},
): Promise<RoutingStats> {
  const accumulator = new RoutingStatsAccumulator(options.route);
  for await (const item of items) accumulator.add(item);
  return accumulator.result();
}

const groupTable = (rows: GroupRow[], title: string): string =>
  formatTable(
    [title, "requests", "success", "failed over", "cost"],
    rows.map((row) => [
      row.key,
      formatCount(row.requests),
      formatPercent(row.successRate),
      formatPercent(row.failoverRate),
      formatUsd(row.costUsd),
    ]),
    ["left", "right", "right", "right", "right"],
  );

/** Who refused: " (by its target)", " (by their targets)", " (by the router)", or how many of each. */
function refusalSplit(refused: number, byTarget: number): string {
  if (byTarget === 0) return " (by the router)";
  if (byTarget === refused) return refused === 1 ? " (by its target)" : " (by their targets)";
  return ` (${formatCount(byTarget)} by the target, ${formatCount(refused - byTarget)} by the router)`;
}

/** " (estimated for 2 attempts; 3 health probes $0.0012)": what the cost holds besides measured requests. */
function costNotes(stats: RoutingStats): string {
  const notes: string[] = [];
  if (stats.estimatedCosts) notes.push(`estimated for ${plural(stats.estimatedCosts, "attempt")}`);
  if (stats.probes.count)
    notes.push(`${plural(stats.probes.count, "health probe")} ${formatUsd(stats.probes.costUsd)}`);
  return notes.length ? ` (${notes.join("; ")})` : "";
}

const pairNote = (pair: PairRow): string => (pair.changed ? "changed" : pair.notServed ? "not served" : "");

export function formatRoutingStats(stats: RoutingStats, options: { limit?: number } = {}): string {
  const limit = options.limit ?? 20;
  const outcomes = Object.entries(stats.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(
      ([outcome, count]) =>
        `${outcome} ${formatCount(count)}${outcome === "refused" ? refusalSplit(count, stats.refusedByTarget) : ""}`,
    )
    .join(", ");
  const summary = [
    `requests       ${formatCount(stats.requests)}${stats.incomplete ? ` (+${formatCount(stats.incomplete)} without a final event)` : ""}`,
    `outcomes       ${outcomes || "-"}`,
    `success rate   ${formatPercent(stats.successRate)}${stats.outcomes.refused ? " (refused requests apart)" : ""}`,
    `failover rate  ${formatPercent(stats.failoverRate)} of requests (${plural(stats.failovers, "request")} failed over, ${plural(stats.targetSwitches, "target switch", "target switches")})`,
    `cost           ${formatUsd(stats.totalCostUsd)}${costNotes(stats)}`,
  ].join("\n");
  const pairs = formatTable(
    ["planned", "served", "requests", "note"],
    stats.plannedToServed
      .slice(0, limit)
      .map((pair) => [pair.planned, pair.served, formatCount(pair.requests), pairNote(pair)]),
    ["left", "left", "right", "left"],
  );
  const more = (rows: readonly unknown[]) => moreRows(Math.min(limit, rows.length), rows.length);
  return [
    formatSection("Routing", summary),
    formatSection("By route", groupTable(stats.byRoute.slice(0, limit), "route") + more(stats.byRoute)),
    formatSection(
      "By served provider",
      groupTable(stats.byServedProvider.slice(0, limit), "provider") + more(stats.byServedProvider),
    ),
    formatSection("Planned -> served", pairs + more(stats.plannedToServed)),
  ].join("\n\n");
}
