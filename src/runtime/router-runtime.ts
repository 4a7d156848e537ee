// The extension's state for one pi session: config, stores, event log, the last decisions. It implements the
// RequestEnvironment the failover loop runs against, and is what commands read. index.ts only wires it to pi.
import type { Context, SimpleStreamOptions } from "@mariozechner/pi-ai";
import { randomUUID } from "node:crypto";
import type { RouterConfig } from "../config/schema.ts";
import type { EventDataByType, EventRecord, EventType } from "../events/event-types.ts";
import type { Candidate, Decision, ModelFacts, PromptShortcuts } from "../routing/types.ts";
import type { EventLog } from "../state/event-log.ts";
import { redactText } from "../state/redact.ts";
import type { AttemptOutcome } from "./attempt.ts";
import type { CooldownBook } from "./cooldown-book.ts";
import { computeDecision, type ComputedDecision } from "./compute-decision.ts";
import { candidatesEventData, decisionEventData } from "./decision-events.ts";
import { recordAttemptResult } from "./attempt-consequences.ts";
import { LastDecisions, type LastDecision } from "./last-decisions.ts";
import type { LatencyBook } from "./latency-book.ts";
import { type AttemptRefusal, pluginFailure, type RouterCollaborators, type RouterPlugin } from "./plugin.ts";
import type {
  AttemptContext,
  AttemptHooks,
  RequestBooks,
  RequestClock,
  RequestEnvironment,
  RequestOutcome,
  RequestReport,
  RequestRouting,
  StatusSink,
  DecideFlags,
} from "./request-environment.ts";
import { liveStatus, type LiveStatus } from "./live-status.ts";
import { PromptMemory } from "./prompt-memory.ts";
import { TargetFacts } from "./target-facts.ts";
import type { RegistryLike, StreamFunction } from "./start-target.ts";
import { Stickiness } from "./stickiness.ts";
import { SilentStrategyWatch } from "./silent-strategy-watch.ts";
import { RevertBook, type RevertState } from "./revert-policy.ts";
import type { StateStore } from "../state/json-store.ts";
import { UpstreamPins } from "./upstream-pin.ts";
import { PI_DEFAULT_RETRY_DELAY_MS } from "../state/pi-settings.ts";
import { abortableSleep } from "./abortable-sleep.ts";
import { plural } from "../analytics/text-format.ts";

export type { AttemptRecord, LastDecision } from "./last-decisions.ts";

export interface RouterRuntimeOptions {
  config: () => RouterConfig;
  configError?: (routeId: string) => string | undefined;
  cooldowns: CooldownBook;
  latency: LatencyBook;
  events?: EventLog;
  status: StatusSink;
  warn: (text: string) => void;
  /** `file:line:column` of a path in the routes file, for warnings about what the file says. */
  configWhere?: (path: string) => string;
  now?: () => number;
  stream?: StreamFunction;
  plugins?: RouterPlugin[];
  /** The roles one feature fills (breaker probes, quota pacing, shadow mode, budget reservations); absent = off. */
  collaborators?: RouterCollaborators;
  /** What the router knows of models before a session attaches pi's registry (default: the built-in catalogue). */
  catalogue?: RegistryLike;
  /** The revert holds' store (failover.revert), opened on first use; default: in memory. */
  revertStore?: () => StateStore<RevertState>;
  /** pi's `retry.baseDelayMs` (state/pi-settings.ts); default: pi's default. */
  piRetryDelayMs?: number;
}

export class RouterRuntime implements RequestEnvironment {
  readonly cooldowns: CooldownBook;
  readonly books: RequestBooks;
  // The runtime fills every other part of the request environment itself.
  readonly routing: RequestRouting = this;
  readonly hooks: AttemptHooks = this;
  readonly report: RequestReport = this;
  readonly clock: RequestClock = this;
  readonly latency: LatencyBook;
  readonly status: StatusSink;
  readonly stream?: StreamFunction;
  readonly now: () => number;
  readonly piRetryDelayMs: number;
  sessionId: string = randomUUID();
  private readonly facts: TargetFacts;
  private readonly prompts = new PromptMemory();
  readonly lastDecisions = new LastDecisions();
  private readonly probesInFlight = new Set<string>();
  readonly plugins: RouterPlugin[];
  readonly collaborators: RouterCollaborators;
  /** Configured strategies that silently do nothing, said once per session. */
  readonly silentStrategies = new SilentStrategyWatch((finding) => {
    this.options.events?.append({
      type: "warning",
      sessionId: this.sessionId,
      data: { code: finding.code, message: finding.message },
    } satisfies EventRecord);
    // Labelled as the routes file's own issues are (`auto-router: warning: <file>:3:5 at ...`): on stderr (pi -p, the
    // gateway's log) the level is the only sign it is a warning; pi's notice drops the label (withoutLevelLabel).
    const where = finding.path && this.options.configWhere?.(finding.path);
    this.warn(`auto-router: warning: ${where ? `${where}: ` : ""}${finding.message}`);
  });

