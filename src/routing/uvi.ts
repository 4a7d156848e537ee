// Utilization Velocity Index: how fast a quota window is being used up compared with how fast time passes.
// UVI = consumed fraction / elapsed fraction. 1.0 = exactly on pace to use the whole window by its reset; 2.0 =
// twice as fast, so the quota runs out half-way. Pure: `now` and the windows come in as arguments.
// The elapsed fraction comes from each window's real length: computed from reset-minus-now, Google's pacing comes out
// ~20x too high.
// A window may concern only some models of its provider (Anthropic's weekly Opus limit, a Gemini CLI bucket): it paces
// those models and no other, so a model is assessed from the provider-wide windows plus the windows scoped to it.
import type { QuotaLevel, QuotaStatus } from "./types.ts";
import { floorTo, formatPercentDown, plural } from "../analytics/text-format.ts";

/** A window that just started must not divide by ~0: elapsed counts as at least this share. */
export const MIN_ELAPSED_FRACTION = 0.05;
/** The provider's clock and ours differ a little: a reset this much further away than its window is long still counts. */
export const RESET_TOLERANCE_MS = 60_000;
/** No provider's quota window is longer than a year: a longer one (a hand edit, a broken answer) is not a window. */
export const MAX_QUOTA_WINDOW_MS = 366 * 24 * 3_600_000;

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
  /** Set when only some of the provider's models draw on this window; absent = every model of the provider. */
  models?: ModelScope;
  /**
   * A token bucket (Anthropic's and OpenAI's per-minute request and token limits): its allowance comes back
   * continuously, and `resetsAt` is when it is full again, not the end of a fixed window (refillingUse).
   */
  refills?: true;
}

/**
 * The models that draw on a window: ids containing `family` (Anthropic's weekly limits "opus", "sonnet"), else ids
 * equal to `id` (a Gemini CLI bucket's model: "gemini-2.5-flash" must not cover "gemini-2.5-flash-lite"). Lower case.
 */
export interface ModelScope {
  family?: string;
  id?: string;
}

/** A window whose scope names neither a family nor an id is the provider's: undefined. */
function scopeKey(scope: ModelScope | undefined): string | undefined {
  if (scope?.family) return `family:${scope.family}`;
  if (scope?.id) return `id:${scope.id}`;
  return undefined;
}

/** True when a model (its id in lower case) draws on a window of this scope. */
export function scopeCovers(scope: ModelScope, modelIdLower: string): boolean {
  return scope.family ? modelIdLower.includes(scope.family) : modelIdLower === scope.id;
}

/** "opus models", "gemini-2.5-pro only": which models a scoped window concerns. */
export function describeScope(scope: ModelScope): string {
  return scope.family ? `${scope.family} models` : `${scope.id} only`;
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
  /** A critical window: when it stops being critical if no more of it is used (its reset, if it is used up). */
  until?: number;
  /** A stressed or critical window: when it is neither any more if no more of it is used (hard mode's exclusion). */
  calmUntil?: number;
  source?: string;
  models?: ModelScope;
  /** A refilling window: `usedFraction` is its share used now, `elapsedFraction` the fixed REFILLING_ELAPSED_FRACTION. */
  refills?: true;
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
  // Passed time over length, not 1 - remaining / length: 1.5 h of 5 h is 0.3 exactly, not 0.30000000000000004.
  const elapsed = (window.windowMs - remainingMs) / window.windowMs;
  return Math.min(1, Math.max(MIN_ELAPSED_FRACTION, elapsed));
}

/**
 * False when the reset lies further away than the window is long: no window of that length can reset then (epoch ms
 * sent where seconds were due, a date in 2099). Believed, it would pace the target as if the window had just started
 * and keep it out for ages, with no answer of its ever coming to correct it.
 */
export const resetBelievable = (window: Pick<QuotaWindow, "windowMs" | "resetsAt">, now: number): boolean =>
  window.resetsAt - now <= window.windowMs + RESET_TOLERANCE_MS;

/**
 * A window pacing can read now: its reset is still to come (one already passed says nothing of the new window) and
 * believable. A usage API's answer or a header's window that is not open paces nothing and is not counted as one.
 */
