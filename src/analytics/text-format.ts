// Plain-text building blocks for the scripts' reports: aligned tables, bars, percentages, money and durations.
// Pure string functions; colour-free so output can be piped and diffed.

import { lazy } from "../lazy.ts";

export type Align = "left" | "right";

/**
 * Text from the event log as one line of a report: an upstream's error text may hold line breaks and escape sequences
 * (one that clears the terminal or sets its title), shown as a space and "?" instead.
 */
export const oneLine = (text: string): string =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this replaces.
  text.replace(/\r\n|[\r\n\t]/g, " ").replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");

/** Columns padded to their widest cell; numbers are usually right-aligned (pass `align`). The scripts' reports rule
 * a line of dashes under the headers (none under an empty one); the subcommands' short listings do not (`rule: false`). */
export function formatTable(
  headers: string[],
  rows: string[][],
  align: Align[] = [],
  options: { rule?: boolean } = {},
): string {
  return tableLayout(headers, rows, align, options).text;
}

/** formatTable's text and where each of its cells after the first starts (string index, the same on every line). */
export function tableLayout(
  headers: string[],
  rows: string[][],
  align: Align[] = [],
  options: { rule?: boolean } = {},
): { text: string; cellStarts: number[] } {
  rows = rows.map((row) => row.map(oneLine));
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        align[column] === "right" ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!),
      )
      .join("  ")
      .trimEnd();
  // No rule under an empty header (a bar column): it would underline nothing.
  const rule =
    options.rule === false ? [] : [line(widths.map((width, column) => (headers[column] ? "-" : " ").repeat(width)))];
  const cellStarts: number[] = [];
  for (let column = 1, start = 0; column < widths.length; column++) cellStarts.push((start += widths[column - 1]! + 2));
  return { text: [line(headers), ...rule, ...rows.map(line)].join("\n"), cellStarts };
}

/** A horizontal bar for a 0..1 fraction, `width` characters wide (partial cells shown with ▏..▉). */
export function formatBar(fraction: number, width = 20): string {
  const clamped = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const eighths = Math.round(clamped * width * 8);
  const full = Math.floor(eighths / 8);
  const partial = eighths % 8;
  const partials = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];
  return "█".repeat(full) + partials[partial] + " ".repeat(width - full - (partial > 0 ? 1 : 0));
}

/** Fill characters for stacked bars; the legend maps each to a series. */
export const STACK_CHARACTERS = ["█", "▓", "▒", "░", "#", "=", "+", ":", "*", "~"];

/** One bar made of several series, in the order given; rounding goes to the largest remainders. */
export function formatStackedBar(
  counts: number[],
  width = 40,
  characters: readonly string[] = STACK_CHARACTERS,
): string {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return " ".repeat(width);
  const exact = counts.map((count) => (count / total) * width);
  const cells = exact.map(Math.floor);
  let missing = width - cells.reduce((sum, cell) => sum + cell, 0);
  const order = exact
    .map((value, index) => ({ index, remainder: value - Math.floor(value) }))
    .sort((a, b) => b.remainder - a.remainder);
  for (const { index } of order) {
    if (missing <= 0) break;
    cells[index]!++;
    missing--;
  }
  return cells.map((cell, index) => characters[index % characters.length]!.repeat(cell)).join("");
}

/**
 * 0..1 as "42.5%"; "-" when there is nothing to divide. Only all is "100.0%" and only none "0.0%": 9,999 successes of
 * 10,000 are ">99.9%" and one failover in 10,000 "<0.1%", so a rate never reads as all or none when it is not.
 */
export function formatPercent(fraction: number | undefined): string {
  if (fraction === undefined || !Number.isFinite(fraction)) return "-";
  const shown = (fraction * 100).toFixed(1);
  if (shown === "100.0" && fraction < 1) return ">99.9%";
  if (shown === "0.0" && fraction > 0) return "<0.1%";
  return `${shown}%`;
}

/** numerator / denominator, undefined when the denominator is 0 (so JSON shows null-free absence, text shows "-"). */
export const ratio = (numerator: number, denominator: number): number | undefined =>
  denominator > 0 ? numerator / denominator : undefined;

/**
 * How precise a dollar amount is shown: "report" rounds to cents (four decimals below a cent, "$0" for nothing, thousands separated: "$12,345.68") for the
 * scripts' reports, text and HTML; "spend" keeps cents plus up to two more decimals when they matter, below $100 (small
 * per-request spend in the budget listings); "estimate" shows a per-request estimate to 3 decimals (4 below a cent).
 * Below $0.001 every precision keeps two significant digits ("$0.00014", "$0.000012"): a cost that is not zero never
 * shows as "$0.0000".
 */
export type UsdPrecision = "report" | "spend" | "estimate";

/** The smallest amount shown with fixed decimals; below it, two significant digits. */
const SMALL_USD = 0.001;

/** A positive amount below SMALL_USD to two significant digits, rounded, without trailing zeros: "0.000012". */
function smallAmount(magnitude: number): string {
  const decimals = Math.min(100, 1 - Math.floor(Math.log10(magnitude)));
  return magnitude.toFixed(decimals).replace(/0+$/, "");
}

