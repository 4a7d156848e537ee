// routing-session-stats: what the router did over time. Daily composition by served model, the UVI timeline per
// provider, latency/cost distributions per model, drift (served != planned: a failover after an error, or the
// planner itself moved), errors that a failover hid from the user, and the most recent drift rows.
// Everything is folded in as requests finish; memory is bounded by days x models, not by the log size.
import type { EventOf } from "../events/event-types.ts";
import { attemptCosts } from "./attempt-costs.ts";
import { addAttempt, modelRow, newModelTotals, type ModelRow, type ModelTotals } from "./model-totals.ts";
import { matchesRoute, plannedTargetOf, servedTargetOf, type JoinedItem, type JoinedRequest } from "./request-join.ts";
import { dayKey, ratio } from "./text-format.ts";

/** The daily composition's series of the requests no target served (every target failed, or none was tried). */
export const NOT_SERVED_SERIES = "(not served)";

export type { Distribution, ModelRow } from "./model-totals.ts";

/** Characters of an error message kept in the masked-error table. */
const MESSAGE_PREVIEW_LENGTH = 120;

/** Where the last `limit` of `length` items start: `slice(-limit)` would keep them all for a limit of 0. */
const lastStart = (length: number, limit: number): number => Math.max(0, length - limit);

export interface SessionStatsOptions {
  route?: string;
  /** Rows per list (days, errors, drift rows). */
  limit?: number;
  /** Models named per day; the rest are summed as "other". */
  dailyTop?: number;
}

export interface DayRow {
  day: string;
  requests: number;
  /** Requests that moved to another target at least once: what routing-stats' failover rate counts. */
  requestsFailedOver: number;
  /** Moves to the next target: a request that failed over twice counts 2. */
  targetSwitches: number;
  /** The same as targetSwitches, under its first name (kept for readers of earlier --json output). */
  failovers: number;
  /** Requests that ended failed: every target tried failed. */
  failed: number;
  /** Requests the router refused without calling a target (a hard budget, nothing left to try). */
  refused: number;
  /** Requests that ended in a target's refusal (a content filter: outcome refused with refusedBy). */
  refusedByTarget: number;
  /** Top models of the day by served requests, then "other"; not-served requests are "(not served)". */
  composition: Array<{ model: string; requests: number }>;
}

export interface UviRow {
  provider: string;
  day: string;
  samples: number;
  min: number;
  max: number;
  average: number;
  lastLevel: string;
}

export type DriftKind = "failover-after-error" | "planner-drift";

export interface DriftRow {
  ts: string;
  requestId: string;
  routeId: string;
  planned: string;
  served: string;
  kind: DriftKind;
  failureKinds: string[];
}

export interface SessionStats {
  requests: number;
  incomplete: number;
  days: DayRow[];
  uviTimeline: UviRow[];
  models: ModelRow[];
  drift: {
    requests: number;
    servedAsPlanned: number;
    failoverAfterError: number;
    plannerDrift: number;
    notServed: number;
    /** Shadow mode on and the routed order differed from the declared one. */
    shadowMismatch: number;
    driftShare?: number;
  };
  maskedErrors: Array<{ target: string; failureKind: string; count: number; lastMessage?: string }>;
  recentDrift: DriftRow[];
  /** How many rows each list had before --limit cut it (the text says how many are left out). */
  totals: { days: number; maskedErrors: number; recentDrift: number };
}

interface DayTotals {
  requests: number;
  requestsFailedOver: number;
  targetSwitches: number;
  failed: number;
  refused: number;
  refusedByTarget: number;
  models: Map<string, number>;
}

const newDayTotals = (): DayTotals => ({
  requests: 0,
  requestsFailedOver: 0,
  targetSwitches: 0,
  failed: 0,
  refused: 0,
  refusedByTarget: 0,
  models: new Map(),
});

/** What a report calls last or recent is the latest in time: logs of several machines are read one file after another. */
export class SessionStatsAccumulator {
  private requests = 0;
  private incomplete = 0;
  private readonly days = new Map<string, DayTotals>();
  private readonly uvi = new Map<string, UviRow & { sum: number; lastTime: number }>();
  private readonly models = new Map<string, ModelTotals>();
  private readonly drift = {
    servedAsPlanned: 0,
    failoverAfterError: 0,
    plannerDrift: 0,
    notServed: 0,
    shadowMismatch: 0,
  };
  private readonly masked = new Map<
    string,
    { target: string; failureKind: string; count: number; lastMessage?: string; lastTime?: number }
  >();
  /** The latest `limit` drift rows seen so far, with their time and the order they were read in. */
  private readonly recentDrift: Array<DriftRow & { time: number; order: number }> = [];
  private driftOrder = 0;
  private readonly limit: number;

