// The circuit breaker as a router plugin: one breaker per target (provider/model, not per provider: one broken
// model must not take its siblings down), persisted through the state store so a restart and every other pi window
// see it. Only failures that say the target itself is unwell count (server, overloaded, network, timeout); auth,
// invalid requests, context overflow and aborts say nothing about its health and never do.
import { z } from "zod";
import { readBreakerConfig } from "../config/quota-schema.ts";
import { classifyFailure, type FailureKind } from "../runtime/classify-failure.ts";
import type { AttemptObservation, PluginContext, PluginFactory, RouterPlugin } from "../runtime/plugin.ts";
import {
  canClaimProbe,
  DEFAULT_BREAKER_SETTINGS,
  reduceBreaker,
  viewBreaker,
  type BreakerEvent,
  type BreakerRecord,
  type BreakerSettings,
} from "../routing/breaker.ts";
import type { TargetStatus } from "../routing/types.ts";
import type { StateStore } from "../state/json-store.ts";
import { circuitCommand } from "./circuit-command.ts";

export const COUNTED_FAILURE_KINDS: ReadonlySet<FailureKind> = new Set(["server", "overloaded", "network", "timeout"]);

const breakerRecordSchema = z.object({
  state: z.enum(["closed", "open", "half-open"]),
  samples: z.array(z.object({ at: z.number(), failed: z.boolean() })),
  until: z.number().optional(),
  breakMs: z.number().optional(),
  openedAt: z.number().optional(),
  probeClaimedAt: z.number().optional(),
  lastFailure: z.string().optional(),
});
export const breakerStateSchema = z.object({ v: z.literal(1), breakers: z.record(z.string(), breakerRecordSchema) });
export type BreakerStoreState = z.infer<typeof breakerStateSchema>;
export const emptyBreakers = (): BreakerStoreState => ({ v: 1, breakers: {} });

const numberFrom = (text: string | undefined): number | undefined => {
  if (text === undefined || text.trim() === "") return undefined;
  const value = Number(text);
  return Number.isFinite(value) && value > 0 ? value : undefined;
};

/** Defaults < config `breaker` block < AUTO_ROUTER_BREAKER_* environment variables. */
export function breakerSettings(config: unknown, env: Record<string, string | undefined>): BreakerSettings & { enabled: boolean } {
  const block = readBreakerConfig(config);
  const settings = { ...DEFAULT_BREAKER_SETTINGS, enabled: block.enabled ?? true };
  for (const key of ["ratio", "minimumCalls", "windowMs", "breakMs", "maxBreakMs", "probeTimeoutMs"] as const) {
    const fromConfig = block[key];
    if (fromConfig !== undefined) settings[key] = fromConfig;
  }
  const fromEnv: Array<[keyof BreakerSettings, string]> = [
    ["ratio", "AUTO_ROUTER_BREAKER_RATIO"], ["minimumCalls", "AUTO_ROUTER_BREAKER_MINIMUM_CALLS"],
    ["windowMs", "AUTO_ROUTER_BREAKER_WINDOW_MS"], ["breakMs", "AUTO_ROUTER_BREAKER_BREAK_MS"],
    ["maxBreakMs", "AUTO_ROUTER_BREAKER_MAX_BREAK_MS"], ["probeTimeoutMs", "AUTO_ROUTER_BREAKER_PROBE_TIMEOUT_MS"],
  ];
  for (const [key, name] of fromEnv) {
    const value = numberFrom(env[name]);
    if (value !== undefined) settings[key] = value;
  }
  if (env.AUTO_ROUTER_BREAKER === "0") settings.enabled = false;
  return settings;
}

