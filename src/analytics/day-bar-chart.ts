// What the session report's SVG charts share: their width, how wide a label is, escaping, and the per-day bar chart
// (daily composition, requests failed over) with its count axis, day labels and value labels in visible text.
import { formatCount, oneLine } from "./text-format.ts";

export const CHART_WIDTH = 760;
export const BAR_AREA_HEIGHT = 220;
/**
 * The most a character of the charts' 11 px text takes, by its shape: the widest of the usual system-ui and sans-serif
 * fonts (DejaVu Sans, the widest, then Segoe UI, San Francisco, Arial, Helvetica), rounded up. Labels get this room, so
 * a name of wide letters ("gamma/m-gamma", capitals) never runs past the SVG's edge, where it would be cut off; a
 * single width for all would have to be a wide letter's, leaving a name of narrow ones far from its bar.
 */
const NARROW_PX = 5; // i l j I . , : ; ' ! | and space: at most 0.4 em
const WIDE_PX = 11.5; // m w M W % @ and any other script (CJK, "…"): up to 1.02 em (Arial's @)
const SYMBOL_PX = 10; // + = < > ~ # & ^ *: 0.84 em in DejaVu Sans
const CAPITAL_PX = 9; // other capitals: up to 0.79 em (O, Q)
const CHARACTER_PX = 7.5; // lower-case letters, digits and the rest: up to 0.64 em
const characterWidth = (character: string): number =>
  /[iljI.,:;'!| ]/.test(character)
    ? NARROW_PX
    : /[mwMW%@]/.test(character) || character > "~"
      ? WIDE_PX
      : /[+=<>~#&^*]/.test(character)
        ? SYMBOL_PX
        : /[A-Z]/.test(character)
          ? CAPITAL_PX
          : CHARACTER_PX;

/** The room `text` may take in the charts' text: an upper bound, never less than it draws. */
export function textWidth(text: string): number {
  let width = 0;
  for (const character of text) width += characterWidth(character);
  return width;
}

/** `text` cut to fit `width` pixels, with "…" when cut. */
export function fitText(text: string, width: number): string {
  if (textWidth(text) <= width) return text;
  const characters = [...text];
  let kept = characters.length - 1;
  while (kept > 1 && textWidth(`${characters.slice(0, kept).join("")}…`) > width) kept--;
  return `${characters.slice(0, kept).join("")}…`;
}

/** How many characters before the first one that differs a name cut by fitApart keeps, so the difference reads. */
const CONTEXT_CHARACTERS = 6;

/**
 * `text` shortened to fit `width` pixels so that what tells it from names sharing its first `shared` characters shows:
 * its provider (up to the first "/"), "…", then from a few characters before the difference on, cut at the end when
 * still too long: "openrouter/…llama-3.3-70b-instruct".
 */
function fitApart(text: string, shared: number, width: number): string {
  const characters = [...text];
  const slash = characters.indexOf("/");
  const provider = slash >= 0 && slash < shared ? slash + 1 : 0;
  const from = Math.max(provider, shared - CONTEXT_CHARACTERS);
  if (from <= provider) return fitText(text, width);
  return fitText(`${characters.slice(0, provider).join("")}…${characters.slice(from).join("")}`, width);
}

/** How many characters all of `texts` begin with. */
function sharedStart(texts: readonly string[]): number {
  const [first = "", ...rest] = texts.map((text) => [...text]);
  let length = 0;
  while (length < first.length && rest.every((characters) => characters[length] === first[length])) length++;
  return length;
}

/**
 * Each of `texts` as fitText shows it in `width` pixels, except names that would then read the same (model names that
 * differ only after the room, `openrouter/meta-llama/llama-3.3-70b-instruct` and `...llama-3.1-405b-instruct` in a
 * legend's column): those keep their provider and show from where they differ (see fitApart).
 */
export function fitTexts(texts: readonly string[], width: number): Map<string, string> {
  const shown = new Map(texts.map((text) => [text, fitText(text, width)]));
  const groups = new Map<string, string[]>();
  for (const [text, short] of shown) if (short !== text) groups.set(short, [...(groups.get(short) ?? []), text]);
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const shared = sharedStart(group);
    for (const text of group) shown.set(text, fitApart(text, shared, width));
  }
  return shown;
}

export const escapeHtml = (text: string): string =>
  oneLine(text)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");

/** Where the per-day bar charts draw: a count axis on the left, room for the value labels above the tallest bar. */
const PLOT_LEFT_PX = 50;
const PLOT_TOP_PX = 24;
/** A bar is at most this wide: one day alone is a column with its value, not a block filling the chart. */
const MAX_BAR_WIDTH_PX = 48;
/** Between two lines of a value label, and the least room between day labels. */
const LINE_HEIGHT_PX = 12;
const GAP_PX = 6;
/** About this many steps on a count axis. */
const AXIS_STEPS = 4;
/** The legend's columns: a swatch, then the name, shortened with "…" to fit its column. */
const LEGEND_COLUMNS = 3;
const LEGEND_COLUMN_PX = 250;
const LEGEND_NAME_LEFT_PX = 14;

/** Ticks of a count axis from 0 in whole steps of 1, 2 or 5 x 10^n; the last is at or above `most`. */
export function countAxisTicks(most: number): number[] {
  const rough = Math.max(1, most) / AXIS_STEPS;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, [1, 2, 5, 10].map((factor) => factor * power).find((candidate) => candidate >= rough)!);
  const top = Math.ceil(Math.max(1, most) / step) * step;
  return Array.from({ length: Math.round(top / step) + 1 }, (_, index) => index * step);
}