  constructor(private readonly options: RouterRuntimeOptions) {
    this.facts = new TargetFacts(options.catalogue);
    this.cooldowns = options.cooldowns;
    this.books = {
      cooldowns: options.cooldowns,
      sticky: new Stickiness(),
      revert: new RevertBook(options.revertStore),
      upstreamPins: new UpstreamPins(() => this.sessionId),
    };
    this.latency = options.latency;
    this.status = options.status;
    this.stream = options.stream;
    this.now = options.now ?? Date.now;
    this.piRetryDelayMs = options.piRetryDelayMs ?? PI_DEFAULT_RETRY_DELAY_MS;
    this.plugins = options.plugins ?? [];
    this.collaborators = options.collaborators ?? {};
  }

  // ---- wiring from index.ts ----------------------------------------------------------------------------------
  attachRegistry(registry: RegistryLike | undefined): void {
    this.facts.attachRegistry(registry);
  }

  /**
   * What pi's `input` event knew of the next prompt: its shortcuts, and whether a person typed it (source
   * "interactive"); they apply to every turn of that prompt.
   */
  setPendingPrompt(shortcuts: PromptShortcuts | undefined, interactive: boolean): void {
    this.prompts.setPending(shortcuts, interactive);
  }

  /** The last request the route served, asked of it or sent through it by a tier (see LastDecisions). */
  lastDecision(routeId: string): LastDecision | undefined {
    return this.lastDecisions.servedThrough(routeId);
  }

  allLastDecisions(): LastDecision[] {
    return this.lastDecisions.all();
  }

  currentFacts(): Record<string, ModelFacts> {
    return this.facts.current(this.options.config(), this.now());
  }

  // ---- RequestEnvironment ------------------------------------------------------------------------------------
  registry(): RegistryLike | undefined {
    return this.facts.registry();
  }

  config(): RouterConfig {
    return this.options.config();
  }

  configError(routeId: string): string | undefined {
    return this.options.configError?.(routeId);
  }

  onMissingCredentials(candidate: Candidate): void {
    if (!this.facts.markMissingCredentials(candidate, this.now())) return;
    // pi's error names the command; neither it nor the command's output is shown (either may hold a secret).
    this.warn(
      `auto-router: warning: provider ${candidate.provider} has no usable credentials: its API key could not be resolved ` +
        `(a "!command" as its apiKey in models.json that failed?). Its targets are skipped as "no credentials" until it resolves.`,
    );
  }

  /** Live per-target and per-provider state: latency averages plus every plugin's audits (breakers, budgets, quota). */
  liveStatus(now: number): LiveStatus {
    return liveStatus(
      {
        config: () => this.options.config(),
        latency: this.latency,
        plugins: this.plugins,
        quota: this.collaborators.quota,
      },
      now,
    );
  }

  decide(
    requestId: string,
    routeId: string,
    context: Context,
    options: SimpleStreamOptions | undefined,
    now: number,
    flags?: DecideFlags,
  ): Decision {
    const computed = computeDecision(
      {
        config: this.options.config(),
        facts: this.facts,
        prompts: this.prompts,
        liveStatus: (at) => this.liveStatus(at),
        cooldowns: this.cooldowns,
        shadow: this.collaborators.shadow,
      },
      {
        routeId,
        context,
        options,
        shortcuts: flags?.shortcuts,
        prompt: flags?.prompt,
        serves: flags?.serves,
        toolImagesAsNotes: flags?.toolImagesAsNotes,
      },
      now,
    );
    if (!flags?.quiet) this.publishDecision(requestId, routeId, computed, now);
    return computed.decision;
  }

  /** What the plugins warn about on the status line now (a blocked budget, a stressed quota window...). */
  statusWarnings(now: number): string[] {
    return this.plugins.flatMap((p) => p.statusWarnings?.(now) ?? []);
  }

