// Shared by the benches: percentiles over samples, a monotonic clock in microseconds, and plain-text tables with
// the goal and a PASS/MISS verdict next to each figure. Verdicts are text only: a bench never fails on timing.

export interface BenchResult {
  name: string;
  figures: Record<string, number>;
  lines: string[];
}

export interface Summary {
  count: number;
  p50: number;
  p99: number;
  mean: number;
  min: number;
}

/** Nearest-rank percentile of ascending samples; `fraction` in [0, 1]. */
export function percentile(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(fraction * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export function summarize(samples: ArrayLike<number>): Summary {
  const sorted = Array.from(samples).sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    mean: total / Math.max(1, sorted.length),
    min: sorted[0] ?? Number.NaN,
  };
}

export function median(samples: ArrayLike<number>): number {
  return percentile(
    Array.from(samples).sort((a, b) => a - b),
    0.5,
  );
}

/** Monotonic time in microseconds, as a float (hrtime keeps nanoseconds; µs is the unit every bench prints). */
export function nowMicroseconds(): number {
  return Number(process.hrtime.bigint()) / 1_000;
}

export function formatMicroseconds(value: number): string {
  if (!Number.isFinite(value)) return "-";
  return Math.abs(value) >= 10_000 ? `${(value / 1_000).toFixed(1)} ms` : `${value.toFixed(1)} µs`;
}

export function formatMilliseconds(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(0)} ms` : "-";
}

export function formatRate(perSecond: number): string {
  return Number.isFinite(perSecond) ? `${Math.round(perSecond).toLocaleString("en-US")}/s` : "-";
}

export function formatRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : "-";
}

export function verdict(pass: boolean): string {
  return pass ? "PASS" : "MISS";
}

/** Left-aligned text table; the first row is the header, followed by a rule. */
export function table(header: string[], rows: string[][]): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? "").length)));
  const render = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join("  ")
      .trimEnd();
  return [render(header), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(render)];
}