export interface BarPart {
  value: number;
  fill: string;
  /** The rect's class and data-* attributes, escaped. */
  attributes: string;
  title: string;
}

export interface LegendEntry {
  name: string;
  fill: string;
  attributes: string;
}

/**
 * One stacked bar per day on a count axis with its ticks and grid lines, the day under each bar and its value above
 * it, in visible text: the <title> tooltips repeat them per part, but a screenshot or a print has no hover.
 */
export function dayBarChart(options: {
  id: string;
  label: string;
  unit: string;
  /**
   * Shown above each bar: `value` where every column's fits its slot, else `narrowValue`'s lines ("12", "of 345"),
   * else none (too many days: the axis gives the scale, the page's table the values).
   */
  columns: Array<{ day: string; parts: BarPart[]; value: string; narrowValue?: string[] }>;
  legend: LegendEntry[];
  /** Shown in a chart without columns (default: "no finished requests"). */
  emptyText?: string;
  /** SVG definitions a fill refers to (`url(#id)`: a hatch pattern). */
  defs?: string;
}): string {
  const { id, label, unit, columns, legend } = options;
  const ticks = countAxisTicks(
    Math.max(0, ...columns.map((column) => column.parts.reduce((sum, part) => sum + part.value, 0))),
  );
  const top = ticks.at(-1)!;
  const slot = columns.length ? (CHART_WIDTH - PLOT_LEFT_PX - 10) / columns.length : 0;
  const barWidth = Math.max(1, Math.min(slot * 0.8, MAX_BAR_WIDTH_PX));
  const fits = (lines: string[]) => lines.every((line) => textWidth(line) <= slot);
  // The value on one line, else its narrow lines, else a word a line ("0", "of", "1,500"), else none.
  const layouts = [
    (column: (typeof columns)[number]) => [column.value],
    (column: (typeof columns)[number]) => column.narrowValue ?? [column.value],
    (column: (typeof columns)[number]) => (column.narrowValue ?? [column.value]).flatMap((line) => line.split(" ")),
  ];
  const layout = layouts.find((lines) => columns.every((column) => fits(lines(column))));
  const labelLines = columns.map((column) => layout?.(column) ?? []);
  // Room above the tallest bar for its label's lines, so none is cut off at the chart's top.
  const lineCount = Math.max(1, ...labelLines.map((lines) => lines.length));
  const plotHeight = BAR_AREA_HEIGHT - PLOT_TOP_PX - (lineCount - 1) * LINE_HEIGHT_PX;
  const yOf = (value: number) => BAR_AREA_HEIGHT - (value / top) * plotHeight;
  // Every n-th day named where "05-01" is wider than a bar's slot.
  const dayEvery = Math.max(1, Math.ceil((textWidth("05-01") + GAP_PX) / Math.max(1, slot)));
  const axis = ticks.map(
    (tick) =>
      `<line class="grid" x1="${PLOT_LEFT_PX}" x2="${CHART_WIDTH - 10}" y1="${yOf(tick).toFixed(1)}" y2="${yOf(tick).toFixed(1)}" stroke="${tick === 0 ? "#888" : "#e4e4e4"}"/>` +
      `<text class="axis-tick" x="${PLOT_LEFT_PX - 6}" y="${(yOf(tick) + 4).toFixed(1)}" text-anchor="end">${formatCount(tick)}</text>`,
  );
  const unitLabel = `<text class="axis-unit" x="4" y="10">${escapeHtml(unit)}</text>`;
  const bars = columns.map((column, index) => {
    const x = PLOT_LEFT_PX + index * slot + (slot - barWidth) / 2;
    const center = (x + barWidth / 2).toFixed(1);
    let total = 0;
    const rects = column.parts.map((part) => {
      const bottom = yOf(total);
      total += part.value;
      const height = bottom - yOf(total);
      return `<rect ${part.attributes} x="${x.toFixed(1)}" y="${yOf(total).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${height.toFixed(1)}" fill="${part.fill}"><title>${escapeHtml(part.title)}</title></rect>`;
    });
    return (
      rects.join("") +
      labelLines[index]!.map(
        (line, row, lines) =>
          `<text class="value-label" data-day="${column.day}" x="${center}" y="${(yOf(total) - 5 - (lines.length - 1 - row) * LINE_HEIGHT_PX).toFixed(1)}" text-anchor="middle">${escapeHtml(line)}</text>`,
      ).join("") +
      (index % dayEvery === 0
        ? `<text class="axis-label" x="${center}" y="${BAR_AREA_HEIGHT + 14}" text-anchor="middle">${column.day.slice(5)}</text>`
        : "")
    );
  });
  // A name too long for its column is shortened, the whole name on hover, as the p50/p90 charts do.
  const names = fitTexts(
    legend.map((entry) => entry.name),
    LEGEND_COLUMN_PX - LEGEND_NAME_LEFT_PX - GAP_PX,
  );
  const legendMarks = legend.map((entry, index) => {
    const left = 10 + (index % LEGEND_COLUMNS) * LEGEND_COLUMN_PX;
    const top = BAR_AREA_HEIGHT + 26 + Math.floor(index / LEGEND_COLUMNS) * 16;
    const name = names.get(entry.name)!;
    const title = name === entry.name ? "" : `<title>${escapeHtml(entry.name)}</title>`;
    return `<g class="legend-item" ${entry.attributes}>${title}<rect x="${left}" y="${top}" width="10" height="10" fill="${entry.fill}"/><text x="${left + LEGEND_NAME_LEFT_PX}" y="${top + 9}">${escapeHtml(name)}</text></g>`;
  });
  const empty =
    columns.length === 0
      ? `<text x="${PLOT_LEFT_PX + 10}" y="${BAR_AREA_HEIGHT / 2}">${escapeHtml(options.emptyText ?? "no finished requests")}</text>`
      : "";
  const height = BAR_AREA_HEIGHT + 40 + Math.ceil(legend.length / LEGEND_COLUMNS) * 16;
  return `<svg id="${id}" class="chart" role="img" aria-label="${escapeHtml(label)}" width="${CHART_WIDTH}" height="${height}" viewBox="0 0 ${CHART_WIDTH} ${height}" xmlns="http://www.w3.org/2000/svg">${options.defs ? `<defs>${options.defs}</defs>` : ""}${unitLabel}${axis.join("")}${bars.join("")}${legendMarks.join("")}${empty}</svg>`;
}