  /**
   * The warnings that hold whatever the request (a budget blocked, a quota stressed, a strategy that can do nothing),
   * as they read now: the status line's before a route's first request, and beside each decision's own.
   */
  readonly standingWarnings = (): string[] => {
    const at = this.now();
    const silent = this.silentStrategies.update(
      this.options.config(),
      this.currentFacts(),
      this.collaborators.quota,
      at,
    );
    const silentWarning =
      silent.length === 1 ? [silent[0]!.short] : silent.length > 1 ? [plural(silent.length, "config warning")] : [];
    return [...this.statusWarnings(at), ...silentWarning];
  };

  /** A decision that is not a quiet re-check: the last decision, the status line, its events and shadow history. */
  private publishDecision(requestId: string, routeId: string, computed: ComputedDecision, now: number): void {
    const { decision, shadow } = computed;
    this.lastDecisions.decided(routeId, requestId, now, decision);
    // Said (notice, warning event) when the decision finds it.
    this.silentStrategies.update(computed.config, computed.models, this.collaborators.quota, now);
    // The plugins' warnings and the strategies that do nothing as they read when the line is built (again after a
    // command): a budget blocked before local midnight is not still blocked after it, and a provider whose answer
    // brought rate-limit headers has a quota source now.
    this.status.onDecision?.(decision, this.standingWarnings, computed.summary);
    this.record(
      requestId,
      routeId,
      "decision",
      decisionEventData(decision, computed.features, computed.shortcuts, shadow),
    );
    this.record(requestId, routeId, "candidates", candidatesEventData(decision));
    const shadowSwitch = this.collaborators.shadow;
    try {
      shadowSwitch?.onDecision({ requestId, routeId, decision, shadow, now });
    } catch (error) {
      this.warn(pluginFailure(shadowSwitch!.name, error, "this decision is left out of its history"));
    }
  }

  note(requestId: string, routeId: string, text: string): void {
    this.lastDecisions.note(routeId, requestId, text);
  }

  refused(requestId: string, routeId: string, key: string, reason: string): void {
    this.lastDecisions.refused(routeId, requestId, key, reason);
  }

  finished(requestId: string, routeId: string, outcome: RequestOutcome): void {
    this.lastDecisions.finished(routeId, requestId, outcome);
  }

  modelFacts(key: string): ModelFacts | undefined {
    return this.facts.get(key);
  }

  claimProbe(key: string): boolean | Promise<boolean> {
    const breaker = this.collaborators.probes;
    if (breaker) return breaker.claimProbe(key, this.now());
    if (this.probesInFlight.has(key)) return false;
    this.probesInFlight.add(key);
    return true;
  }

  record<T extends EventType>(requestId: string, routeId: string, type: T, data: EventDataByType[T]): void {
    this.options.events?.append({ type, requestId, sessionId: this.sessionId, routeId, data });
  }

  async reserveAttempt(request: AttemptContext, candidate: Candidate): Promise<AttemptRefusal | undefined> {
    const decided = this.lastDecisions.get(request.routeId);
    const estimatedInputTokens =
      decided?.requestId === request.requestId ? decided.decision.trace.estimatedTokens : undefined;
    const budget = this.collaborators.budget;
    if (!budget) return undefined;
    try {
      return await budget.reserveAttempt({
        requestId: request.requestId,
        routeId: request.routeId,
        attempt: request.attempts + 1,
        candidate,
        estimatedInputTokens,
        now: this.now(),
      });
    } catch (error) {
      this.warn(pluginFailure(budget.name, error, `${candidate.key} is tried without a budget check`));
      return undefined;
    }
  }

  onAttemptResult(request: AttemptContext, candidate: Candidate, outcome: AttemptOutcome): void {
    this.probesInFlight.delete(candidate.key);
    recordAttemptResult(this, request, candidate, outcome);
  }

  onTargetResponse(
    routeId: string,
    candidate: Candidate,
    response: { status: number; headers: Record<string, string> },
  ): void {
    try {
      this.collaborators.quota?.onTargetResponse({
        routeId,
        candidate,
        status: response.status,
        headers: response.headers,
        now: this.now(),
      });
      // Its rate-limit headers may have made the provider a quota source: the next look says so, not a second later.
      this.silentStrategies.recheckSources();
    } catch {
      // Header parsing must never break a stream.
    }
  }

  warn(text: string): void {
    this.options.warn(redactText(text));
  }

  redact(text: string): string {
    return redactText(text);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    return abortableSleep(ms, signal);
  }
}
