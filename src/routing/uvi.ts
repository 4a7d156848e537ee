// Utilization Velocity Index: how fast a quota window is being used up compared with how fast time passes.
// UVI = consumed fraction / elapsed fraction. 1.0 = exactly on pace to use the whole window by its reset; 2.0 =
// twice as fast, so the quota runs out half-way. Pure: `now` and the windows come in as arguments.
// The elapsed fraction comes from each window's real length: computed from reset-minus-now, Google's pacing comes out
// ~20x too high.
import type { QuotaLevel } from "./types.ts";

/** A window that just started must not divide by ~0: elapsed counts as at least this share. */
export const MIN_ELAPSED_FRACTION = 0.05;

export interface QuotaWindow {
  /** "5h", "7d", "primary", "requests"... */
  name: string;
  /** 0..1 of the window's allowance already used. */
  usedFraction: number;
  /** The window's real length. */
  windowMs: number;
  /** When the window resets (epoch ms). */
  resetsAt: number;
  /** Where it came from ("usage-api", "headers", "budget"), for the detail text. */
  source?: string;
}

export interface UviThresholds {
  critical: number;
  stressed: number;
  surplus: number;
  /** Surplus only counts late in a window: early on a low UVI says little. */
  surplusElapsed: number;
}

export const DEFAULT_UVI_THRESHOLDS: Readonly<UviThresholds> = {
  critical: 2.0,
  stressed: 1.5,
  surplus: 0.5,
  surplusElapsed: 0.7,
};

export interface WindowAssessment {
  name: string;
  uvi: number;
  usedFraction: number;
  elapsedFraction: number;
  level: QuotaLevel;
  resetsAt: number;
  source?: string;
}

export interface ProviderAssessment {
  level: QuotaLevel;
  /** UVI of the worst window. */
  uvi: number;
  worst: WindowAssessment;
  windows: WindowAssessment[];
  detail: string;
}

const LEVEL_RANK: Record<QuotaLevel, number> = { surplus: 0, ok: 1, stressed: 2, critical: 3 };

/** Share of the window that has passed at `now`, floored at MIN_ELAPSED_FRACTION and capped at 1. */
export function elapsedFraction(window: Pick<QuotaWindow, "windowMs" | "resetsAt">, now: number): number {
  if (window.windowMs <= 0) return 1;
  const remainingMs = Math.max(0, window.resetsAt - now);
  const elapsed = 1 - remainingMs / window.windowMs;
  return Math.min(1, Math.max(MIN_ELAPSED_FRACTION, elapsed));
}

export function windowUvi(window: QuotaWindow, now: number): number {
  return Math.max(0, window.usedFraction) / elapsedFraction(window, now);
}

export function uviLevel(uvi: number, elapsed: number, thresholds: UviThresholds = DEFAULT_UVI_THRESHOLDS): QuotaLevel {
  if (uvi >= thresholds.critical) return "critical";
  if (uvi >= thresholds.stressed) return "stressed";
  if (uvi <= thresholds.surplus && elapsed >= thresholds.surplusElapsed) return "surplus";
  return "ok";
}

export function assessWindow(
  window: QuotaWindow,
  now: number,
  thresholds: UviThresholds = DEFAULT_UVI_THRESHOLDS,
): WindowAssessment {
  const elapsed = elapsedFraction(window, now);
  const uvi = windowUvi(window, now);
  // A window that is used up is critical whatever its pace: nothing is left until it resets. A monthly budget's window
  // only paces spending: it demotes at most. Blocking at the limit is the budget's own job, under budgets.policy (soft:
  // routed anyway when nothing else can serve), which an exclusion here would turn into a hard limit.
  const paced = window.usedFraction >= 1 ? "critical" : uviLevel(uvi, elapsed, thresholds);
  const level = window.source === "budget" && paced === "critical" ? "stressed" : paced;
  const assessment: WindowAssessment = {
    name: window.name,
    uvi,
    usedFraction: window.usedFraction,
    elapsedFraction: elapsed,
    level,
    resetsAt: window.resetsAt,
  };
  if (window.source !== undefined) assessment.source = window.source;
  return assessment;
}

const percent = (fraction: number) => `${Math.round(fraction * 100)}%`;

export function describeWindow(window: WindowAssessment): string {
  return `${window.name} window ${percent(window.usedFraction)} used at ${percent(window.elapsedFraction)} elapsed, UVI ${window.uvi.toFixed(2)}`;
}

/** The worst window decides: its level (critical > stressed > ok > surplus), then its UVI. Undefined without windows. */
export function assessProvider(
  windows: QuotaWindow[],
  now: number,
  thresholds: UviThresholds = DEFAULT_UVI_THRESHOLDS,
): ProviderAssessment | undefined {
  const live = windows.filter((window) => window.resetsAt > now);
  if (live.length === 0) return undefined;
  const assessed = live.map((window) => assessWindow(window, now, thresholds));
  const worst = assessed.reduce((a, b) =>
    LEVEL_RANK[b.level] > LEVEL_RANK[a.level] || (LEVEL_RANK[b.level] === LEVEL_RANK[a.level] && b.uvi > a.uvi) ? b : a,
  );
  return { level: worst.level, uvi: worst.uvi, worst, windows: assessed, detail: describeWindow(worst) };
}

/**
 * Google's Gemini CLI quota reports each bucket as a remaining fraction and a reset time. The window length is the
 * bucket's real period (a day for the per-day request buckets), NOT reset-minus-now: that would make every bucket
 * look as if it had just started and inflate its pace.
 */
export function googleBucketWindow(bucket: {
  name: string;
  remainingFraction: number;
  resetsAt: number;
  periodMs: number;
}): QuotaWindow {
  return {
    name: bucket.name,
    usedFraction: Math.min(1, Math.max(0, 1 - bucket.remainingFraction)),
    windowMs: bucket.periodMs,
    resetsAt: bucket.resetsAt,
    source: "usage-api",
  };
}

/** A calendar-month spend window of a per-token provider: spent / budget over the month. */
export function monthlySpendWindow(
  spentUsd: number,
  budgetUsd: number,
  monthStart: number,
  monthEnd: number,
): QuotaWindow {
  return {
    name: "monthly budget",
    usedFraction: budgetUsd > 0 ? spentUsd / budgetUsd : 0,
    windowMs: monthEnd - monthStart,
    resetsAt: monthEnd,
    source: "budget",
  };
}