export const isOpenWindow = (window: Pick<QuotaWindow, "windowMs" | "resetsAt">, now: number): boolean =>
  window.resetsAt > now && resetBelievable(window, now);

export const openWindowCount = (windows: ReadonlyArray<Pick<QuotaWindow, "windowMs" | "resetsAt">>, now: number) =>
  windows.filter((window) => isOpenWindow(window, now)).length;

/** A source's open windows in words, as `uvi` and `health` say them: `1 window`, `2 windows`, or `no open window`. */
export const windowCountText = (open: number): string => (open === 0 ? "no open window" : plural(open, "window"));

const HOUR_MS = 3_600_000;
const spanText = (ms: number): string =>
  ms >= 2 * HOUR_MS ? `${Math.round(ms / HOUR_MS)}h` : `${Math.max(1, Math.round(ms / 60_000))}min`;

/** Why a window's reset is not believed: "resets in 498430473h, but the window is 5h long". */
export const unbelievableResetText = (window: Pick<QuotaWindow, "windowMs" | "resetsAt">, now: number): string =>
  `resets in ${spanText(window.resetsAt - now)}, but the window is ${spanText(window.windowMs)} long`;

/**
 * A refilling window is read as if half of it had passed: it has no start or end, so how early in it the allowance was
 * used says nothing; how much of it is used now says how close the next requests are to a 429. With the default
 * thresholds it is critical only when used up (for the second or so until some of it is back), stressed from 75% used,
 * and never in surplus. Read as a fixed window, a bucket 67% used (its reset 40 s away of 60) was critical.
 */
export const REFILLING_ELAPSED_FRACTION = 0.5;

/**
 * The share of a window used at `now`. A refilling window has refilled since it was read, at its whole allowance per
 * window length (what is left to refill is what the time to its full reset refills): at most that.
 */
export function usedAt(window: QuotaWindow, now: number): number {
  const used = Math.max(0, window.usedFraction);
  if (!window.refills || window.windowMs <= 0) return used;
  return Math.min(used, Math.max(0, (window.resetsAt - now) / window.windowMs));
}

export function windowUvi(window: QuotaWindow, now: number): number {
  return usedAt(window, now) / (window.refills ? REFILLING_ELAPSED_FRACTION : elapsedFraction(window, now));
}

/**
 * How far below a threshold a UVI (or share) still counts as on it: floating-point noise, no more than what the views
 * round away (formatUvi shows 1.9999999999999996 as 2.00, so that one is critical too, not stressed under "2.00").
 */
const LEVEL_NOISE = 1e-8;

export function uviLevel(uvi: number, elapsed: number, thresholds: UviThresholds = DEFAULT_UVI_THRESHOLDS): QuotaLevel {
  if (uvi + LEVEL_NOISE >= thresholds.critical) return "critical";
  if (uvi + LEVEL_NOISE >= thresholds.stressed) return "stressed";
  if (uvi - LEVEL_NOISE <= thresholds.surplus && elapsed + LEVEL_NOISE >= thresholds.surplusElapsed) return "surplus";
  return "ok";
}

/** What a monthly budget's pace means for its target: slow down at most, never speed up. */
const BUDGET_LEVEL: Record<QuotaLevel, QuotaLevel> = {
  critical: "stressed",
  stressed: "stressed",
  ok: "ok",
  surplus: "ok",
};

export function assessWindow(
  window: QuotaWindow,
  now: number,
  thresholds: UviThresholds = DEFAULT_UVI_THRESHOLDS,
): WindowAssessment {
  const elapsed = window.refills ? REFILLING_ELAPSED_FRACTION : elapsedFraction(window, now);
  const used = usedAt(window, now);
  const uvi = windowUvi(window, now);
  // A window that is used up is critical whatever its pace: nothing is left until it resets. A monthly budget's window
  // only paces spending: it demotes at most. Blocking at the limit is the budget's own job, under budgets.policy (soft:
  // routed anyway when nothing else can serve), which an exclusion here would turn into a hard limit. Nor is a budget
  // ever in surplus: money not spent by the month's end is saved, not lost, so it is no reason to spend it sooner.
  const paced = used >= 1 ? "critical" : uviLevel(uvi, elapsed, thresholds);
  const level = window.source === "budget" ? BUDGET_LEVEL[paced] : paced;
  const assessment: WindowAssessment = {
    name: window.name,
    uvi,
    usedFraction: used,
    elapsedFraction: elapsed,
    level,
    resetsAt: window.resetsAt,
  };
  if (level === "critical") assessment.until = easedAt(window, thresholds.critical, now);
  if (level === "critical" || level === "stressed") assessment.calmUntil = easedAt(window, thresholds.stressed, now);
  if (window.source !== undefined) assessment.source = window.source;
  if (window.refills) assessment.refills = true;
  if (scopeKey(window.models) !== undefined) assessment.models = window.models;
  return assessment;
}

