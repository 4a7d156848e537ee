// Features that feed the decision (budgets, quota pacing, breakers, health, ratings) plug into the runtime through
// this one interface instead of growing RouterRuntime: they contribute audits to each snapshot, observe attempts
// and target responses, add subcommands and status warnings, and own their stores.
import type { RouterConfig } from "../config/schema.ts";
import type { Candidate, ProviderStatus, TargetStatus } from "../routing/types.ts";
import type { StateStore } from "../state/json-store.ts";
import type { Subcommand } from "../commands/command-types.ts";
import type { AttemptOutcome } from "./attempt.ts";
import type { RegistryLike } from "./start-target.ts";

export interface AttemptObservation {
  requestId: string;
  routeId: string;
  attempt: number;
  candidate: Candidate;
  outcome: AttemptOutcome;
  /** The decision's estimate of the request's input tokens (for usage a provider did not report). */
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

export interface RouterPlugin {
  readonly name: string;
  /** Per-provider audits merged into every routing snapshot. Called on the request path: memory only, fast. */
  providerStatus?(now: number): Record<string, ProviderStatus>;
  /** Per-target state (keyed provider/modelId) merged into every snapshot. Memory only, fast. */
  targetStatus?(now: number): Record<string, Partial<TargetStatus>>;
  /** Hard quota mode: stressed providers are excluded, not only demoted. */
  quotaHard?(): boolean;
  /** Half-open breaker: take the single probe slot for this target; false when another request holds it. */
  claimProbe?(key: string, now: number): boolean;
  onAttemptResult?(observation: AttemptObservation): void;
  /** HTTP status and headers of a target's successful response (pi-ai's onResponse; rate-limit headers). */
  onTargetResponse?(response: TargetResponse): void;
  subcommands?: Subcommand[];
  /** Short warnings for the status line, e.g. "budget deepseek 85%". */
  statusWarnings?(now: number): string[];
  /** Background work (fetches) may start here; never awaited on the request path. */
  start?(): void;
  close?(): Promise<void>;
}

export interface PluginContext {
  stateDir: string;
  config(): RouterConfig;
  registry(): RegistryLike | undefined;
  /** A state store in the state dir (file `auto-router.<name>.json`), or in memory in tests. */
  openStore<T>(name: string, defaults: () => T, parse: (raw: unknown) => T): StateStore<T>;
  record(type: string, data: Record<string, unknown>, ids?: { requestId?: string; routeId?: string }): void;
  warn(text: string): void;
  env: Record<string, string | undefined>;
  now(): number;
}

export type PluginFactory = (context: PluginContext) => RouterPlugin;