/** Dollars for people ("-$0.0085" for a negative amount); "-" when there is no amount. */
export function formatUsd(value: number | undefined, precision: UsdPrecision = "report"): string {
  if (value === undefined || !Number.isFinite(value)) return "-";
  const magnitude = Math.abs(value);
  const sign = value < 0 ? "-" : "";
  if (magnitude > 0 && magnitude < SMALL_USD) return `${sign}$${smallAmount(magnitude)}`;
  if (magnitude === 0 && precision !== "spend") return "$0";
  if (precision === "estimate") return `${sign}$${magnitude.toFixed(magnitude < 0.01 ? 4 : 3)}`;
  if (precision === "spend")
    return `${sign}$${magnitude >= 100 ? magnitude.toFixed(2) : magnitude.toFixed(4).replace(/0{1,2}$/, "")}`;
  // With thousands separators, as the reports show counts (from what rounds to $1,000.00): "$12,345.68".
  if (magnitude >= 999.995)
    return `${sign}$${magnitude.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  return `${sign}$${magnitude.toFixed(magnitude < 0.01 ? 4 : 2)}`;
}

/**
 * A duration for people; "-" when there is none. "age" (ages, countdowns, windows) rounds to whole seconds, then to
 * minutes from 90 s, to hours and minutes from 90 min and to days and hours from 72 h (a weekly or monthly window's
 * reset: `25d22h`, not `622h03m`), never below 0 s; "latency" keeps milliseconds below a second, then seconds with
 * two decimals (one from 10 s).
 */
export function formatDuration(ms: number | undefined, range: "age" | "latency" = "age"): string {
  if (ms === undefined || !Number.isFinite(ms)) return "-";
  if (range === "latency") return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  return steps(Math.max(0, Math.round(ms / 1000)), Math.round);
}

/**
 * What is left of a rest, a break or a wait until a known time: like formatDuration, but rounded up at each step, so
 * it never reads as less than is left (1.4 s left is "2s"; 0.3 s left is "1s", never "0s" for a rest still running,
 * as the status line counts a wait down).
 */
export function formatTimeLeft(ms: number): string {
  if (!(ms > 0)) return "0s";
  return steps(Math.ceil(ms / 1000), Math.ceil);
}

const pad2 = (value: number) => String(value).padStart(2, "0");

/** Whole seconds in the largest unit that reads well, `round` deciding each step down. */
function steps(seconds: number, round: (value: number) => number): string {
  if (seconds < 90) return `${seconds}s`;
  const minutes = round(seconds / 60);
  if (minutes < 90) return `${minutes}m`;
  if (minutes < 72 * 60) return `${Math.floor(minutes / 60)}h${pad2(minutes % 60)}m`;
  const hours = round(minutes / 60);
  return `${Math.floor(hours / 24)}d${pad2(hours % 24)}h`;
}

export const formatCount = (value: number): string => value.toLocaleString("en-US");

/**
 * A count and its noun, singular for one: `1 request`, `2 requests`, `3 target switches` (with `many`). A fraction
 * (a config's `0.0001` days) keeps every digit it was written with, where formatCount would round it to three.
 */
export const plural = (count: number, one: string, many = `${one}s`): string =>
  // A small whole count (the status line's failovers and warnings, drawn per request) reads the same from String,
  // ~30 times cheaper than the formatter (~1 µs); a larger one gets its thousands separators.
  `${Number.isInteger(count) && count >= 0 && count < 1000 ? String(count) : everyDigit().format(count)} ${count === 1 ? one : many}`;

/**
 * One formatter, built on first use and kept: `toLocaleString` with options builds a new one at every call (~50 µs),
 * and a count may be worded on a request's path (a rule's reason).
 */
const everyDigit = lazy(() => new Intl.NumberFormat("en-US", { maximumFractionDigits: 20 }));

/** What a table cut by --limit says under it, so a short table is not read as the whole: empty when nothing was cut. */
export const moreRows = (shown: number, total: number): string =>
  total > shown ? `\n(${formatCount(total - shown)} more; --limit ${total} shows all)` : "";

/** A titled section: the title underlined, then the body. */
export const formatSection = (title: string, body: string): string => `${title}\n${"=".repeat(title.length)}\n${body}`;

/**
 * A logged time as the reports' time columns show it, in UTC as their headers say (`2026-05-01 11:30:00`): a time
 * written with another offset (`07:30:00-04:00`, an edited log or another tool's) is that instant in UTC, not its
 * wall clock.
 */
export function formatUtcTime(ts: string): string {
  const time = Date.parse(ts);
  return (Number.isNaN(time) ? ts : new Date(time).toISOString()).slice(0, 19).replace("T", " ");
}

/** The header of the reports' time columns. */
export const UTC_TIME_HEADER = "time (UTC)";

/** UTC calendar day of an epoch ms, `YYYY-MM-DD`. */
export const dayKey = (time: number): string => new Date(time).toISOString().slice(0, 10);

/**
 * A quota or budget figure as shown (UVI, used and elapsed shares, a budget's share): rounded DOWN, so a shown value never reaches a threshold the
 * real one has not (UVI 1.995 shows 1.99 under "critical ≥ 2", not 2.00). The nudge only absorbs binary noise: 0.7 / 0.4
 * is 1.7499999999999998 and shows 1.75, as it reads.
 */
export function floorTo(value: number, decimals: number): string {
  const scale = 10 ** decimals;
  return (Math.floor(value * scale + FLOAT_NOISE) / scale).toFixed(decimals);
}
const FLOAT_NOISE = 1e-6;

/** A share as a whole percentage rounded down ("79%" for 0.7999): a shown share never reaches a threshold early. */
export const formatPercentDown = (fraction: number): string => `${floorTo(fraction * 100, 0)}%`;
