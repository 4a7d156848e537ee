// The circuit breaker of one target (provider/model), as a pure reducer: state + event + settings -> state.
// closed -> open when failures/calls >= ratio AND calls >= minimum within the sliding window;
// open -> half-open once the break is over (checked lazily, at the next read or event);
// half-open admits exactly ONE probe: its success closes the breaker, its failure re-opens it with a doubled break
// (capped). Nothing but the probe's own result leaves half-open (re-opening it before a probe can run would keep the
// target out for good), and results of requests started before the breaker opened ("late"
// results) change nothing while it is open, so they cannot extend the break either.
import type { BreakerState } from "../routing/types.ts";
import { unknownFieldsOf } from "../state/unknown-fields.ts";

export interface BreakerSettings {
  ratio: number;
  minimumCalls: number;
  windowMs: number;
  breakMs: number;
  maxBreakMs: number;
  /** A claimed probe that never reports back (crashed request) frees the slot after this long. */
  probeTimeoutMs: number;
}

export const DEFAULT_BREAKER_SETTINGS: Readonly<BreakerSettings> = {
  ratio: 0.5,
  minimumCalls: 5,
  windowMs: 120_000,
  breakMs: 30_000,
  maxBreakMs: 600_000,
  probeTimeoutMs: 300_000,
};

/** Enough samples for any sensible minimumCalls; bounds the persisted size. */
export const MAX_WINDOW_SAMPLES = 200;

export interface CallSample {
  at: number;
  failed: boolean;
}

export interface BreakerRecord {
  state: BreakerState;
  /** Counted calls within the window (closed state only). */
  samples: CallSample[];
  /** While open/half-open: when the break ends (the probe may run from then on). */
  until?: number;
  /** Length of the current break; doubled on every failed probe. */
  breakMs?: number;
  openedAt?: number;
  /** Set while a probe holds the half-open slot. */
  probeClaimedAt?: number;
  /** Why it opened last, for /auto-router circuit. */
  lastFailure?: string;
}

export type BreakerEvent =
  | { type: "success"; at: number; probe?: boolean }
  | { type: "failure"; at: number; probe?: boolean; kind?: string }
  /** An attempt that ended in a way that says nothing about the target's health (auth, 400, abort...). */
  | { type: "neutral"; at: number; probe?: boolean }
  | { type: "claim-probe"; at: number };

export const closedBreaker = (): BreakerRecord => ({ state: "closed", samples: [] });

/**
 * The record with an open breaker's end at most its own break (the longest the settings allow, at most) from `now`;
 * the same object when within it. An end written by a clock that ran ahead (another team machine, a resumed VM) or by
 * hand would otherwise keep the target out for as long as that clock was off, as a cooldown's would
 * (cooldown-book.ts).
 */
export function boundedBreaker(record: BreakerRecord, now: number, settings: BreakerSettings): BreakerRecord {
  if (record.state !== "open" || record.until === undefined) return record;
  const limit = now + Math.min(record.breakMs ?? settings.maxBreakMs, settings.maxBreakMs);
  return record.until > limit ? { ...record, until: limit } : record;
}

/** Applies the lazy transitions that depend only on time: open -> half-open, an abandoned probe frees its slot. */
export function settleBreaker(record: BreakerRecord, now: number, settings: BreakerSettings): BreakerRecord {
  let next = record;
  if (next.state === "open" && next.until !== undefined && now >= next.until) next = { ...next, state: "half-open" };
  if (
    next.state === "half-open" &&
    next.probeClaimedAt !== undefined &&
    now - next.probeClaimedAt >= settings.probeTimeoutMs
  ) {
    const { probeClaimedAt: _expired, ...rest } = next;
    next = rest;
  }
  return next;
}

/** The fields of a breaker this version manages; any other is a newer version's, kept through every transition. */
const BREAKER_FIELDS: ReadonlySet<string> = new Set([
  "state",
  "samples",
  "until",
  "breakMs",
  "openedAt",
  "probeClaimedAt",
  "lastFailure",
]);

