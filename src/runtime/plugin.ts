// Features that feed the decision (budgets, quota pacing, breakers, health, ratings) plug into the runtime through
// this one interface instead of growing RouterRuntime: they contribute audits to each snapshot, observe attempts,
// add status warnings, and own their stores. A role only one feature fills is a named collaborator
// (RouterCollaborators) rather than a hook every plugin could implement. Their subcommands are wired by index.ts
// (FeaturePlugin in src/commands/command-types.ts), so the runtime never depends on the command layer.
import type { AssistantMessage } from "@mariozechner/pi-ai";
import type { Billing } from "../config/routing-schema.ts";
import type { RouterConfig } from "../config/schema.ts";
import type { EventDataByType, EventType, ShadowComparison } from "../events/event-types.ts";
import type { Candidate, Decision, ProviderStatus, TargetStatus } from "../routing/types.ts";
import type { OpenStore } from "../state/json-store.ts";
import type { PiSettings } from "../state/pi-settings.ts";
import type { AttemptOutcome } from "./attempt.ts";
import type { RegistryLike } from "./start-target.ts";

/** One object handed to every plugin in turn: read-only. */
export interface AttemptObservation {
  readonly requestId: string;
  readonly routeId: string;
  readonly attempt: number;
  readonly candidate: Candidate;
  readonly outcome: AttemptOutcome;
  /** The decision's estimate of the request's input tokens (for usage a provider did not report). */
  readonly estimatedInputTokens?: number;
  readonly now: number;
}

/** An attempt about to start (see AttemptReserver). */
export interface AttemptReservation {
  requestId: string;
  routeId: string;
  /** The number the attempt will have (AttemptObservation.attempt of its result). */
  attempt: number;
  candidate: Candidate;
  estimatedInputTokens?: number;
  now: number;
}

export interface TargetResponse {
  routeId: string;
  candidate: Candidate;
  status: number;
  headers: Record<string, string>;
  now: number;
}

/**
 * A health probe's answer (`/auto-router health --probe`, the gateway's `?probe=1`): a real request, paid for like any
 * other, though it belongs to no route.
 */
export interface ProbeAnswer extends ProbeReservation {
  /** Absent: no answer came (the probe failed before one); its reservation, if any, ends without spend. */
  readonly message?: AssistantMessage;
}

/** A health probe about to be sent: under a hard budget it reserves what it may cost, as a routed attempt does. */
export interface ProbeReservation {
  /** The probe's own id: its reservation and its spend are booked under it. */
  readonly id: string;
  /** The account its spend counts under (authProvider, else provider). */
  readonly account: string;
  readonly provider: string;
  readonly modelId: string;
  readonly billing: Billing;
  readonly now: number;
}

/** A logged decision (never the quiet re-checks inside one request), as the runtime will route it. */
export interface DecisionObservation {
  requestId: string;
  routeId: string;
  decision: Decision;
  /** Present while shadow mode is on: the declared order routed, the full ranking only recorded. */
  shadow?: ShadowComparison;
  now: number;
}

/** What `/auto-router reset <scope>` clears; the event log is never among it. */
export const RESET_SCOPES = ["cooldowns", "breakers", "latency", "all"] as const;
export type ResetScope = (typeof RESET_SCOPES)[number];

/**
 * The hooks every feature may implement; the runtime calls each of them on every plugin. What only one feature does
 * (the breaker's probe slot, quota pacing's hard mode and headers, shadow mode, a hard budget's reservation) is a
 * named collaborator instead (RouterCollaborators), passed to the runtime where it is used.
 */
export interface RouterPlugin {
  readonly name: string;
  /** Per-provider audits merged into every routing snapshot. Called on the request path: memory only, fast. */
  providerStatus?(now: number): Record<string, ProviderStatus>;
  /** Per-target state (keyed provider/modelId) merged into every snapshot. Memory only, fast. */
  targetStatus?(now: number): Record<string, Partial<TargetStatus>>;
  onAttemptResult?(observation: AttemptObservation): void;
  /** pi showed an answer of a model chosen directly (provider/model), not through auto-router. */
  onUnroutedAnswer?(target: string, now: number): void;
  /** Before a health probe is sent: a refusal (a hard budget it would not fit) holds it back with its reason. */
  reserveProbe?(probe: ProbeReservation): AttemptRefusal | undefined | Promise<AttemptRefusal | undefined>;
  /** A health probe ended, with its answer when one came (its usage is spend too). */
  onProbeAnswer?(answer: ProbeAnswer): void;
  /** Short warnings for the status line, e.g. "budget deepseek 85%". */
  statusWarnings?(now: number): string[];
  /** Modes the status line always shows while they are on, e.g. "🔬 shadow". */
  statusMarks?(): string[];
  /** Lines for `/auto-router debug`'s state section (indented two spaces) that the snapshot's audits leave out. */
  debugLines?(now: number): string[];
  /** Background work (fetches) may start here; never awaited on the request path. */
  start?(): void;
  /**
   * Awaited once before the first prompt (the gateway: before it listens), after the team store's first sync: what
   * the first decision must know that start() only began to fetch. Bounded, and never rejects.
   */
  ready?(): Promise<void>;
  close?(): Promise<void>;
}