/**
 * When a window's pace is below `threshold` (critical, or stressed for hard mode), if no more of it is used: a used-up
 * one at its reset; one used too fast once enough of it has passed (80% of 5 h: below 2.0 from 2 h in), and at its
 * reset at the latest. Rounded up to the second, so that at that time the pace is below the threshold, not on it.
 */
function easedAt(window: QuotaWindow, threshold: number, now: number): number {
  const roundedUp = (time: number) => Math.min(window.resetsAt, Math.ceil(time / 1000) * 1000 + 1000);
  // A refilling one: once what is left to refill is below the threshold's share (refilling at its allowance per window).
  if (window.refills)
    return roundedUp(Math.max(now, window.resetsAt - threshold * REFILLING_ELAPSED_FRACTION * window.windowMs));
  if (window.usedFraction >= 1) return window.resetsAt;
  const start = window.resetsAt - window.windowMs;
  return roundedUp(start + (window.windowMs * Math.max(0, window.usedFraction)) / threshold);
}

/** A UVI as every view shows it: "1.75" (the status line, short of room, takes one decimal: "1.7"). */
export const formatUvi = (uvi: number, decimals = 2): string => floorTo(uvi, decimals);

/** A used or elapsed share of a window: "73%", rounded down like the budget's shares. */
export const formatQuotaPercent = (fraction: number): string => formatPercentDown(fraction);

export function describeWindow(window: WindowAssessment): string {
  const models = window.models ? ` (${describeScope(window.models)})` : "";
  // A used-up window's UVI says nothing (1.48 at 67% elapsed is below stressed): nothing is left until it resets.
  if (window.refills) {
    const pace = window.usedFraction >= 1 ? ": used up until some of it is back" : `, UVI ${formatUvi(window.uvi)}`;
    return `${window.name} window ${formatQuotaPercent(window.usedFraction)} used${models}, refilling${pace}`;
  }
  const pace = window.usedFraction >= 1 ? ": used up until its reset" : `, UVI ${formatUvi(window.uvi)}`;
  return `${window.name} window ${formatQuotaPercent(window.usedFraction)} used${models} at ${formatQuotaPercent(window.elapsedFraction)} elapsed${pace}`;
}

type Ranked = { level: QuotaLevel; uvi: number; until?: number; calmUntil?: number };

/** How long a window keeps its level if no more of it is used: a critical one's `until`, a stressed one's `calmUntil`. */
const levelHeldUntil = (window: Ranked): number =>
  (window.level === "critical" ? window.until : window.level === "stressed" ? window.calmUntil : undefined) ?? 0;

/**
 * Worse = a higher level (critical > stressed > ok > surplus), then, of one level, the window that holds it longer (a
 * weekly window used up before a 5 h one that eases in minutes, whatever their UVIs: the one that keeps the target out
 * is the one its reason must name), then a higher UVI.
 */
export const worse = (a: Ranked, b: Ranked): boolean => {
  if (LEVEL_RANK[a.level] !== LEVEL_RANK[b.level]) return LEVEL_RANK[a.level] > LEVEL_RANK[b.level];
  const held = levelHeldUntil(a) - levelHeldUntil(b);
  return held !== 0 ? held > 0 : a.uvi > b.uvi;
};

/** A set of windows judged together: the worst one decides. */
export function assessWindows(assessed: WindowAssessment[]): ProviderAssessment {
  const worst = assessed.reduce((a, b) => (worse(b, a) ? b : a));
  return { level: worst.level, uvi: worst.uvi, worst, windows: assessed, detail: describeWindow(worst) };
}

export interface ScopedAssessment {
  models: ModelScope;
  /** "opus models": describeScope(models). */
  label: string;
  /** The scope's own windows only: the provider-wide ones are in QuotaAssessment.shared. */
  assessment: ProviderAssessment;
}