  constructor(private readonly options: SessionStatsOptions = {}) {
    this.limit = options.limit ?? 14;
  }

  add(item: JoinedItem): void {
    if (item.kind === "quota") this.addQuota(item.event);
    else if (item.kind === "request" && matchesRoute(item.request, this.options.route)) this.addRequest(item.request);
  }

  private addQuota(event: EventOf<"quota">): void {
    const { uvi, models } = event.data;
    // A used-up window's UVI says nothing of it (1.4 at 70% elapsed): the level says it is out until its reset.
    const level = event.data.usedUp === true ? `${event.data.level} (used up)` : event.data.level;
    if (typeof uvi !== "number" || !Number.isFinite(uvi)) return;
    // A window of some models only is a timeline of its own: "anthropic (opus models)".
    const provider = typeof models === "string" ? `${event.data.provider} (${models})` : event.data.provider;
    const day = dayKey(event.time);
    const key = `${provider}\u0000${day}`;
    const row = this.uvi.get(key) ?? {
      provider,
      day,
      samples: 0,
      min: uvi,
      max: uvi,
      average: 0,
      lastLevel: level,
      sum: 0,
      lastTime: event.time,
    };
    row.samples++;
    row.sum += uvi;
    row.min = Math.min(row.min, uvi);
    row.max = Math.max(row.max, uvi);
    if (event.time >= row.lastTime) {
      row.lastLevel = level;
      row.lastTime = event.time;
    }
    this.uvi.set(key, row);
  }

  private model(target: string): ModelTotals {
    let totals = this.models.get(target);
    if (!totals) this.models.set(target, (totals = newModelTotals()));
    return totals;
  }

  private addRequest(request: JoinedRequest): void {
    this.addAttempts(request);
    const final = request.final;
    if (!final) {
      this.incomplete++;
      return;
    }
    this.requests++;
    const served = servedTargetOf(request);
    const day = dayKey(request.endTime);
    const dayTotals = this.days.get(day) ?? newDayTotals();
    dayTotals.requests++;
    dayTotals.targetSwitches += final.failovers;
    if (final.failovers > 0) dayTotals.requestsFailedOver++;
    if (final.outcome === "failed") dayTotals.failed++;
    if (final.outcome === "refused") {
      if (final.refusedBy === undefined) dayTotals.refused++;
      else dayTotals.refusedByTarget++;
    }
    const modelKey = served ?? NOT_SERVED_SERIES;
    dayTotals.models.set(modelKey, (dayTotals.models.get(modelKey) ?? 0) + 1);
    this.days.set(day, dayTotals);
    if (request.decision?.shadow?.enabled && !request.decision.shadow.match) this.drift.shadowMismatch++;
    this.addDrift(request, served);
    if (final.outcome === "success") this.addMaskedErrors(request);
  }

  private addAttempts(request: JoinedRequest): void {
    for (const attempt of attemptCosts(request)) addAttempt(this.model(attempt.target), attempt);
  }

  private addDrift(request: JoinedRequest, served: string | undefined): void {
    const final = request.final!;
    const planned = plannedTargetOf(request);
    if (!served) {
      this.drift.notServed++;
      return;
    }
    if (!planned || planned === served) {
      this.drift.servedAsPlanned++;
      return;
    }
    const hadError =
      final.failovers > 0 || request.results.some((result) => result.outcome === "failed" && result.target !== served);
    const kind: DriftKind = hadError ? "failover-after-error" : "planner-drift";
    if (hadError) this.drift.failoverAfterError++;
    else this.drift.plannerDrift++;
    const failureKinds = final.failureKinds?.length
      ? final.failureKinds
      : request.results.flatMap((result) => (result.failureKind ? [result.failureKind] : []));
    this.recentDrift.push({
      time: request.endTime,
      order: this.driftOrder++,
      ts: new Date(request.endTime).toISOString(),
      requestId: request.requestId,
      routeId: request.routeId,
      planned,
      served,
      kind,
      failureKinds,
    });
    if (this.recentDrift.length > this.limit) {
      // Drop the oldest row (of equal times, the one read first): the latest stay whatever the order of the files.
      let oldest = 0;
      this.recentDrift.forEach((row, index) => {
        if (newerFirst(this.recentDrift[oldest]!, row) < 0) oldest = index;
      });
      this.recentDrift.splice(oldest, 1);
    }
  }

