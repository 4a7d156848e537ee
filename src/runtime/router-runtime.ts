// The extension's state for one pi session: config, stores, event log, the last decisions. It implements the
// RequestEnvironment the failover loop runs against, and is what commands read. index.ts only wires it to pi.
import type { Context, SimpleStreamOptions } from "@mariozechner/pi-ai";
import { randomUUID } from "node:crypto";
import type { RouterConfig } from "../config/schema.ts";
import type { EventDataByType, EventRecord, EventType, ShadowComparison } from "../events/event-types.ts";
import { extractFeatures } from "../routing/features.ts";
import { route } from "../routing/route.ts";
import type { Candidate, Decision, ModelFacts, PromptShortcuts, ProviderStatus, RequestFeatures, TargetStatus } from "../routing/types.ts";
import type { EventLog } from "../state/event-log.ts";
import { redactText } from "../state/redact.ts";
import type { AttemptOutcome } from "./attempt.ts";
import type { CooldownBook } from "./cooldown-book.ts";
import { candidatesEventData, decisionEventData, inDeclaredOrder } from "./decision-events.ts";
import { recordAttemptResult } from "./attempt-consequences.ts";
import { LastDecisions, type LastDecision } from "./last-decisions.ts";
import type { LatencyBook } from "./latency-book.ts";
import type { RouterCollaborators, RouterPlugin } from "./plugin.ts";
import type { AttemptContext, RequestEnvironment, StatusSink } from "./request-environment.ts";
import { catalogueRegistry } from "./model-catalogue.ts";
import { buildSnapshot, collectModelFacts } from "./snapshot.ts";
import type { RegistryLike, StreamFunction } from "./start-target.ts";
import { promptIdentity, Stickiness } from "./stickiness.ts";
import { SilentStrategyWatch } from "./silent-strategy-watch.ts";
import { RevertBook } from "./revert-policy.ts";
import { UpstreamPins } from "./upstream-pin.ts";
import { abortableSleep } from "./abortable-sleep.ts";

export type { AttemptRecord, LastDecision } from "./last-decisions.ts";

export interface RouterRuntimeOptions {
  config: () => RouterConfig;
  configError?: (routeId: string) => string | undefined;
  cooldowns: CooldownBook;
  latency: LatencyBook;
  events?: EventLog;
  status: StatusSink;
  warn: (text: string) => void;
  now?: () => number;
  stream?: StreamFunction;
  plugins?: RouterPlugin[];
  /** The roles one feature fills (breaker probes, quota pacing, shadow mode, budget reservations); absent = off. */
  collaborators?: RouterCollaborators;
}

/** How long one collection of registry facts serves further requests. */
export const FACTS_REUSE_MS = 1_000;
/** A provider whose credentials could not be resolved is skipped this long, then its key is resolved again. */
export const MISSING_CREDENTIALS_RECHECK_MS = 60_000;

function* configuredTargetKeys(config: RouterConfig): Iterable<string> {
  for (const route of Object.values(config.routes)) for (const target of route.targets) yield `${target.provider}/${target.modelId}`;
}

/** What decide() computed, before anything is published. */
interface ComputedDecision {
  config: RouterConfig;
  features: RequestFeatures;
  shortcuts: PromptShortcuts | undefined;
  decision: Decision;
  shadow: ShadowComparison | undefined;
}

interface PendingPrompt {
  shortcuts: PromptShortcuts | undefined;
  interactive: boolean;
}

export class RouterRuntime implements RequestEnvironment {
  readonly sticky = new Stickiness();
  readonly revert = new RevertBook();
  readonly upstreamPins = new UpstreamPins(() => this.sessionId);
  readonly cooldowns: CooldownBook;
  readonly latency: LatencyBook;
  readonly status: StatusSink;
  readonly stream?: StreamFunction;
  readonly now: () => number;
  sessionId: string = randomUUID();
  private registryRef: RegistryLike | undefined;
  private facts: Record<string, ModelFacts> = {};
  /** When `facts` was collected, and from which registry and config: reused within FACTS_REUSE_MS. */
  private factsSource: { registry: RegistryLike | undefined; config: RouterConfig; at: number } | undefined;
  private pendingPrompt: PendingPrompt | undefined;
  /** The intent of the current prompt: its tool-call turns have the same last user text, classified once. */
  private promptIntent: { prompt: string; intent: RequestFeatures["intent"]; confidence: number } | undefined;
  /** Input facts bound to the prompt they came with (see promptFacts). */
  private boundPrompt: { prompt: string; facts: PendingPrompt | undefined } | undefined;
  readonly lastDecisions = new LastDecisions();
  private readonly probesInFlight = new Set<string>();
  /** Providers whose credentials did not resolve, until when they are skipped for it. */
  private readonly missingCredentials = new Map<string, number>();
  private readonly warnedMissingCredentials = new Set<string>();
  readonly plugins: RouterPlugin[];
  readonly collaborators: RouterCollaborators;
  /** Configured strategies that silently do nothing, said once per session. */
  readonly silentStrategies = new SilentStrategyWatch((finding) => {
    this.options.events?.append({ type: "warning", sessionId: this.sessionId, data: { code: finding.code, message: finding.message } } satisfies EventRecord);
    this.warn(`auto-router: ${finding.message}`);
  });