/** A provider's windows, the provider-wide ones apart from those only some of its models draw on. */
export interface QuotaAssessment {
  /** The windows every model of the provider draws on; undefined when none is live. */
  shared?: ProviderAssessment;
  /** One entry per model scope with a live window, in the order the windows came. */
  scoped: ScopedAssessment[];
}

/**
 * The worst live window decides, among the provider-wide ones, and apart for each model scope (modelQuotaStatus puts
 * them together for a model). Undefined without live windows.
 */
export function assessQuota(
  windows: QuotaWindow[],
  now: number,
  thresholds: UviThresholds = DEFAULT_UVI_THRESHOLDS,
): QuotaAssessment | undefined {
  const shared: WindowAssessment[] = [];
  const scoped = new Map<string, { models: ModelScope; windows: WindowAssessment[] }>();
  for (const window of windows) {
    // A reset already passed says nothing of the new window; one further away than a window is not believed (kept in
    // the state before its source checked it).
    if (!isOpenWindow(window, now)) continue;
    const assessed = assessWindow(window, now, thresholds);
    const key = scopeKey(window.models);
    if (key === undefined) shared.push(assessed);
    else {
      const group = scoped.get(key);
      if (group) group.windows.push(assessed);
      else scoped.set(key, { models: window.models!, windows: [assessed] });
    }
  }
  if (shared.length === 0 && scoped.size === 0) return undefined;
  const result: QuotaAssessment = { scoped: [] };
  if (shared.length > 0) result.shared = assessWindows(shared);
  for (const group of scoped.values())
    result.scoped.push({
      models: group.models,
      label: describeScope(group.models),
      assessment: assessWindows(group.windows),
    });
  return result;
}

/**
 * What routing reads of the windows that pace a model (a provider's shared ones, those scoped to the model): the
 * worst one's level, UVI and description, and the fullest one (for reserves). No string is built here.
 */
export function quotaStatus(assessments: readonly ProviderAssessment[]): QuotaStatus {
  let decider = assessments[0]!;
  let fullest = decider.worst;
  // Critical until the last of its critical windows is critical no more; stressed or worse likewise.
  let until: number | undefined;
  let calmUntil: number | undefined;
  for (const assessment of assessments) {
    if (worse(assessment.worst, decider.worst)) decider = assessment;
    for (const window of assessment.windows) {
      if (window.usedFraction > fullest.usedFraction) fullest = window;
      if (window.until !== undefined && (until === undefined || window.until > until)) until = window.until;
      if (window.calmUntil !== undefined && (calmUntil === undefined || window.calmUntil > calmUntil))
        calmUntil = window.calmUntil;
    }
  }
  const status: QuotaStatus = {
    level: decider.level,
    uvi: decider.uvi,
    detail: decider.detail,
    usedFraction: fullest.usedFraction,
    window: fullest.name,
    windowResetsAt: fullest.resetsAt,
  };
  if (until !== undefined) status.until = until;
  if (calmUntil !== undefined) status.calmUntil = calmUntil;
  return status;
}

/**
 * The quota of a model (its id in lower case) that some scoped window covers: the provider-wide windows and the
 * windows scoped to it together. Undefined when no scoped window covers it: the provider-wide status is its own.
 */
export function modelQuotaStatus(quota: QuotaAssessment, modelIdLower: string): QuotaStatus | undefined {
  let paced: ProviderAssessment[] | undefined;
  for (const scoped of quota.scoped)
    if (scopeCovers(scoped.models, modelIdLower))
      (paced ??= quota.shared ? [quota.shared] : []).push(scoped.assessment);
  return paced ? quotaStatus(paced) : undefined;
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
  /** The model the bucket counts (only that model draws on it). */
  modelId?: string;
}): QuotaWindow {
  const window: QuotaWindow = {
    name: bucket.name,
    usedFraction: Math.min(1, Math.max(0, 1 - bucket.remainingFraction)),
    windowMs: bucket.periodMs,
    resetsAt: bucket.resetsAt,
    source: "usage-api",
  };
  if (bucket.modelId) window.models = { id: bucket.modelId.toLowerCase() };
  return window;
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
