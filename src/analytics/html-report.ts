// One self-contained HTML page for routing-session-stats --html: inline SVG charts and tables, no script, no
// network. Charts carry stable ids (`chart-daily-composition`, `chart-latency`, `chart-cost`, `chart-failovers`)
// and each mark carries data-* attributes, so a browser test can find and check them.
import { drawnComposition } from "./composition-series.ts";
import { CHART_WIDTH, dayBarChart, escapeHtml, fitTexts, textWidth } from "./day-bar-chart.ts";
import { NOT_SERVED_SERIES, type SessionStats } from "./session-stats.ts";
import { RECENT_DRIFT_HEADER, recentDriftRows } from "./session-stats-format.ts";
import { formatCount, formatDuration, formatPercent, formatUsd, moreRows, plural } from "./text-format.ts";

/**
 * The served models' fills (Tableau 10 with its red swapped for D3's olive): red is the failover chart's "requests
 * failed over", and a model drawn in it would read as a failure.
 */
const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#bcbd22",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];
/** Gaps between a row's name and its bar, and between the bar and its value label. */
const GAP_PX = 6;
/** The model names' column takes at most this share of a chart's width; a longer name is shortened with "…". */
const MAX_NAME_SHARE = 0.4;

/** A chart without days: none finished, or `--limit 0` asked for none (as the text report says). */
const emptyText = (stats: SessionStats): string =>
  stats.requests > 0 ? "no day shown: --limit 0" : "no finished requests";

/** Requests that failed over: the one red of the report. */
const FAILED_OVER_FILL = "#e15759";
/**
 * Requests no target served are no model's: dark grey hatching, apart from the models' flat colours and from the
 * failover chart's red (which counts requests that were served, by another target).
 */
const NOT_SERVED_FILL = "url(#not-served-hatch)";
const NOT_SERVED_HATCH =
  '<pattern id="not-served-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#d9d9d9"/><rect width="3" height="6" fill="#4d4d4d"/></pattern>';

function dailyCompositionChart(stats: SessionStats): string {
  // One colour per series: drawnComposition keeps them no more than the palette's colours (the not-served series
  // takes none of them).
  const { days, series } = drawnComposition(stats.days, PALETTE.length);
  const models = series.filter((model) => model !== NOT_SERVED_SERIES);
  const color = (model: string) => (model === NOT_SERVED_SERIES ? NOT_SERVED_FILL : PALETTE[models.indexOf(model)]!);
  return dayBarChart({
    id: "chart-daily-composition",
    label: "Daily composition by served model",
    unit: "requests",
    emptyText: emptyText(stats),
    columns: days.map((day) => ({
      day: day.day,
      value: formatCount(day.requests),
      // Drawn bottom up: the day's top model at the base.
      parts: day.composition.map((part) => ({
        value: part.requests,
        fill: color(part.model),
        attributes: `class="bar" data-day="${day.day}" data-model="${escapeHtml(part.model)}" data-value="${part.requests}"`,
        title: `${day.day} ${part.model}: ${formatCount(part.requests)}`,
      })),
    })),
    legend: series.map((model) => ({
      name: model,
      fill: color(model),
      attributes: `data-model="${escapeHtml(model)}"`,
    })),
    defs: series.includes(NOT_SERVED_SERIES) ? NOT_SERVED_HATCH : undefined,
  });
}

/**
 * Horizontal p50/p90 bars per model. The name column and the room after the longest bar are sized to the labels, so
 * the names and the "p50 / p90" values stay inside the chart.
 */
