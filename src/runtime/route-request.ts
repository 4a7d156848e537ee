// What a caller other than pi (the gateway) hands one routed request and learns of its end.
import type { Api, Model } from "@mariozechner/pi-ai";
import type { Candidate, PromptShortcuts, RefusalKind } from "../routing/types.ts";
import type { AttemptOutcome, AttemptTimeouts } from "./attempt.ts";
import type { Failure } from "./classify-failure.ts";
import type { ReasoningLeftOut } from "./client-history.ts";
import type { FailedTarget } from "./final-error.ts";
import type { RequestPatch } from "./request-patch.ts";
import type { AuthResult } from "./start-target.ts";

/** How one request ended, for a caller that answers in another protocol (the gateway's HTTP status and headers). */
export interface RequestEnd {
  outcome: "success" | "failed" | "aborted" | "refused";
  servedKey?: string;
  failures: FailedTarget[];
  /** A failure that must not fail over, surfaced unchanged (its status is the client's answer). */
  surfaced?: Failure;
  /** Nothing was tried because every target is cooling down: when the first comes back. */
  coolingUntil?: number;
  /**
   * Refused before any attempt (the decision's refusal), or, with no failure, every target that was left was refused
   * by its hard budget right before its attempt ("over-budget").
   */
  refusal?: RefusalKind;
  /** The targets a body sent once (RouteRequest.sentOnce) was not resent to after its one attempt failed. */
  notResent?: string[];
}

/** Per-request hooks; the runtime's own bookkeeping runs regardless. */
export interface RequestObserver {
  /** The request's id, as the event log's lines of it carry it: a client can find them by it. */
  onStart?(requestId: string): void;
  /** The request uses another route's targets than it named (a tier's route, after `@reasoning`), once decided. */
  onRoute?(routeId: string): void;
  /** An attempt on `candidate` starts now (after any wait for a resting target). */
  onAttemptStart?(candidate: Candidate): void;
  onCommitted?(candidate: Candidate): void;
  /** The request waits for a resting target or a quota reset (until `until`); the next attempt, if any, ends it. */
  onWait?(until: number): void;
  onAttemptResult?(candidate: Candidate, outcome: AttemptOutcome): void;
  /**
   * `candidate` is sent the request without (some of) the encrypted reasoning the client sent back: it refused it,
   * and its attempt tries it again at once without it, or it refused its issuer's reasoning before.
   */
  onReasoningLeftOut?(candidate: Candidate): void;
  /** Called once, before the stream ends (before its result() resolves). */
  onEnd?(end: RequestEnd): void;
}

/** What a caller other than pi adds to one request: its own preferences and a way to watch it. */
export interface RouteRequest {
  /** Tiers and provider preferences for this request (they replace shortcuts handed over by pi's input event). */
  shortcuts?: PromptShortcuts;
  /**
   * Which client prompt this request belongs to, when the caller knows better than the context's timestamps (the
   * gateway: every HTTP request is translated afresh). The turns of one prompt share its intent; its follow-up turns
   * (tool results after it) stay on the target that served it. A first turn is decided afresh, as a new prompt in pi
   * is, even when the same text came before (a script sending the same request again). null: the request is no
   * prompt at all (a proxied endpoint call): nothing is remembered for it, so a stream of them cannot push the
   * prompts of chat clients out of the router's memory.
   */
  prompt?: { id: string; followUp: boolean } | null;
  observer?: RequestObserver;
  /** Targets it accepts are attempted by the caller's passthrough instead of through pi-ai. */
  passthrough?: TargetPassthrough;
  /** At most this many attempts, below the route's own limit (a request body that cannot be resent: 1). */
  maxAttempts?: number;
  /**
   * Why the request gets one attempt (a streamed upload: `what` "the upload", `why` "a streamed body is sent once"):
   * when that attempt fails, the final error names the route's targets it could not be resent to, instead of saying
   * that every target failed.
   */
  sentOnce?: { what: string; why: string };
  /** The encrypted reasoning the client sends back, as far as the caller knows which provider issued it. */
  replayedReasoning?: ReplayedReasoning;
  /** What the request is, in the `final` event's notes (the proxied method and path). */
  note?: string;
  /**
   * The request comes over HTTP (the gateway), not from pi: its final errors leave out what only a pi user can act
   * on (pi's own retry of the route, the /auto-router commands) and point at the gateway's health endpoint instead.
   */
  overHttp?: boolean;
  /**
   * The client gets the answer only whole (an HTTP client that did not ask to stream): a target that breaks off
   * mid-answer fails over like one that failed before its first token (its partial answer is paid for all the same).
   */
  holdsAnswer?: boolean;
}

/** One attempt a passthrough runs itself: the target, its resolved credentials and the attempt's limits. */
export interface PassthroughAttempt {
  target: Model<Api>;
  auth: Extract<AuthResult, { ok: true }>;
  candidate: Candidate;
  timeouts: AttemptTimeouts & { requestMs?: number };
  /** The user's signal (the client's connection). */
  signal?: AbortSignal;
  /** Called once, at the commit point, before anything reaches the client. */
  onCommit(): void;
  /** A successful HTTP response's status and headers (passive quota tracking). */
  onResponse(status: number, headers: Record<string, string>): void;
  /** The encrypted reasoning items of the client's input this try leaves out (see ReplayedReasoning). */
  withoutReasoning?: ReasoningLeftOut;
}

/**
 * The client's encrypted reasoning items whose issuer the caller (the gateway) knows. An OpenAI account cannot read
 * another's: a target that refused an issuer's items once is sent the request without that issuer's items from its
 * first try, instead of paying for the refusal again on every later turn of the conversation.
 */
export interface ReplayedReasoning {
  /** The items `candidate` refused before (never its own provider's), to leave out of its first try. */
  refusedBefore(candidate: Candidate): LeftOutReasoning | undefined;
  /** `candidate` refused the reasoning items it was sent: the ones it cannot read, from now on. */
  refused(candidate: Candidate): void;
}

/** The replayed items a target refused before: their keys (reasoning-key.ts), their known issuers, the rest's count. */
export interface LeftOutReasoning {
  keys: ReadonlySet<string>;
  issuers: string[];
  /** How many of them have an issuer the gateway does not know (issued before a restart, or elsewhere). */
  unknownIssuer: number;
}

/**
 * A caller that can send its client's own request to a target of the same protocol (the gateway) runs those
 * attempts itself, inside the same failover loop: the loop still picks, reserves, records and fails over; the
 * passthrough only forwards bytes, finds the commit point, and reports the outcome with the usage it read.
 */
export interface TargetPassthrough {
  /**
   * Only candidates it serves are considered at all (the wildcard proxy: targets whose provider advertises the
   * path); the others leave the decision as if the route did not list them. Absent: every candidate.
   */
  serves?(target: Pick<Candidate, "provider" | "modelId">): boolean;
  /** Whether this target takes the client's request as it is (same API, no per-target patch, plain credentials). */
  accepts(target: Model<Api>, auth: Extract<AuthResult, { ok: true }>, patch: RequestPatch | undefined): boolean;
  /** Never throws: every failure is an outcome. */
  attempt(input: PassthroughAttempt): Promise<AttemptOutcome>;
}