/** What one attempt tells the breaker of its target. */
export function breakerEventOf(observation: AttemptObservation): BreakerEvent {
  const { outcome, now, candidate } = observation;
  const probe = candidate.probe === true;
  if (outcome.status === "aborted") return { type: "neutral", at: now, probe };
  if (outcome.status === "failed") {
    const kind = outcome.failure.kind;
    return COUNTED_FAILURE_KINDS.has(kind) ? { type: "failure", at: now, probe, kind } : { type: "neutral", at: now, probe };
  }
  if (outcome.final === "done") return { type: "success", at: now, probe };
  if (outcome.final === "aborted") return { type: "neutral", at: now, probe };
  // An error after the commit point (e.g. the stream was cut mid-answer): the one classifier says what it was.
  const failure = classifyFailure({ stopReason: "error", errorMessage: outcome.message?.errorMessage }, now);
  return COUNTED_FAILURE_KINDS.has(failure.kind) ? { type: "failure", at: now, probe, kind: failure.kind } : { type: "neutral", at: now, probe };
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

  apply(key: string, event: BreakerEvent): BreakerRecord {
    const settings = this.settings();
    const before = this.store.read().breakers[key];
    this.store.update((state) => ({ v: 1, breakers: { ...state.breakers, [key]: reduceBreaker(state.breakers[key], event, settings) } }));
    const after = this.store.read().breakers[key]!;
    if ((before?.state ?? "closed") !== after.state) this.onTransition?.(key, before, after);
    return after;
  }

  /** Takes the single half-open probe slot. True for a closed breaker (no probe needed any more). */
  claimProbe(key: string, now: number): boolean {
    const settings = this.settings();
    const record = this.store.read().breakers[key];
    if (!canClaimProbe(record, now, settings)) return false;
    if (viewBreaker(record, now, settings).state === "closed") return true;
    this.apply(key, { type: "claim-probe", at: now });
    return this.store.read().breakers[key]?.probeClaimedAt === now;
  }

  targetStatus(now: number): Record<string, Partial<TargetStatus>> {
    const settings = this.settings();
    const out: Record<string, Partial<TargetStatus>> = {};
    for (const [key, record] of Object.entries(this.store.read().breakers)) {
      const view = viewBreaker(record, now, settings);
      if (view.state !== "closed") out[key] = { breaker: view };
    }
    return out;
  }

  rows(now: number): BreakerRow[] {
    const settings = this.settings();
    return Object.entries(this.store.read().breakers).map(([key, record]) => {
      const view = viewBreaker(record, now, settings);
      const recent = record.samples.filter((sample) => sample.at > now - settings.windowMs);
      const row: BreakerRow = { key, record, state: view.state, probeInFlight: view.probeInFlight === true, calls: recent.length, failures: recent.filter((s) => s.failed).length };
      if (view.until !== undefined) row.until = view.until;
      return row;
    }).sort((a, b) => a.key.localeCompare(b.key));
  }

  /** Closes every breaker, or the one of `key`. Returns how many were not closed. */
  reset(now: number, key?: string): number {
    const count = this.rows(now).filter((row) => row.state !== "closed" && (key === undefined || row.key === key)).length;
    this.store.update((state) => ({ v: 1, breakers: key === undefined ? {} : Object.fromEntries(Object.entries(state.breakers).filter(([k]) => k !== key)) }));
    return count;
  }
}

export const createBreakerPlugin: PluginFactory = (context: PluginContext): RouterPlugin => {
  const store = context.openStore("breakers", emptyBreakers, (raw) => breakerStateSchema.parse(raw));
  const settings = () => breakerSettings(context.config(), context.env);
  const book = new BreakerBook(store, settings, (key, from, to) => {
    context.record("breaker", { target: key, from: from?.state ?? "closed", to: to.state, until: to.until, breakMs: to.breakMs, lastFailure: to.lastFailure });
  });
  return {
    name: "breaker",
    targetStatus: (now) => (settings().enabled ? book.targetStatus(now) : {}),
    async claimProbe(key, now) {
      if (!settings().enabled) return true;
      const view = viewBreaker(store.read().breakers[key], now, settings());
      if (view.state !== "half-open") return book.claimProbe(key, now);
      // One probe across every machine of the team: the claim is named after this half-open period (its `until`),
      // so the next period has a fresh one, and it expires like the local slot if the probe never reports back.
      if (!(await context.claim(`probe:${key}:${view.until ?? 0}`, settings().probeTimeoutMs))) return false;
      return book.claimProbe(key, now);
    },
    onAttemptResult(observation) {
      if (!settings().enabled) return;
      book.apply(observation.candidate.key, breakerEventOf(observation));
    },
    resetState: (scope, now) => (scope === "breakers" || scope === "all" ? `${book.reset(now)} open breaker(s) closed` : undefined),
    subcommands: [circuitCommand(book, settings)],
  };
};