  constructor(private readonly options: RouterRuntimeOptions) {
    this.cooldowns = options.cooldowns;
    this.latency = options.latency;
    this.status = options.status;
    this.stream = options.stream;
    this.now = options.now ?? Date.now;
    this.plugins = options.plugins ?? [];
    this.collaborators = options.collaborators ?? {};
  }

  // ---- wiring from index.ts ----------------------------------------------------------------------------------
  attachRegistry(registry: RegistryLike | undefined): void {
    this.registryRef = registry;
    this.factsSource = undefined;
  }

  /**
   * What pi's `input` event knew of the next prompt: its shortcuts, and whether a person typed it (source
   * "interactive"); they apply to every turn of that prompt.
   */
  setPendingPrompt(shortcuts: PromptShortcuts | undefined, interactive: boolean): void {
    this.pendingPrompt = { shortcuts, interactive };
  }

  /**
   * The input facts of the prompt a request belongs to. Facts from pi's `input` event wait until the first request of
   * a NEW prompt arrives and are bound to it, so every turn of that prompt (tool calls) reuses them and the next
   * prompt starts clean. Keyed by the request's own context, not by agent_start: pi does not wait for extension
   * events, so an event-based hand-over can arrive after the prompt's first request.
   */
  private promptFacts(prompt: string | undefined): PendingPrompt | undefined {
    if (prompt === undefined) return undefined;
    if (this.boundPrompt?.prompt === prompt) return this.boundPrompt.facts;
    this.boundPrompt = { prompt, facts: this.pendingPrompt };
    this.pendingPrompt = undefined;
    return this.boundPrompt.facts;
  }

  lastDecision(routeId: string): LastDecision | undefined {
    return this.lastDecisions.get(routeId);
  }

  allLastDecisions(): LastDecision[] {
    return this.lastDecisions.all();
  }

  currentFacts(): Record<string, ModelFacts> {
    this.factsSource = undefined;
    this.facts = this.factsAt(this.options.config(), this.now());
    return this.facts;
  }

  // ---- RequestEnvironment ------------------------------------------------------------------------------------
  registry(): RegistryLike | undefined {
    return this.registryRef;
  }

  config(): RouterConfig {
    return this.options.config();
  }

  configError(routeId: string): string | undefined {
    return this.options.configError?.(routeId);
  }

  /**
   * What the registry says about every configured target. pi's registry finds a model by scanning its ~1,000 models,
   * ~20 us for the built-in routes, so one collection serves the requests of the next second (a tool-call burst);
   * a login or a models.json edit shows up within that second. Model objects themselves are never kept.
   */
  private factsAt(config: RouterConfig, now: number): Record<string, ModelFacts> {
    const source = this.factsSource;
    if (source && source.registry === this.registryRef && source.config === config && now - source.at < FACTS_REUSE_MS && now >= source.at) {
      return this.facts;
    }
    this.factsSource = { registry: this.registryRef, config, at: now };
    // Before a session, pi's built-in catalogue still gives each route's real context window and output limit.
    const facts = collectModelFacts(this.registryRef ?? catalogueRegistry, config);
    for (const [provider, until] of this.missingCredentials) {
      if (until <= now) {
        this.missingCredentials.delete(provider);
        continue;
      }
      for (const [key, fact] of Object.entries(facts)) {
        if (key.startsWith(`${provider}/`) && fact.resolvable) {
          facts[key] = { ...fact, hasCredentials: false, credentialsProblem: `no credentials: the API key of ${provider} could not be resolved (its models.json apiKey command failed?)` };
        }
      }
    }
    return facts;
  }

  onMissingCredentials(candidate: Candidate): void {
    this.missingCredentials.set(candidate.provider, this.now() + MISSING_CREDENTIALS_RECHECK_MS);
    this.factsSource = undefined;
    if (this.warnedMissingCredentials.has(candidate.provider)) return;
    this.warnedMissingCredentials.add(candidate.provider);
    // pi's error names the command; neither it nor the command's output is shown (either may hold a secret).
    this.warn(`auto-router: provider ${candidate.provider} has no usable credentials: its API key could not be resolved ` +
      `(a models.json "apiKey": "!command" that failed?). Its targets are skipped as "no credentials" until it resolves.`);
  }

