// The breaker state of every target, over one store: its schema, its settings (defaults < config < environment),
// what an attempt tells a breaker, and the book the plugin and `/auto-router circuit` read.
import { z } from "zod";
import { readBounded } from "../state/bounded-entries.ts";
import { stateTime } from "../state/state-numbers.ts";
import { stateObject } from "../state/unknown-fields.ts";
import { readSwitch } from "../config/environment.ts";
import { breakerConfigSchema, readBreakerConfig } from "../config/quota-schema.ts";
import type { FailureKind } from "../runtime/classify-failure.ts";
import type { AttemptObservation } from "../runtime/plugin.ts";
import type { TargetStatus } from "../routing/types.ts";
import type { StateStore } from "../state/json-store.ts";
import { RecentSuccesses } from "./recent-successes.ts";
import {
  boundedBreaker,
  canClaimProbe,
  DEFAULT_BREAKER_SETTINGS,
  closedBreaker,
  MAX_WINDOW_SAMPLES,
  reduceBreaker,
  settleBreaker,
  viewBreaker,
  type BreakerEvent,
  type BreakerRecord,
  type BreakerSettings,
  withSuccesses,
} from "./breaker.ts";

/** How often at most the successes a process kept in memory are written while requests keep succeeding. */
export const SUCCESS_FLUSH_MS = 30_000;

export const COUNTED_FAILURE_KINDS: ReadonlySet<FailureKind> = new Set(["server", "overloaded", "network", "timeout"]);

const breakerRecordSchema = stateObject({
  state: z.enum(["closed", "open", "half-open"]),
  samples: z.array(stateObject({ at: stateTime(), failed: z.boolean() })),
  until: stateTime().optional(),
  breakMs: z.number().optional(),
  openedAt: stateTime().optional(),
  probeClaimedAt: stateTime().optional(),
  lastFailure: z.string().optional(),
});
export const breakerStateSchema = stateObject({ v: z.literal(1), breakers: z.record(z.string(), breakerRecordSchema) });
export type BreakerStoreState = z.infer<typeof breakerStateSchema>;
export const emptyBreakers = (): BreakerStoreState => ({ v: 1, breakers: {} });

const MILLISECONDS = "a whole number of milliseconds above 0";
/** Each setting's variable and what its value must be (the routes file's rule, breakerConfigSchema). */
const SETTING_VARIABLES: ReadonlyArray<readonly [keyof BreakerSettings, string, string]> = [
  ["ratio", "AUTO_ROUTER_BREAKER_RATIO", "a number above 0 and at most 1"],
  ["minimumCalls", "AUTO_ROUTER_BREAKER_MINIMUM_CALLS", "a whole number above 0"],
  ["windowMs", "AUTO_ROUTER_BREAKER_WINDOW_MS", MILLISECONDS],
  ["breakMs", "AUTO_ROUTER_BREAKER_BREAK_MS", MILLISECONDS],
  ["maxBreakMs", "AUTO_ROUTER_BREAKER_MAX_BREAK_MS", MILLISECONDS],
  ["probeTimeoutMs", "AUTO_ROUTER_BREAKER_PROBE_TIMEOUT_MS", "a whole number of milliseconds, 0 or more"],
];

/** The settings, and what in the environment was not used and why (the routes file's own errors are config issues). */
export interface BreakerSettingsRead extends BreakerSettings {
  enabled: boolean;
  problems: string[];
}

/**
 * Defaults < config `breaker` block < AUTO_ROUTER_BREAKER_* environment variables. A variable is read with the routes
 * file's rule for the same setting: one that breaks it is named in `problems` and not used, as is a pair of them
 * that would put `breakMs` above `maxBreakMs`.
 */
export function breakerSettings(config: unknown, processEnv: Record<string, string | undefined>): BreakerSettingsRead {
  const block = readBreakerConfig(config);
  const settings: BreakerSettingsRead = { ...DEFAULT_BREAKER_SETTINGS, enabled: block.enabled ?? true, problems: [] };
  for (const [key] of SETTING_VARIABLES) {
    const fromConfig = block[key];
    if (fromConfig !== undefined) settings[key] = fromConfig;
  }
  const rules = breakerConfigSchema().shape;
  const fromEnv: Partial<BreakerSettings> = {};
  for (const [key, name, expected] of SETTING_VARIABLES) {
    const text = processEnv[name];
    if (text === undefined || text.trim() === "") continue;
    const parsed = rules[key].safeParse(Number(text));
    if (parsed.success && parsed.data !== undefined) fromEnv[key] = parsed.data;
    else settings.problems.push(`${name}=${JSON.stringify(text)} is not used: expected ${expected}`);
  }
  const breakMs = fromEnv.breakMs ?? settings.breakMs;
  const maxBreakMs = fromEnv.maxBreakMs ?? settings.maxBreakMs;
  if (breakMs > maxBreakMs) {
    settings.problems.push(
      `AUTO_ROUTER_BREAKER_BREAK_MS / _MAX_BREAK_MS are not used: they would put breakMs (${breakMs}) above maxBreakMs (${maxBreakMs})`,
    );
    delete fromEnv.breakMs;
    delete fromEnv.maxBreakMs;
  }
  Object.assign(settings, fromEnv);
  const breakerSwitch = readSwitch("AUTO_ROUTER_BREAKER", processEnv.AUTO_ROUTER_BREAKER);
  if (breakerSwitch.on === false) settings.enabled = false;
  if (breakerSwitch.problem) settings.problems.push(breakerSwitch.problem);
  return settings;
}

