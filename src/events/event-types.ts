// The event log's data shapes: one versioned envelope per JSONL line, `{v, type, ts, requestId?, sessionId?,
// routeId?, data}`. One type map serves both sides: the writer (state/event-log.ts) only accepts an EventRecord of a
// type in EventDataByType, and the readers know every type in EVENT_TYPES, so nothing the router writes is read back
// as unknown. Legacy logs are normalized into these shapes by legacy-events.ts; v2 lines by compact-events.ts.
import type { ProviderPreferences } from "../config/routing-schema.ts";
import type { RequestFeatures, RuleTrace } from "../routing/types.ts";

/**
 * 2: empty lists, a candidate's rank and a follow-up event's sessionId are left out (compact-events.ts).
 * 3: a request's candidates ride on its decision line, its attempts, results and usage on its final line.
 */
export const EVENT_SCHEMA_VERSION = 3;

export interface ShadowComparison {
  enabled: boolean;
  declaredOrder: string[];
  routedOrder: string[];
  match: boolean;
}

/** One per routed request: the outcome of route() and the inputs needed to replay it (features, never prompt text). */
export interface DecisionEventData {
  requestedRouteId: string;
  routeId: string;
  tier?: string;
  tierSource: "shortcut" | "rule" | "intent" | "none";
  intent: string;
  intentConfidence: number;
  features: RequestFeatures;
  shortcutTokens: string[];
  preferences?: ProviderPreferences;
  /** `provider/modelId` of candidates[0]. */
  plannedTarget?: string;
  rules: RuleTrace[];
  hints: string[];
  fallback?: string;
  refusal?: string;
  shadow?: ShadowComparison;
}

export interface CandidateEntry {
  key: string;
  /** 1-based position in the routed order. */
  rank: number;
  bucket: string;
  billing: string;
  reasons: string[];
  warnings: string[];
  estimatedCostUsd?: number;
  ttftMs?: number;
  uvi?: number;
  probe?: boolean;
}

export interface SkippedEntry {
  key: string;
  reason: string;
  detail: string;
  until?: number;
}

export interface CandidatesEventData {
  candidates: CandidateEntry[];
  skipped: SkippedEntry[];
}

export interface AttemptEventData {
  /** 1-based. */
  attempt: number;
  target: string;
  probe?: boolean;
  /** Set on a retry of the same target (retryBeforeFailover): 1 for the first retry. */
  retry?: number;
}

export type LoggedAttemptOutcome = "success" | "failed" | "aborted" | "failed-after-commit";

export interface UsageData {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  costUsd: number;
  /** Billed units that are no tokens, as in the `usage` event. */
  units?: Record<string, number>;
}

export interface ResultEventData {
  attempt: number;
  target: string;
  outcome: LoggedAttemptOutcome;
  failureKind?: string;
  /** Already redacted by the writer. */
  message?: string;
  latencyMs: number;
  ttftMs?: number;
  usage?: UsageData;
  /** Usage or cost was estimated (the target reported none). */
  estimated?: boolean;
  estimatedReason?: string;
  cooldownMs?: number;
}

/**
 * `refused`: the router refused the request before calling a target (a hard budget, no route), or, with `refusedBy`,
 * the target named there refused to answer (a content_policy stop, which a gateway client gets as its API's refusal).
 * Readers keep any other outcome (a newer writer's) as written.
 */
export type FinalOutcome = "success" | "failed" | "aborted" | "refused";

export interface FinalEventData {
  outcome: FinalOutcome;
  servedTarget?: string;
  plannedTarget?: string;
  attempts: number;
  failovers: number;
  latencyMs: number;
  /**
   * The request's whole cost as the budget booked it: every attempt's, failed ones included ($0 for a subscription
   * target's, whatever its list price); absent when the served answer's cost is unknown, or nothing was spent and
   * nothing served.
   */
  costUsd?: number;
  failureKinds: string[];
  /** The target whose refusal ended the request (outcome `refused`); absent when the router refused it. */
  refusedBy?: string;
  /**
   * Targets a hard budget refused at their reservation, right before their attempt: skipped for their budget, as
   * route() skips one already over its limit. `plannedTarget` is then the first target the request could start on
   * (none when the budget refused every one), so a refused first choice is no failover.
   */
  budgetSkipped?: string[];
  /** Retries of one target, quota-reset waits, revert holds and probes, in plain words. */
  notes?: string[];
}

export type Rating = "good" | "bad";

/** Has its own requestId; `ratedRequestId` points at the rated request. */
export interface FeedbackEventData {
  rating: Rating;
  reason?: string;
  tags?: string[];
  ratedRequestId: string;
  servedTarget?: string;
  routeId?: string;
}