  private addMaskedErrors(request: JoinedRequest): void {
    const failures = request.results.filter(
      (result) => result.outcome === "failed" || result.outcome === "failed-after-commit",
    );
    const entries =
      failures.length > 0
        ? failures.map((result) => ({
            target: result.target,
            failureKind: result.failureKind ?? "unknown",
            message: result.message,
          }))
        : (request.final!.failureKinds ?? []).map((failureKind) => ({
            target: "(unknown)",
            failureKind,
            message: undefined as string | undefined,
          }));
    for (const entry of entries) {
      const key = `${entry.target}\u0000${entry.failureKind}`;
      const row = this.masked.get(key) ?? { target: entry.target, failureKind: entry.failureKind, count: 0 };
      row.count++;
      if (entry.message && request.endTime >= (row.lastTime ?? Number.NEGATIVE_INFINITY)) {
        row.lastMessage = entry.message.slice(0, MESSAGE_PREVIEW_LENGTH);
        row.lastTime = request.endTime;
      }
      this.masked.set(key, row);
    }
  }

  result(): SessionStats {
    const dailyTop = this.options.dailyTop ?? 5;
    const days = [...this.days.entries()]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .slice(lastStart(this.days.size, this.limit))
      .map(([day, totals]) => {
        const ranked = [...totals.models.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
        const composition = ranked.slice(0, dailyTop).map(([model, requests]) => ({ model, requests }));
        const rest = ranked.slice(dailyTop).reduce((sum, [, requests]) => sum + requests, 0);
        if (rest > 0) composition.push({ model: "other", requests: rest });
        return {
          day,
          requests: totals.requests,
          requestsFailedOver: totals.requestsFailedOver,
          targetSwitches: totals.targetSwitches,
          failovers: totals.targetSwitches,
          failed: totals.failed,
          refused: totals.refused,
          refusedByTarget: totals.refusedByTarget,
          composition,
        };
      });
    const uviDays = new Set([...this.uvi.values()].map((row) => row.day));
    const keptUviDays = new Set([...uviDays].sort().slice(lastStart(uviDays.size, this.limit)));
    const uviTimeline = [...this.uvi.values()]
      .filter((row) => keptUviDays.has(row.day))
      .map(({ sum, lastTime, ...row }) => ({ ...row, average: sum / row.samples }))
      .sort((a, b) => a.provider.localeCompare(b.provider) || a.day.localeCompare(b.day));
    const models = [...this.models.entries()]
      .map(([model, totals]) => modelRow(model, totals))
      .sort((a, b) => b.attempts - a.attempts || a.model.localeCompare(b.model));
    const drifted = this.drift.failoverAfterError + this.drift.plannerDrift;
    return {
      requests: this.requests,
      incomplete: this.incomplete,
      days,
      uviTimeline,
      models,
      drift: {
        requests: this.requests,
        ...this.drift,
        driftShare: ratio(drifted, this.requests - this.drift.notServed),
      },
      maskedErrors: [...this.masked.values()]
        .sort((a, b) => b.count - a.count || a.target.localeCompare(b.target))
        .slice(0, this.limit)
        .map(({ lastTime, ...row }) => row),
      recentDrift: [...this.recentDrift].sort(newerFirst).map(({ time, order, ...row }) => row),
      totals: { days: this.days.size, maskedErrors: this.masked.size, recentDrift: drifted },
    };
  }
}

/** Newest first; of equal times, the one read last first. */
const newerFirst = (a: { time: number; order: number }, b: { time: number; order: number }): number =>
  b.time - a.time || b.order - a.order;

export async function computeSessionStats(
  items: AsyncIterable<JoinedItem>,
  options: SessionStatsOptions = {},
): Promise<SessionStats> {
  const accumulator = new SessionStatsAccumulator(options);
  for await (const item of items) accumulator.add(item);
  return accumulator.result();
}