/** What one attempt tells the breaker of its target. */
export function breakerEventOf(observation: AttemptObservation): BreakerEvent {
  const { outcome, now, candidate } = observation;
  const probe = candidate.probe === true;
  if (outcome.status === "aborted") return { type: "neutral", at: now, probe };
  if (outcome.status === "failed") {
    const kind = outcome.failure.kind;
    return COUNTED_FAILURE_KINDS.has(kind)
      ? { type: "failure", at: now, probe, kind }
      : { type: "neutral", at: now, probe };
  }
  if (outcome.final === "done") return { type: "success", at: now, probe };
  if (outcome.final !== "error") return { type: "neutral", at: now, probe }; // aborted by the user
  // An error after the commit point (e.g. the stream was cut mid-answer), as the attempt classified it.
  const { failure } = outcome;
  return COUNTED_FAILURE_KINDS.has(failure.kind)
    ? { type: "failure", at: now, probe, kind: failure.kind }
    : { type: "neutral", at: now, probe };
}

/** Closed now and no failure inside the window: a success or a neutral result would not change what it decides. */
function isQuietClosed(record: BreakerRecord | undefined, now: number, settings: BreakerSettings): boolean {
  if (!record) return true;
  if (settleBreaker(record, now, settings).state !== "closed") return false;
  return !record.samples.some((sample) => sample.failed && sample.at > now - settings.windowMs);
}

export interface BreakerRow {
  key: string;
  record: BreakerRecord;
  state: "closed" | "open" | "half-open";
  until?: number;
  probeInFlight: boolean;
  calls: number;
  failures: number;
}

/** The breakers of every target, over one store. */
export class BreakerBook {
  constructor(
    private readonly store: StateStore<BreakerStoreState>,
    private readonly settings: () => BreakerSettings,
    private readonly onTransition?: (key: string, from: BreakerRecord | undefined, to: BreakerRecord) => void,
  ) {}

  /**
   * Successes on a closed breaker with no failure in its window change nothing this process decides, so they are kept
   * in memory, not rewritten to disk on every request. They still count for every process that shares the store (a
   * failure elsewhere is judged against them), so they are written with this process's next failure of that target,
   * at most every SUCCESS_FLUSH_MS while requests succeed, and when the process closes (flushSuccesses): a `pi -p` run
   * that only succeeded would otherwise leave nothing behind, and three failed runs after five good ones would open the
   * breaker at 3 of 3. Neutral results on a closed breaker change nothing at all.
   */
  private readonly unwrittenSuccesses = new Map<string, RecentSuccesses>();
  private lastSuccessFlush: number | undefined;

  /** The stored breakers, an open one's end bounded (boundedBreaker) and written back so (bounded-entries.ts). */
  private records(now: number): BreakerStoreState["breakers"] {
    const settings = this.settings();
    return readBounded(
      this.store,
      (state) => state.breakers,
      (state, breakers) => ({ ...state, breakers }),
      (record) => boundedBreaker(record, now, settings),
    );
  }

  apply(key: string, event: BreakerEvent): BreakerRecord {
    const settings = this.settings();
    const before = this.store.read().breakers[key];
    if (isQuietClosed(before, event.at, settings)) {
      if (event.type === "neutral") return before ?? closedBreaker();
      if (event.type === "success") {
        this.rememberSuccess(key, event.at, settings);
        return before ?? closedBreaker();
      }
    }
    const successes = this.unwrittenSuccesses.get(key)?.samples() ?? [];
    this.unwrittenSuccesses.delete(key);
    const events: BreakerEvent[] = [
      ...successes.map((sample): BreakerEvent => ({ type: "success", at: sample.at })),
      event,
    ];
    this.store.update((state) => {
      let record = state.breakers[key];
      for (const item of events) record = reduceBreaker(record, item, settings);
      return record === state.breakers[key] ? state : { ...state, breakers: { ...state.breakers, [key]: record! } };
    });
    const after = this.store.read().breakers[key]!;
    if ((before?.state ?? "closed") !== after.state) this.onTransition?.(key, before, after);
    return after;
  }