/** Emitted when a provider's UVI (quota pressure) is refreshed: the UVI timeline. */
export interface QuotaEventData {
  provider: string;
  /** Set for windows only some of the provider's models draw on: which ones ("opus models"). */
  models?: string;
  uvi: number;
  level: string;
  window?: string;
  /** The worst window is 100% used: out until its reset, whatever its UVI (1.4 at 70% elapsed) says. */
  usedUp?: true;
  source: string;
}

/**
 * A request waits before trying again: for the earliest quota reset of its route (failover.waitForReset, or a reset
 * named by the provider that is within failover.cooldownWaitMs: "quota-reset"), or for a target resting after a
 * transient failure ("cooldown") or behind an open breaker ("circuit-open") to come back within cooldownWaitMs.
 */
export interface WaitEventData {
  reason: "quota-reset" | "cooldown" | "circuit-open";
  target: string;
  /** Epoch ms of the reset. */
  until: number;
  waitMs: number;
}

/** A configured strategy that silently does nothing (said once per cause and session). */
export interface WarningEventData {
  code: string;
  message: string;
}

/** An OpenRouter target pinned to the upstream that served it, or the pin broken when that upstream failed. */
export interface PinEventData {
  action: "pinned" | "broken";
  target: string;
  upstream: string;
  /** broken: the failure kind of the pinned attempt. */
  reason?: string;
}

/** Spend of one attempt, counted into the budget ledger. */
export interface UsageEventData {
  attempt: number;
  target: string;
  /** The provider whose budget it spends. */
  provider: string;
  outcome: string;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  costUsd: number;
  estimated: boolean;
  estimateReason?: string;
  /** Billed units that are no tokens (Cohere's `search_units`, audio `seconds`): in costUsd when all have a price. */
  units?: Record<string, number>;
  /** Calendar keys in the budget's time zone. */
  day: string;
  month: string;
  /** A health probe's answer (`health --probe`, the gateway's `?probe=1`): spend of no request, so no requestId. */
  probe?: true;
}

/** A target's circuit breaker changed state. */
export interface BreakerEventData {
  target: string;
  from: string;
  to: string;
  until?: number;
  breakMs?: number;
  lastFailure?: string;
}

/** A provider became unhealthy or healthy again. */
export interface HealthEventData {
  provider: string;
  unhealthy: boolean;
  failures: number;
  lastError?: string;
}

export interface EventDataByType {
  decision: DecisionEventData;
  candidates: CandidatesEventData;
  attempt: AttemptEventData;
  result: ResultEventData;
  final: FinalEventData;
  feedback: FeedbackEventData;
  quota: QuotaEventData;
  wait: WaitEventData;
  warning: WarningEventData;
  pin: PinEventData;
  usage: UsageEventData;
  breaker: BreakerEventData;
  health: HealthEventData;
}

export type EventType = keyof EventDataByType;

/** Every type the writer can write, for the readers. `satisfies` plus the check below keep it equal to the map. */
export const EVENT_TYPES = [
  "decision",
  "candidates",
  "attempt",
  "result",
  "final",
  "feedback",
  "quota",
  "wait",
  "warning",
  "usage",
  "breaker",
  "health",
  "pin",
] as const satisfies readonly EventType[];
type Missing = Exclude<EventType, (typeof EVENT_TYPES)[number]>;
const everyTypeListed: [Missing] extends [never] ? true : Missing = true;
void everyTypeListed;

/** What a writer hands the log: the log adds `v` and `ts`. */
export type EventRecord = {
  [T in EventType]: {
    type: T;
    data: EventDataByType[T];
    requestId?: string;
    sessionId?: string;
    routeId?: string;
    ts?: string;
  };
}[EventType];

/** The line as written. */
export interface EventEnvelope<T extends EventType = EventType> {
  v: number;
  type: T;
  /** ISO 8601. */
  ts: string;
  requestId?: string;
  sessionId?: string;
  routeId?: string;
  /** The machine that wrote the line (team mode names it; default the host name). */
  machine?: string;
  data: EventDataByType[T];
}

/** The line as read: envelope plus the parsed time and where it came from. */
export type NormalizedEvent = {
  [T in EventType]: EventEnvelope<T> & {
    /** Epoch ms of `ts`. */
    time: number;
    /** Normalized from the earlier public pi-auto-router format. */
    legacy?: boolean;
  };
}[EventType];

export type EventOf<T extends EventType> = Extract<NormalizedEvent, { type: T }>;