function percentileChart(
  id: string,
  label: string,
  rows: Array<{ model: string; p50?: number; p90?: number }>,
  format: (value: number) => string,
): string {
  const shown = rows
    .filter((row) => row.p90 !== undefined)
    .map((row) => ({ ...row, value: `${format(row.p50 ?? 0)} / ${format(row.p90!)}` }));
  const most = Math.max(Number.MIN_VALUE, ...shown.map((row) => row.p90!));
  const rowHeight = 24;
  const nameWidth = Math.min(CHART_WIDTH * MAX_NAME_SHARE, Math.max(0, ...shown.map((row) => textWidth(row.model))));
  const barLeft = nameWidth + 2 * GAP_PX;
  const valueWidth = Math.max(0, ...shown.map((row) => textWidth(row.value)));
  const barWidth = Math.max(0, CHART_WIDTH - barLeft - GAP_PX - valueWidth - GAP_PX);
  const scale = (value: number) => (value / most) * barWidth;
  const names = fitTexts(
    shown.map((row) => row.model),
    nameWidth,
  );
  const marks = shown.map((row, index) => {
    const y = 10 + index * rowHeight;
    const name = names.get(row.model)!;
    return (
      `<g class="model-row" data-model="${escapeHtml(row.model)}"><text class="model-name" x="${barLeft - GAP_PX}" y="${y + 13}" text-anchor="end">${name === row.model ? "" : `<title>${escapeHtml(row.model)}</title>`}${escapeHtml(name)}</text>` +
      `<rect class="bar p90" data-value="${row.p90}" x="${barLeft}" y="${y}" width="${scale(row.p90!).toFixed(1)}" height="16" fill="#bab0ac"/>` +
      `<rect class="bar p50" data-value="${row.p50}" x="${barLeft}" y="${y + 3}" width="${scale(row.p50 ?? 0).toFixed(1)}" height="10" fill="#4e79a7"/>` +
      `<text class="value-label" x="${(barLeft + scale(row.p90!) + GAP_PX).toFixed(1)}" y="${y + 13}">${escapeHtml(row.value)}</text></g>`
    );
  });
  const height = Math.max(40, 20 + shown.length * rowHeight);
  const empty = shown.length === 0 ? `<text x="10" y="24">no data</text>` : "";
  return `<svg id="${id}" class="chart" role="img" aria-label="${escapeHtml(label)}" width="${CHART_WIDTH}" height="${height}" viewBox="0 0 ${CHART_WIDTH} ${height}" xmlns="http://www.w3.org/2000/svg">${marks.join("")}${empty}</svg>`;
}

/**
 * Requests failed over per day (what routing-stats' failover rate counts) stacked under the day's other requests, on
 * one axis of requests: one failover among many requests is a short bar, not a full one.
 */
function failoverChart(stats: SessionStats): string {
  return dayBarChart({
    id: "chart-failovers",
    label: "Requests failed over per day",
    unit: "requests",
    emptyText: emptyText(stats),
    columns: stats.days.map((day) => {
      const rest = day.requests - day.requestsFailedOver;
      return {
        day: day.day,
        value: `${formatCount(day.requestsFailedOver)} of ${formatCount(day.requests)}`,
        narrowValue: [formatCount(day.requestsFailedOver), `of ${formatCount(day.requests)}`],
        parts: [
          {
            value: day.requestsFailedOver,
            fill: FAILED_OVER_FILL,
            attributes: `class="bar" data-day="${day.day}" data-value="${day.requestsFailedOver}" data-requests="${day.requests}" data-target-switches="${day.targetSwitches}"`,
            title: `${day.day}: ${formatCount(day.requestsFailedOver)} of ${plural(day.requests, "request")} failed over (${plural(day.targetSwitches, "target switch", "target switches")})`,
          },
          {
            value: rest,
            fill: "#d5d5d5",
            attributes: `class="bar rest" data-day="${day.day}" data-value="${rest}"`,
            title: `${day.day}: ${formatCount(rest)} of ${plural(day.requests, "request")} did not fail over`,
          },
        ],
      };
    }),
    legend: [
      { name: "requests failed over", fill: FAILED_OVER_FILL, attributes: 'data-series="failed-over"' },
      { name: "other requests", fill: "#d5d5d5", attributes: 'data-series="rest"' },
    ],
  });
}

/** Under a table or chart --limit cut: how many rows are left out (empty when none are). */
const cutNote = (shown: number, total: number): string =>
  total > shown ? `\n<p class="note">${escapeHtml(moreRows(shown, total).trim().slice(1, -1))}</p>` : "";