/** The circuit breaker's half-open probe slot. */
export interface ProbeClaimer {
  readonly name: string;
  /** Takes the single probe slot for this target; false when another request holds it. */
  claimProbe(key: string, now: number): boolean | Promise<boolean>;
}

/** The circuit breakers' learned state, for `/auto-router reset`. */
export interface BreakerReset {
  /** Clears what `scope` covers; returns a short summary of what it did (undefined when the scope is not its). */
  resetState(scope: ResetScope, now: number): string | undefined;
}

/** Quota pacing, as the runtime uses it beyond the uniform hooks. */
export interface QuotaTracker {
  readonly name: string;
  /** Hard quota mode: stressed providers are excluded, not only demoted. */
  quotaHard(): boolean;
  /** Whether it is on, in hard mode, and which providers it can read usage for. Memory only. */
  quotaSources(now: number): { enabled: boolean; hard: boolean; providers: string[] };
  /** HTTP status and headers of a target's successful response (pi-ai's onResponse; rate-limit headers). */
  onTargetResponse(response: TargetResponse): void;
}

/** Shadow mode: while on, the runtime routes in declared order and records the full ranking beside it. */
export interface ShadowSwitch {
  readonly name: string;
  shadowMode(): boolean;
  /** Every logged decision (never the quiet re-checks inside one request), as the runtime will route it. */
  onDecision(observation: DecisionObservation): void;
}

/**
 * Why a hard budget refused an attempt: it does not fit a limit, or (`spendUnknown`) the team's spend cannot be read
 * now, which passes once the team store answers again (the gateway then answers 503 and lets the client retry).
 */
export interface AttemptRefusal {
  reason: string;
  spendUnknown?: boolean;
  /** The hard limit the attempt's expected cost did not fit, and by how much (absent when the spend is unknown). */
  shortfall?: LimitShortfall;
}

/** A hard limit's check that refused: spent + in flight + this attempt's expected cost went past the limit. */
export interface LimitShortfall {
  period: "daily" | "monthly";
  spentUsd: number;
  reservedUsd: number;
  amountUsd: number;
  limitUsd: number;
}

/** A hard budget's per-attempt reservation. */
export interface AttemptReserver {
  readonly name: string;
  /**
   * Right before an attempt starts: checks and reserves the attempt's expected spend (one round trip to the team
   * store, or one lock of the usage file with the file store; nothing when no hard limit applies). A refusal skips the target with its reason. A granted reservation
   * ends with the attempt's onAttemptResult.
   */
  reserveAttempt(attempt: AttemptReservation): AttemptRefusal | undefined | Promise<AttemptRefusal | undefined>;
}

/**
 * A plugin's hook threw: the request goes on without it. A warning as the routes file's are, so stderr (pi -p, the
 * gateway's log) says its level; `consequence` says what the failure left undone.
 */
export const pluginFailure = (name: string, error: unknown, consequence: string): string =>
  `auto-router: warning: the ${name} plugin failed (${error instanceof Error ? error.message : String(error)}); ${consequence}`;

/** The one-implementer roles, each absent when its feature is not loaded. */
export interface RouterCollaborators {
  probes?: ProbeClaimer;
  breakers?: BreakerReset;
  quota?: QuotaTracker;
  shadow?: ShadowSwitch;
  budget?: AttemptReserver;
}

export interface PluginContext {
  stateDir: string;
  config(): RouterConfig;
  registry(): RegistryLike | undefined;
  /** A state store in the state dir (file `auto-router.<name>.json`), or in memory in tests. */
  openStore: OpenStore;
  record<T extends EventType>(type: T, data: EventDataByType[T], ids?: { requestId?: string; routeId?: string }): void;
  /**
   * A claim exactly one caller gets until it expires, across every process sharing the state backend (one Redis
   * round trip in team mode; always granted with the file store, where the store's own view decides).
   */
  claim(name: string, ttlMs: number): Promise<boolean>;
  warn(text: string): void;
  /** The process environment (AUTO_ROUTER_* switches). */
  processEnv: Record<string, string | undefined>;
  /** pi's settings (the global file, the project's over it) as they were at start (read-only). */
  piSettings?(): PiSettings;
  /** The state is shared with a team (Redis): what every machine must count alike (the budget calendar) is. */
  teamMode?: boolean;
  /** A background refresh changed what the plugin's statusWarnings() say: the status line builds them again. */
  stateChanged?(): void;
  /** This machine's name (the host name, or state.machine / AUTO_ROUTER_MACHINE): what it did in a shared state. */
  machine?: string;
  now(): number;
}

export type PluginFactory = (context: PluginContext) => RouterPlugin;