  private rememberSuccess(key: string, at: number, settings: BreakerSettings): void {
    let successes = this.unwrittenSuccesses.get(key);
    if (!successes) this.unwrittenSuccesses.set(key, (successes = new RecentSuccesses(MAX_WINDOW_SAMPLES)));
    // What slid out of the window or beyond the sample cap is forgotten, as the stored samples are.
    successes.add(at, settings.windowMs);
    this.lastSuccessFlush ??= at;
    if (at - this.lastSuccessFlush >= Math.min(SUCCESS_FLUSH_MS, settings.windowMs / 4)) this.flushSuccesses(at);
  }

  /** Writes the successes kept in memory (one store update for every target), so other processes count them. */
  flushSuccesses(now: number): void {
    this.lastSuccessFlush = now;
    if (this.unwrittenSuccesses.size === 0) return;
    const settings = this.settings();
    const kept = [...this.unwrittenSuccesses].map(([key, successes]) => [key, successes.samples()] as const);
    this.unwrittenSuccesses.clear();
    this.store.update((state) => {
      let breakers = state.breakers;
      for (const [key, samples] of kept) {
        const record = withSuccesses(breakers[key], samples, now, settings);
        if (record && record !== breakers[key]) breakers = { ...breakers, [key]: record };
      }
      return breakers === state.breakers ? state : { ...state, breakers };
    });
  }

  /**
   * claimProbe() on what every process sharing the store has committed: with the file store the claim is one step
   * under the breakers file's lock, so of the pi windows and the gateway on one agent dir exactly one takes a
   * half-open slot (each one's memory alone let every process send its own probe to a target that may still be
   * down). A store without transactions (the team store, whose claim is in Redis), or a file that cannot be locked
   * (the store warns), decides on this process's memory.
   */
  async claimProbeShared(key: string, now: number): Promise<boolean> {
    if (!this.store.transact) return this.claimProbe(key, now);
    const settings = this.settings();
    const before = this.store.read().breakers[key];
    const event: BreakerEvent = { type: "claim-probe", at: now };
    let claimed: boolean;
    try {
      claimed = await this.store.transact((state) => {
        const record = state.breakers[key];
        if (!canClaimProbe(record, now, settings)) return { result: false };
        if (viewBreaker(record, now, settings).state === "closed") return { result: true };
        const operation = (current: BreakerStoreState): BreakerStoreState => {
          const next = reduceBreaker(current.breakers[key], event, settings);
          return next === current.breakers[key]
            ? current
            : { ...current, breakers: { ...current.breakers, [key]: next } };
        };
        return { operation, result: true };
      });
    } catch {
      return this.claimProbe(key, now); // the store warned; this process's memory decides
    }
    // A refused claim's transition (open -> half-open) was the claiming process's, and is in its log.
    const after = this.store.read().breakers[key];
    if (claimed && after && (before?.state ?? "closed") !== after.state) this.onTransition?.(key, before, after);
    return claimed;
  }

  /** Takes the single half-open probe slot. True for a closed breaker (no probe needed any more). */
  claimProbe(key: string, now: number): boolean {
    const settings = this.settings();
    const record = this.records(now)[key];
    if (!canClaimProbe(record, now, settings)) return false;
    if (viewBreaker(record, now, settings).state === "closed") return true;
    this.apply(key, { type: "claim-probe", at: now });
    return this.store.read().breakers[key]?.probeClaimedAt === now;
  }

  targetStatus(now: number): Record<string, Partial<TargetStatus>> {
    const settings = this.settings();
    const out: Record<string, Partial<TargetStatus>> = {};
    for (const [key, record] of Object.entries(this.records(now))) {
      const view = viewBreaker(record, now, settings);
      if (view.state !== "closed") out[key] = { breaker: view };
    }
    return out;
  }

  rows(now: number): BreakerRow[] {
    const settings = this.settings();
    const stored = this.records(now);
    const keys = [...new Set([...Object.keys(stored), ...this.unwrittenSuccesses.keys()])];
    return keys
      .map((key) => {
        const record = stored[key] ?? closedBreaker();
        const view = viewBreaker(record, now, settings);
        const unwritten = view.state === "closed" ? (this.unwrittenSuccesses.get(key)?.samples() ?? []) : [];
        const recent = [...record.samples, ...unwritten].filter((sample) => sample.at > now - settings.windowMs);
        const row: BreakerRow = {
          key,
          record,
          state: view.state,
          probeInFlight: view.probeInFlight === true,
          calls: recent.length,
          failures: recent.filter((s) => s.failed).length,
        };
        if (view.until !== undefined) row.until = view.until;
        return row;
      })
      .sort((a, b) => a.key.localeCompare(b.key));
  }

  /** Closes every breaker, or the one of `key`. Returns how many were not closed. */
  reset(now: number, key?: string): number {
    const count = this.rows(now).filter(
      (row) => row.state !== "closed" && (key === undefined || row.key === key),
    ).length;
    if (key === undefined) this.unwrittenSuccesses.clear();
    else this.unwrittenSuccesses.delete(key);
    this.store.update((state) => ({
      ...state,
      breakers: key === undefined ? {} : Object.fromEntries(Object.entries(state.breakers).filter(([k]) => k !== key)),
    }));
    return count;
  }
}