/** A table in a wrapper that scrolls sideways in a narrow window, so the page itself keeps its width. */
const table = (id: string, headers: string[], rows: string[][]): string =>
  `<div class="table-wrap"><table id="${id}"><thead><tr>${headers.map((header) => `<th>${escapeHtml(header)}</th>`).join("")}</tr></thead><tbody>${rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join("")}</tr>`).join("")}</tbody></table></div>`;

/**
 * Which requests the report holds, as the script read them: a report passed on must say it is one route's, or since
 * a time, and what was skipped, as the text report's last line does.
 */
export interface ReportScope {
  /** The route --route selected (its id), and what was asked when that was an alias or a mapped name. */
  route?: { asked: string; routeId: string };
  /** The instant --since was read as (ISO 8601, UTC). */
  since?: string;
  /** The instant --until was read as (ISO 8601, UTC): the report holds the events before it. */
  until?: string;
  /** The reading summary's line: `read N lines from N files: ...`. */
  read?: string;
}

/** What follows "N requests": ` of route X (--route y)`, then ` since A, before B` (each part only when set). */
function scopeText(scope: ReportScope): string {
  const route = scope.route;
  const window = [
    ...(scope.since ? [`since ${scope.since}`] : []),
    ...(scope.until ? [`before ${scope.until}`] : []),
  ].join(", ");
  return (
    (route ? ` of route ${route.routeId}${route.asked === route.routeId ? "" : ` (--route ${route.asked})`}` : "") +
    (window ? ` ${window}` : "")
  );
}

export function renderSessionHtml(
  stats: SessionStats,
  options: { title?: string; generatedAt?: string; scope?: ReportScope } = {},
): string {
  const title = options.title ?? "pi-auto-router session stats";
  const drift = stats.drift;
  const summary = table(
    "table-drift",
    ["requests", "as planned", "failover after error", "planner drift", "not served", "drift share"],
    [
      [
        formatCount(drift.requests),
        formatCount(drift.servedAsPlanned),
        formatCount(drift.failoverAfterError),
        formatCount(drift.plannerDrift),
        formatCount(drift.notServed),
        formatPercent(drift.driftShare),
      ],
    ],
  );
  // The days --limit left out, under each per-day chart and the per-day table, as the text report says under its
  // lists; none when no day is shown at all (--limit 0: the charts say so).
  const daysCut = stats.days.length > 0 ? cutNote(stats.days.length, stats.totals.days) : "";
  const failovers = table(
    "table-failovers",
    ["day", "requests", "failed over", "target switches", "failed", "refused", "target refused"],
    stats.days.map((day) => [
      day.day,
      ...[day.requests, day.requestsFailedOver, day.targetSwitches, day.failed, day.refused, day.refusedByTarget].map(
        formatCount,
      ),
    ]),
  );
  const masked = table(
    "table-masked-errors",
    ["target", "kind", "count", "last message"],
    stats.maskedErrors.map((row) => [row.target, row.failureKind, formatCount(row.count), row.lastMessage ?? ""]),
  );
  // As the text report's table: UTC times to the second, and the failures that moved the request.
  const recent = table("table-recent-drift", RECENT_DRIFT_HEADER, recentDriftRows(stats));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}svg.chart{display:block;max-width:100%;height:auto}.table-wrap{max-width:100%;overflow-x:auto}h2{margin-top:32px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}svg text{font-size:11px;fill:#333}.note{font-size:13px;color:#555}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<p id="generated">${escapeHtml(options.generatedAt ?? "")} · ${plural(stats.requests, "request")}${escapeHtml(scopeText(options.scope ?? {}))}${stats.incomplete ? `, ${formatCount(stats.incomplete)} unfinished` : ""}</p>${options.scope?.read ? `\n<p id="read" class="note">${escapeHtml(options.scope.read)}</p>` : ""}
<h2>Daily composition by served model</h2>
${dailyCompositionChart(stats)}${daysCut}
<h2>Requests failed over per day</h2>
${failoverChart(stats)}${daysCut}
${failovers}${daysCut}
<p class="note">failed over: requests that moved to another target at least once; target switches: moves to the next
target (a request that failed over twice counts 2); failed: every target tried failed; refused: the router called no
target (a hard budget, every target resting, none able to serve it); target refused: a target refused to answer (a content filter).</p>
<h2>Latency per model (p50 / p90, successful attempts)</h2>
${percentileChart(
  "chart-latency",
  "Latency p50 and p90 per model",
  stats.models.map((model) => ({ model: model.model, p50: model.latencyMs.p50, p90: model.latencyMs.p90 })),
  (ms) => formatDuration(ms, "latency"),
)}
<h2>Cost per attempt per model (p50 / p90)</h2>
${percentileChart(
  "chart-cost",
  "Cost p50 and p90 per model",
  stats.models.map((model) => ({ model: model.model, p50: model.costUsd.p50, p90: model.costUsd.p90 })),
  formatUsd,
)}
<h2>Drift</h2>
${summary}
<h2>Top errors masked by failover</h2>
${masked}${cutNote(stats.maskedErrors.length, stats.totals.maskedErrors)}
<h2>Recent drift</h2>
${recent}${cutNote(stats.recentDrift.length, stats.totals.recentDrift)}
</body></html>
`;
}
