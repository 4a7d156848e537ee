// One self-contained HTML page for routing-session-stats --html: inline SVG charts and tables, no script, no
// network. Charts carry stable ids (`chart-daily-composition`, `chart-latency`, `chart-cost`, `chart-failovers`)
// and each mark carries data-* attributes, so a browser test can find and check them.
import type { SessionStats } from "./session-stats.ts";
import { formatDuration, formatPercent, formatUsd } from "./text-format.ts";

const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
];
const CHART_WIDTH = 760;
const BAR_AREA_HEIGHT = 220;
/**
 * The most a character of the charts' 11 px text takes: digits, "$" and most lower-case letters are 0.55-0.64 em in
 * the usual sans-serif fonts (DejaVu Sans, Arial, Helvetica). Labels get room for this many pixels per character so
 * none runs past the SVG's edge, where it would be cut off.
 */
const CHARACTER_WIDTH_PX = 7;
/** Gaps between a row's name and its bar, and between the bar and its value label. */
const GAP_PX = 6;
/** The model names' column takes at most this share of a chart's width; a longer name is shortened with "…". */
const MAX_NAME_SHARE = 0.4;

const textWidth = (text: string): number => text.length * CHARACTER_WIDTH_PX;

/** `text` cut to fit `width` pixels, with "…" when cut. */
function fitText(text: string, width: number): string {
  const characters = Math.floor(width / CHARACTER_WIDTH_PX);
  return text.length <= characters ? text : `${text.slice(0, Math.max(1, characters - 1))}…`;
}

export const escapeHtml = (text: string): string =>
  text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");

function dailyCompositionChart(stats: SessionStats): string {
  const models = [...new Set(stats.days.flatMap((day) => day.composition.map((part) => part.model)))];
  const color = (model: string) => PALETTE[models.indexOf(model) % PALETTE.length]!;
  const most = Math.max(1, ...stats.days.map((day) => day.requests));
  const slot = stats.days.length ? (CHART_WIDTH - 60) / stats.days.length : 0;
  const bars = stats.days.map((day, index) => {
    let y = BAR_AREA_HEIGHT;
    const x = 50 + index * slot;
    const parts = day.composition.map((part) => {
      const height = (part.requests / most) * (BAR_AREA_HEIGHT - 20);
      y -= height;
      return `<rect class="bar" data-day="${day.day}" data-model="${escapeHtml(part.model)}" data-value="${part.requests}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, slot * 0.8).toFixed(1)}" height="${height.toFixed(1)}" fill="${color(part.model)}"><title>${day.day} ${escapeHtml(part.model)}: ${part.requests}</title></rect>`;
    });
    return `${parts.join("")}<text class="axis-label" x="${(x + slot * 0.4).toFixed(1)}" y="${BAR_AREA_HEIGHT + 14}" text-anchor="middle">${day.day.slice(5)}</text>`;
  });
  const legend = models.map(
    (model, index) =>
      `<g class="legend-item" data-model="${escapeHtml(model)}"><rect x="${10 + (index % 3) * 250}" y="${BAR_AREA_HEIGHT + 26 + Math.floor(index / 3) * 16}" width="10" height="10" fill="${color(model)}"/><text x="${24 + (index % 3) * 250}" y="${BAR_AREA_HEIGHT + 35 + Math.floor(index / 3) * 16}">${escapeHtml(model)}</text></g>`,
  );
  const height = BAR_AREA_HEIGHT + 40 + Math.ceil(models.length / 3) * 16;
  return `<svg id="chart-daily-composition" class="chart" role="img" aria-label="Daily composition by served model" width="${CHART_WIDTH}" height="${height}" viewBox="0 0 ${CHART_WIDTH} ${height}" xmlns="http://www.w3.org/2000/svg">${bars.join("")}${legend.join("")}</svg>`;
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
  const marks = shown.map((row, index) => {
    const y = 10 + index * rowHeight;
    const name = fitText(row.model, nameWidth);
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

/** Requests failed over per day (what routing-stats' failover rate counts), not target switches. */
function failoverChart(stats: SessionStats): string {
  const most = Math.max(1, ...stats.days.map((day) => day.requestsFailedOver));
  const slot = stats.days.length ? (CHART_WIDTH - 60) / stats.days.length : 0;
  const marks = stats.days.map((day, index) => {
    const height = (day.requestsFailedOver / most) * (BAR_AREA_HEIGHT - 40);
    const x = 50 + index * slot;
    return (
      `<rect class="bar" data-day="${day.day}" data-value="${day.requestsFailedOver}" data-requests="${day.requests}" data-target-switches="${day.targetSwitches}" x="${x.toFixed(1)}" y="${(BAR_AREA_HEIGHT - 20 - height).toFixed(1)}" width="${Math.max(1, slot * 0.8).toFixed(1)}" height="${height.toFixed(1)}" fill="#e15759"><title>${day.day}: ${day.requestsFailedOver} of ${day.requests} requests failed over (${day.targetSwitches} target switches)</title></rect>` +
      `<text class="axis-label" x="${(x + slot * 0.4).toFixed(1)}" y="${BAR_AREA_HEIGHT - 6}" text-anchor="middle">${day.day.slice(5)}</text>`
    );
  });
  return `<svg id="chart-failovers" class="chart" role="img" aria-label="Requests failed over per day" width="${CHART_WIDTH}" height="${BAR_AREA_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${BAR_AREA_HEIGHT}" xmlns="http://www.w3.org/2000/svg">${marks.join("")}</svg>`;
}

const table = (id: string, headers: string[], rows: string[][]): string =>
  `<table id="${id}"><thead><tr>${headers.map((header) => `<th>${escapeHtml(header)}</th>`).join("")}</tr></thead><tbody>${rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join("")}</tr>`).join("")}</tbody></table>`;

export function renderSessionHtml(stats: SessionStats, options: { title?: string; generatedAt?: string } = {}): string {
  const title = options.title ?? "pi-auto-router session stats";
  const drift = stats.drift;
  const summary = table(
    "table-drift",
    ["requests", "as planned", "failover after error", "planner drift", "not served", "drift share"],
    [
      [
        String(drift.requests),
        String(drift.servedAsPlanned),
        String(drift.failoverAfterError),
        String(drift.plannerDrift),
        String(drift.notServed),
        formatPercent(drift.driftShare),
      ],
    ],
  );
  const masked = table(
    "table-masked-errors",
    ["target", "kind", "count", "last message"],
    stats.maskedErrors.map((row) => [row.target, row.failureKind, String(row.count), row.lastMessage ?? ""]),
  );
  const recent = table(
    "table-recent-drift",
    ["time", "route", "planned", "served", "kind"],
    stats.recentDrift.map((row) => [row.ts, row.routeId, row.planned, row.served, row.kind]),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}h2{margin-top:32px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}svg text{font-size:11px;fill:#333}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
<p id="generated">${escapeHtml(options.generatedAt ?? "")} · ${stats.requests} requests</p>
<h2>Daily composition by served model</h2>
${dailyCompositionChart(stats)}
<h2>Requests failed over per day</h2>
${failoverChart(stats)}
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
${masked}
<h2>Recent drift</h2>
${recent}
</body></html>
`;
}
