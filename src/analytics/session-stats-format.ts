// Text rendering of SessionStats for the terminal. `verbose` adds the latency and cost buckets per model.
import { drawnComposition } from "./composition-series.ts";
import type { Distribution, SessionStats } from "./session-stats.ts";
import {
  STACK_CHARACTERS,
  formatBar,
  formatCount,
  formatStackedBar,
  formatDuration,
  formatPercent,
  formatSection,
  formatTable,
  formatUsd,
  moreRows,
  formatUtcTime,
  plural,
  UTC_TIME_HEADER,
} from "./text-format.ts";

const DAILY_BAR_WIDTH = 40;

function dailyComposition(stats: SessionStats): string {
  // Finished requests but no day: --limit 0 asked for none.
  if (stats.days.length === 0) return stats.requests > 0 ? "(no day shown: --limit 0)" : "(no finished requests)";
  // One fill character per series across all days, so the legend holds for every bar.
  const drawn = drawnComposition(stats.days, STACK_CHARACTERS.length);
  const characters = new Map(drawn.series.map((model, index) => [model, STACK_CHARACTERS[index]!]));
  const lines = drawn.days.map((day, index) => {
    const total = day.requests;
    const bar = formatStackedBar(
      day.composition.map((part) => part.requests),
      DAILY_BAR_WIDTH,
      day.composition.map((part) => characters.get(part.model)!),
    );
    // The day's own top model, named whole even when the chart draws it as "other" among the least served of all days.
    const top = stats.days[index]!.composition[0];
    return `${day.day}  ${formatCount(total).padStart(6)}  ${bar}  ${top ? `${top.model} ${formatPercent(top.requests / Math.max(1, total))}` : ""}`;
  });
  const legend = [...characters.entries()].map(([model, character]) => `${character} ${model}`).join("   ");
  return [...lines, "", `legend: ${legend}`].join("\n");
}

/** The "Recent drift" table, in the text report and the HTML one alike: UTC times to the second, and the failures. */
export const RECENT_DRIFT_HEADER = [UTC_TIME_HEADER, "route", "planned", "served", "kind", "failures"];
export const recentDriftRows = (stats: SessionStats): string[][] =>
  stats.recentDrift.map((row) => [
    formatUtcTime(row.ts),
    row.routeId,
    row.planned,
    row.served,
    row.kind,
    row.failureKinds.join(","),
  ]);

/** What each column of "Failovers per day" counts: a failover is a request moved on, a switch each move. */
const FAILOVER_COLUMNS_NOTE = [
  "failed over: requests that moved to another target at least once (what routing-stats' failover rate counts);",
  "target switches: moves to the next target (a request that failed over twice counts 2); failed: requests every",
  "target tried failed; refused: requests the router refused without calling a target (a hard budget, every",
  "target resting, none able to serve it); target refused: requests that ended in a target's refusal to answer",
  "(a content filter).",
  "The bar is the share of the day's requests (aborted ones included) that failed over.",
].join("\n");

function failoversPerDay(stats: SessionStats): string {
  const table = formatTable(
    ["day", "requests", "failed over", "target switches", "failed", "refused", "target refused", ""],
    stats.days.map((day) => [
      day.day,
      formatCount(day.requests),
      formatCount(day.requestsFailedOver),
      formatCount(day.targetSwitches),
      formatCount(day.failed),
      formatCount(day.refused),
      formatCount(day.refusedByTarget),
      formatBar(day.requestsFailedOver / Math.max(1, day.requests), 20).trimEnd(),
    ]),
    ["left", "right", "right", "right", "right", "right", "right", "left"],
  );
  return `${table}\n\n${FAILOVER_COLUMNS_NOTE}`;
}

const percentiles = (distribution: Distribution, format: (value: number | undefined) => string) =>
  distribution.count === 0 ? "-" : `${format(distribution.p50)} / ${format(distribution.p90)}`;

const latency = (ms: number | undefined) => formatDuration(ms, "latency");