  /** Live per-target and per-provider state: latency averages plus every plugin's audits (breakers, budgets, quota). */
  liveStatus(now: number): { targets: Record<string, TargetStatus>; providers: Record<string, ProviderStatus>; quotaHard: boolean } {
    const targets: Record<string, TargetStatus> = {};
    for (const [key, sample] of Object.entries(this.latency.all(() => configuredTargetKeys(this.options.config())))) {
      targets[key] = { ttftMs: sample.ttftMs, tokensPerSecond: sample.tokensPerSecond };
    }
    const providers: Record<string, ProviderStatus> = {};
    for (const plugin of this.plugins) {
      for (const [key, status] of Object.entries(plugin.targetStatus?.(now) ?? {})) targets[key] = { ...targets[key], ...status };
      for (const [provider, status] of Object.entries(plugin.providerStatus?.(now) ?? {})) providers[provider] = { ...providers[provider], ...status };
    }
    return { targets, providers, quotaHard: this.collaborators.quota?.quotaHard() ?? false };
  }

  decide(requestId: string, routeId: string, context: Context, options: SimpleStreamOptions | undefined, now: number, flags?: { quiet?: boolean; shortcuts?: PromptShortcuts }): Decision {
    const computed = this.computeDecision(routeId, context, options, now, flags?.shortcuts);
    if (!flags?.quiet) this.publishDecision(requestId, routeId, computed, now);
    return computed.decision;
  }

  /** Features, snapshot, route() and, in shadow mode, the declared order: what the request is routed with. */
  private computeDecision(routeId: string, context: Context, options: SimpleStreamOptions | undefined, now: number, requestShortcuts: PromptShortcuts | undefined): ComputedDecision {
    const config = this.options.config();
    const prompt = promptIdentity(context);
    const knownIntent = prompt !== undefined && this.promptIntent?.prompt === prompt ? this.promptIntent : undefined;
    const features = extractFeatures(context, { maxTokens: options?.maxTokens, intent: knownIntent });
    if (prompt !== undefined && !knownIntent) this.promptIntent = { prompt, intent: features.intent, confidence: features.intentConfidence };
    this.facts = this.factsAt(config, now);
    const { targets, providers, quotaHard } = this.liveStatus(now);
    const snapshot = buildSnapshot({ config, models: this.facts, cooldowns: this.cooldowns.active(now), targets, providers, quotaHard });
    const facts = requestShortcuts ? undefined : this.promptFacts(prompt);
    const shortcuts = requestShortcuts ?? facts?.shortcuts;
    const ranked = route({ routeId, features, shortcuts, interactive: facts?.interactive }, snapshot, now);
    const shadowOn = !ranked.refusal && (this.collaborators.shadow?.shadowMode() ?? false);
    const { decision, shadow } = shadowOn ? inDeclaredOrder(ranked) : { decision: ranked, shadow: undefined };
    return { config, features, shortcuts, decision, shadow };
  }

  /** A decision that is not a quiet re-check: the last decision, the status line, its events and shadow history. */
  private publishDecision(requestId: string, routeId: string, computed: ComputedDecision, now: number): void {
    const { decision, shadow } = computed;
    this.lastDecisions.decided(routeId, requestId, now, decision);
    const silent = this.silentStrategies.update(computed.config, this.facts, this.collaborators.quota, now);
    const silentWarning = silent.length === 1 ? [silent[0]!.short] : silent.length > 1 ? [`${silent.length} config warnings`] : [];
    this.status.onDecision?.(decision, [...this.plugins.flatMap((p) => p.statusWarnings?.(now) ?? []), ...silentWarning]);
    this.record(requestId, routeId, "decision", decisionEventData(decision, computed.features, computed.shortcuts, shadow));
    this.record(requestId, routeId, "candidates", candidatesEventData(decision));
    const shadowSwitch = this.collaborators.shadow;
    try {
      shadowSwitch?.onDecision({ requestId, routeId, decision, shadow, now });
    } catch (error) {
      this.warn(`auto-router: ${shadowSwitch!.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  note(requestId: string, routeId: string, text: string): void {
    this.lastDecisions.note(routeId, requestId, text);
  }

  modelFacts(key: string): ModelFacts | undefined {
    return this.facts[key];
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

  async reserveAttempt(request: AttemptContext, candidate: Candidate): Promise<string | undefined> {
    const decided = this.lastDecisions.get(request.routeId);
    const estimatedInputTokens = decided?.requestId === request.requestId ? decided.decision.trace.estimatedTokens : undefined;
    const budget = this.collaborators.budget;
    if (!budget) return undefined;
    try {
      return await budget.reserveAttempt({ requestId: request.requestId, routeId: request.routeId, attempt: request.attempts + 1, candidate, estimatedInputTokens, now: this.now() });
    } catch (error) {
      this.warn(`auto-router: ${budget.name}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }

  onAttemptResult(request: AttemptContext, candidate: Candidate, outcome: AttemptOutcome): void {
    this.probesInFlight.delete(candidate.key);
    recordAttemptResult(this, request, candidate, outcome);
  }

  onTargetResponse(routeId: string, candidate: Candidate, response: { status: number; headers: Record<string, string> }): void {
    try {
      this.collaborators.quota?.onTargetResponse({ routeId, candidate, status: response.status, headers: response.headers, now: this.now() });
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
