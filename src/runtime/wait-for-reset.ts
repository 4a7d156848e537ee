// Waiting for the earliest quota reset (failover.waitForReset), opt-in: when every target of a route is out of quota
// with a known reset time, a long agent run can sit out the few minutes to the reset instead of failing. The choice
// is pure; the wait itself is abortable (Esc = the request's AbortSignal) and shows a countdown.
import type { WaitEventData } from "../events/event-types.ts";
import { cooldownKindOf } from "../routing/assess-targets.ts";
import type { CooldownEntry, SkippedTarget } from "../routing/types.ts";
import { restKey } from "../routing/rest-key.ts";
import type { RouteConfig } from "../config/schema.ts";

/** Skip reasons that say "this target could serve, just not now": each must be a quota cooldown for a reset wait. */
const AVAILABILITY_REASONS: ReadonlySet<SkippedTarget["reason"]> = new Set([
  "cooldown",
  "circuit-open",
  "unhealthy",
  "quota",
  "budget",
]);
/** How often the countdown in the status line is refreshed while waiting. */
export const COUNTDOWN_TICK_MS = 1_000;
/** Past the reset itself, so the provider's own clock has rolled over too. */
export const RESET_MARGIN_MS = 250;

export interface ResetWait {
  key: string;
  until: number;
}

/**
 * The earliest reset to wait for, or undefined. Only when nothing can serve now and every target that could serve
 * later is out of quota with a known time: a reset the provider named, or a quota-paced window's reset or easing
 * (a transient cooldown is the job of cooldownWaitMs, and a quota cooldown without a named reset is a guess); and
 * only when that time is within maxMs.
 */
export function earliestQuotaReset(input: {
  routeId: string;
  /** The routes the runtime routes with, for where a target's rests are kept (rest-key.ts). */
  routes?: Record<string, RouteConfig>;
  candidates: number;
  skipped: SkippedTarget[];
  cooldowns: Record<string, CooldownEntry>;
  maxMs: number;
  now: number;
}): ResetWait | undefined {
  if (input.candidates > 0) return undefined;
  let earliest: ResetWait | undefined;
  for (const skipped of input.skipped) {
    if (!AVAILABILITY_REASONS.has(skipped.reason)) continue;
    const until = quotaBackAt(skipped, input);
    if (until === undefined) return undefined;
    if (!earliest || until < earliest.until) earliest = { key: skipped.key, until };
  }
  if (!earliest || earliest.until - input.now > input.maxMs) return undefined;
  return earliest;
}

/**
 * When a target out of quota is back: a quota cooldown's reset the provider named, or (quota pacing) when a window
 * that excludes it resets or its pace is no longer critical; undefined when it is not out of quota or no time is known.
 */
function quotaBackAt(
  skipped: SkippedTarget,
  input: { routeId: string; routes?: Record<string, RouteConfig>; cooldowns: Record<string, CooldownEntry> },
): number | undefined {
  if (skipped.reason === "quota") return skipped.until;
  const cooldown =
    skipped.reason === "cooldown" ? input.cooldowns[restKey(input.routes, input.routeId, skipped.key)] : undefined;
  return cooldown?.kind === "quota_exhausted" && cooldown.resetKnown ? cooldown.until : undefined;
}

export interface ResetWaitEnvironment {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
  /** Shows "waiting Ns for <key>" (the status line's countdown); called on every tick. */
  onTick(key: string, until: number): void;
}

/** Sleeps until the reset in countdown ticks. Resolves false as soon as the signal aborts. */
export async function waitUntilReset(
  env: ResetWaitEnvironment,
  wait: ResetWait,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  const until = wait.until + RESET_MARGIN_MS;
  for (let remaining = until - env.now(); remaining > 0; remaining = until - env.now()) {
    env.onTick(wait.key, wait.until);
    if (!(await env.sleep(Math.min(COUNTDOWN_TICK_MS, remaining), signal))) return false;
  }
  return !signal?.aborted;
}

/**
 * A wait's seconds as the notices show them: whole seconds, a wait still to come rounded up and one waited rounded to
 * the nearest; under a second in tenths ("0.4"), so that a wait of a few milliseconds does not read as a second.
 */
export function waitSeconds(ms: number, rounding: "up" | "nearest" = "up"): string {
  const round = rounding === "up" ? Math.ceil : Math.round;
  if (ms <= 0) return "0";
  const tenths = round(ms / 100);
  if (tenths < 10) return tenths === 0 ? "0" : (tenths / 10).toFixed(1);
  return String(round(ms / 1000));
}

export function describeWait(routeId: string, wait: ResetWait, now: number): string {
  const left = wait.until - now;
  const seconds = Math.ceil(left / 1000);
  // As the status line and the cooling wait's line count: whole seconds rounded up (tenths under a second), so the
  // time shown is never shorter than the wait; minutes from 2 minutes on.
  const span = seconds >= 120 ? `${Math.ceil(seconds / 60)}m` : `${waitSeconds(left)}s`;
  return `auto-router: every target of ${routeId} is out of quota; waiting ${span} for ${wait.key} to reset (Esc stops)`;
}

/** What a short wait (failover.cooldownWaitMs) waits for: a quota reset the provider named, or a resting target. */
export interface CooldownWait {
  reason: WaitEventData["reason"];
  /** The failure kind that started the cooldown (none for an open breaker). */
  kind?: string;
}

export function cooldownWaitOf(
  skipped: Pick<SkippedTarget, "reason" | "detail">,
  cooldown: CooldownEntry | undefined,
): CooldownWait {
  if (skipped.reason === "circuit-open") return { reason: "circuit-open" };
  // A quota window critical until its reset, or until its pace eases (route() says when).
  if (skipped.reason === "quota") return { reason: "quota-reset" };
  if (cooldown?.kind === "quota_exhausted" && cooldown.resetKnown) return { reason: "quota-reset" };
  return { reason: "cooldown", kind: cooldown?.kind ?? cooldownKindOf(skipped.detail) };
}

/** "waited 20 s for chatgpt/gpt-sub's quota reset", for explain and the final event's notes. */
export function waitNoteText(verb: string, waitedMs: number, key: string, wait: CooldownWait): string {
  const seconds = waitSeconds(waitedMs, "nearest");
  const what =
    wait.reason === "quota-reset"
      ? `${key}'s quota reset`
      : wait.reason === "circuit-open"
        ? `${key}'s open breaker to let a probe through`
        : `${key} to come back (resting after ${wait.kind ?? "a failure"})`;
  return `${verb} ${seconds} s for ${what}`;
}