function modelTable(stats: SessionStats): string {
  if (stats.models.length === 0) return "(no attempts)";
  return formatTable(
    ["model", "attempts", "failed", "latency p50/p90", "ttft p50/p90", "cost p50/p90", "cost total", "estimated"],
    stats.models.map((model) => [
      model.model,
      formatCount(model.attempts),
      formatCount(model.failed),
      percentiles(model.latencyMs, latency),
      percentiles(model.ttftMs, latency),
      percentiles(model.costUsd, formatUsd),
      formatUsd(model.costUsd.total),
      formatCount(model.estimated),
    ]),
    ["left", "right", "right", "right", "right", "right", "right", "right"],
  );
}

function bucketTable(stats: SessionStats, pick: "latencyMs" | "costUsd"): string {
  const labels = stats.models[0]?.[pick].buckets.map((bucket) => bucket.label) ?? [];
  return formatTable(
    ["model", ...labels],
    stats.models.map((model) => [model.model, ...model[pick].buckets.map((bucket) => formatCount(bucket.count))]),
    ["left", ...labels.map(() => "right" as const)],
  );
}

function uviTable(stats: SessionStats): string {
  if (stats.uviTimeline.length === 0) return "(no quota events)";
  return formatTable(
    ["provider", "day", "samples", "min", "avg", "max", "last level"],
    stats.uviTimeline.map((row) => [
      row.provider,
      row.day,
      formatCount(row.samples),
      row.min.toFixed(2),
      row.average.toFixed(2),
      row.max.toFixed(2),
      row.lastLevel,
    ]),
    ["left", "left", "right", "right", "right", "right", "left"],
  );
}

function driftOverview(stats: SessionStats): string {
  const drift = stats.drift;
  return [
    `requests                ${formatCount(drift.requests)}`,
    `served as planned       ${formatCount(drift.servedAsPlanned)}`,
    `failover after error    ${formatCount(drift.failoverAfterError)}`,
    `planner drift           ${formatCount(drift.plannerDrift)}`,
    `not served              ${formatCount(drift.notServed)}`,
    `shadow order mismatch   ${formatCount(drift.shadowMismatch)}`,
    `drift share             ${formatPercent(drift.driftShare)}`,
  ].join("\n");
}

export function formatSessionStats(stats: SessionStats, options: { verbose?: boolean } = {}): string {
  const masked =
    stats.maskedErrors.length === 0
      ? moreRows(0, stats.totals.maskedErrors).trim() || "(none)"
      : formatTable(
          ["target", "kind", "count", "last message"],
          stats.maskedErrors.map((row) => [row.target, row.failureKind, formatCount(row.count), row.lastMessage ?? ""]),
          ["left", "left", "right", "left"],
        ) + moreRows(stats.maskedErrors.length, stats.totals.maskedErrors);
  const recent =
    stats.recentDrift.length === 0
      ? moreRows(0, stats.totals.recentDrift).trim() || "(none)"
      : formatTable(RECENT_DRIFT_HEADER, recentDriftRows(stats)) +
        moreRows(stats.recentDrift.length, stats.totals.recentDrift);
  const daysLeftOut = stats.days.length > 0 ? moreRows(stats.days.length, stats.totals.days) : "";
  const sections = [
    formatSection(
      `Daily composition by served model (UTC days, ${plural(stats.requests, "request")}${stats.incomplete ? `, ${formatCount(stats.incomplete)} unfinished` : ""})`,
      dailyComposition(stats) + daysLeftOut,
    ),
    formatSection("Failovers per day", failoversPerDay(stats) + daysLeftOut),
    formatSection("UVI timeline", uviTable(stats)),
    formatSection(
      "Latency and cost per model (successful attempts for latency; every attempt for cost, as the budget counts it)",
      modelTable(stats),
    ),
  ];
  if (options.verbose) {
    sections.push(formatSection("Latency buckets per model", bucketTable(stats, "latencyMs")));
    sections.push(formatSection("Cost buckets per model", bucketTable(stats, "costUsd")));
  }
  sections.push(formatSection("Drift overview", driftOverview(stats)));
  sections.push(formatSection("Top errors masked by failover", masked));
  sections.push(formatSection("Recent drift", recent));
  return sections.join("\n\n");
}
