// What the failover loop needs from the rest of the extension, in named parts, and nothing it can compute itself
// (redaction and error messages are pure functions): the session's books, where decisions and targets come from,
// the runtime's part in each attempt, where the request reports to, and time. RouterRuntime provides every part;
// tests and benches build smaller ones, and each step of the loop takes only the parts it uses.
import type { Context, SimpleStreamOptions } from "@mariozechner/pi-ai";
import type { RouterConfig } from "../config/schema.ts";
import type { EventDataByType, EventType } from "../events/event-types.ts";
import type { Candidate, Decision, ModelFacts, PromptShortcuts } from "../routing/types.ts";
import type { AttemptOutcome } from "./attempt.ts";
import type { CooldownBook } from "./cooldown-book.ts";
import type { RegistryLike, StreamFunction } from "./start-target.ts";
import type { Stickiness } from "./stickiness.ts";
import type { RevertBook } from "./revert-policy.ts";
import type { UpstreamPins } from "./upstream-pin.ts";
import type { AttemptRefusal } from "./plugin.ts";

/** Which targets a request can use at all (a passthrough's `serves`). */
export type TargetFilter = (target: Pick<Candidate, "provider" | "modelId">) => boolean;

export type RequestOutcome = "success" | "failed" | "aborted" | "refused";

export interface StatusSink {
  /**
   * `warnings`: the plugins' and the config's, for the sink to call when it shows them. `summary`: the request is pi's
   * summary of the conversation (compaction), which has no intent of the user's.
   */
  onDecision?(decision: Decision, warnings?: () => string[], summary?: boolean): void;
  onAttempt(routeId: string, candidate: Candidate, attempt: number): void;
  onCommitted(routeId: string, candidate: Candidate): void;
  /** `notice` says in one line what the router waits for and why (printed on stderr without a UI). */
  onWaiting(routeId: string, key: string, until: number, notice?: string): void;
  onFinished(routeId: string, outcome: RequestOutcome, servedKey: string | undefined, failovers: number): void;
  /**
   * A background reading (a usage API's, a balance's) changed what the plugins' warnings say while no request ran: the
   * warnings are built again, so the line does not keep a quota critical the refresh found eased until the next prompt.
   */
  onStateChanged?(): void;
}

export interface AttemptContext {
  requestId: string;
  routeId: string;
  attempts: number;
  /** Of the attempts, those that tried the same target again. */
  retried?: number;
}

/** The session's books the loop reads and changes. */
export interface RequestBooks {
  /** Per route and target: resting after a failure. */
  cooldowns: CooldownBook;
  /** Per route and prompt: the target that answered, tried first on the prompt's next turns. */
  sticky: Stickiness;
  /** After a failover: when to go back to the first choice (failover.revert); absent = never hold. */
  revert?: RevertBook;
  /** OpenRouter upstream pins of the session (failover.pinUpstream); absent = never pin. */
  upstreamPins?: UpstreamPins;
}

export interface DecideFlags {
  quiet?: boolean;
  shortcuts?: PromptShortcuts;
  prompt?: string;
  serves?: TargetFilter;
  toolImagesAsNotes?: boolean;
}

/** Where a request's decision and its targets come from. */
export interface RequestRouting {
  registry(): RegistryLike | undefined;
  config(): RouterConfig;
  /** Set while the routes file is broken and only its route ids are known: every request fails with this text. */
  configError?(routeId: string): string | undefined;
  /**
   * Features + snapshot + route(). `quiet` decisions are not logged or shown (re-checks during one request);
   * `shortcuts` are the request's own (the gateway's), used instead of those pi's input event handed over;
   * `prompt` is the identity of the request's prompt (none: the request is no prompt); `serves`, the targets the
   * request's passthrough can serve: the others are left out of the decision, the one published included;
   * `toolImagesAsNotes`: a tool result's image needs no vision target (none is available: pi-ai sends a note in its
   * place, as on a model without image input).
   */
  decide(
    requestId: string,
    routeId: string,
    context: Context,
    options: SimpleStreamOptions | undefined,
    now: number,
    flags?: DecideFlags,
  ): Decision;
  modelFacts(key: string): ModelFacts | undefined;
  /** How a target is called; absent = pi-ai's streamSimple. */
  stream?: StreamFunction;
}

/** The runtime's part in each attempt: the breaker's probe slot, budget reservations, the result's bookkeeping. */
export interface AttemptHooks {
  /** Half-open breaker: take the single probe slot; false when another request holds it. */
  claimProbe(key: string): boolean | Promise<boolean>;
  /** Before an attempt: undefined lets it start, a refusal is why the target is skipped (a hard budget). */
  reserveAttempt?(
    request: AttemptContext,
    candidate: Candidate,
  ): AttemptRefusal | undefined | Promise<AttemptRefusal | undefined>;
  /** Bookkeeping after each attempt: result event, latency, usage, breaker. */
  onAttemptResult(request: AttemptContext, candidate: Candidate, outcome: AttemptOutcome): void;
  /** A target's successful HTTP response (status + headers), for passive quota tracking. */
  onTargetResponse?(
    routeId: string,
    candidate: Candidate,
    response: { status: number; headers: Record<string, string> },
  ): void;
  /** The target's credentials could not be resolved: skip its provider as "no credentials" and warn once. */
  onMissingCredentials(candidate: Candidate): void;
}

/** Where a request reports to: the event log, `/auto-router explain`, the status line, warnings. */
export interface RequestReport {
  record<T extends EventType>(requestId: string, routeId: string, type: T, data: EventDataByType[T]): void;
  /** A line about this request for `/auto-router explain` (retries, waits, revert holds). */
  note?(requestId: string, routeId: string, text: string): void;
  /** A hard budget refused a candidate right before its attempt: explain lists it as skipped, not as tried or won. */
  refused?(requestId: string, routeId: string, key: string, reason: string): void;
  /** How the request ended, for `/auto-router explain` (a request that tried no target has no attempt to show it). */
  finished?(requestId: string, routeId: string, outcome: RequestOutcome): void;
  status: StatusSink;
  warn(text: string): void;
}

export interface RequestClock {
  now(): number;
  /** How long after a failed prompt pi's own first retry comes (its `retry.baseDelayMs`). */
  readonly piRetryDelayMs: number;
  /** Resolves true after `ms`, false as soon as the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
}

export interface RequestEnvironment {
  books: RequestBooks;
  routing: RequestRouting;
  hooks: AttemptHooks;
  report: RequestReport;
  clock: RequestClock;
}