/** A closed breaker in place of `record`, with the fields a newer version gave it (unknown-fields.ts). */
const closedAfter = (record: BreakerRecord): BreakerRecord => ({
  ...unknownFieldsOf(record, BREAKER_FIELDS),
  ...closedBreaker(),
});

function open(record: BreakerRecord, at: number, breakMs: number, kind: string | undefined): BreakerRecord {
  const next: BreakerRecord = {
    ...unknownFieldsOf(record, BREAKER_FIELDS),
    state: "open",
    samples: [],
    until: at + breakMs,
    breakMs,
    openedAt: at,
  };
  if (kind !== undefined) next.lastFailure = kind;
  else if (record.lastFailure !== undefined) next.lastFailure = record.lastFailure;
  return next;
}

/**
 * Successes another moment kept back (a process's unwritten ones, breaker-book.ts) merged into a breaker's window in
 * time order: they dilute a closed breaker's failure ratio, and change nothing on an open or half-open one (as late
 * results do not). Returns `current` itself when nothing changes.
 */
export function withSuccesses(
  current: BreakerRecord | undefined,
  successes: readonly CallSample[],
  now: number,
  settings: BreakerSettings,
): BreakerRecord | undefined {
  const record = current ?? closedBreaker();
  if (successes.length === 0 || settleBreaker(record, now, settings).state !== "closed") return current;
  const samples = [...record.samples, ...successes]
    .filter((sample) => sample.at > now - settings.windowMs)
    .sort((a, b) => a.at - b.at)
    .slice(-MAX_WINDOW_SAMPLES);
  return { ...record, samples };
}

export function reduceBreaker(
  current: BreakerRecord | undefined,
  event: BreakerEvent,
  settings: BreakerSettings,
): BreakerRecord {
  const record = settleBreaker(current ?? closedBreaker(), event.at, settings);
  switch (record.state) {
    case "closed": {
      if (event.type === "claim-probe" || event.type === "neutral") return record;
      const samples = [...record.samples, { at: event.at, failed: event.type === "failure" }]
        .filter((sample) => sample.at > event.at - settings.windowMs)
        .slice(-MAX_WINDOW_SAMPLES);
      const failures = samples.filter((sample) => sample.failed).length;
      if (
        event.type === "failure" &&
        samples.length >= settings.minimumCalls &&
        failures / samples.length >= settings.ratio
      ) {
        return open(record, event.at, Math.min(settings.breakMs, settings.maxBreakMs), event.kind);
      }
      return { ...record, samples };
    }
    case "open":
      // Late results of requests that started before the breaker opened: they neither extend nor end the break.
      return record;
    case "half-open": {
      if (event.type === "claim-probe")
        return record.probeClaimedAt === undefined ? { ...record, probeClaimedAt: event.at } : record;
      if (!event.probe) return record; // only the probe's own result decides
      if (event.type === "success") return closedAfter(record);
      if (event.type === "neutral") {
        const { probeClaimedAt: _released, ...rest } = record;
        return rest; // the probe learned nothing: free the slot for the next request
      }
      const longer = Math.min((record.breakMs ?? settings.breakMs) * 2, settings.maxBreakMs);
      return open(record, event.at, longer, event.kind);
    }
  }
}

export interface BreakerView {
  state: BreakerState;
  until?: number;
  probeInFlight?: boolean;
}

/** What the decision sees: the settled state, and whether the half-open slot is taken. */
export function viewBreaker(record: BreakerRecord | undefined, now: number, settings: BreakerSettings): BreakerView {
  if (!record) return { state: "closed" };
  const settled = settleBreaker(record, now, settings);
  const view: BreakerView = { state: settled.state };
  if (settled.until !== undefined && settled.state !== "closed") view.until = settled.until;
  if (settled.state === "half-open" && settled.probeClaimedAt !== undefined) view.probeInFlight = true;
  return view;
}

/** True when a probe may be claimed now (half-open with a free slot); a closed breaker needs no probe. */
export function canClaimProbe(record: BreakerRecord | undefined, now: number, settings: BreakerSettings): boolean {
  const view = viewBreaker(record, now, settings);
  return view.state === "closed" || (view.state === "half-open" && !view.probeInFlight);
}
