// What a caller other than pi (the gateway) hands one routed request and learns of its end.
import type { Candidate, PromptShortcuts } from "../routing/types.ts";
import type { AttemptOutcome } from "./attempt.ts";
import type { Failure } from "./classify-failure.ts";
import type { FailedTarget } from "./final-error.ts";

/** How one request ended, for a caller that answers in another protocol (the gateway's HTTP status and headers). */
export interface RequestEnd {
  outcome: "success" | "failed" | "aborted" | "refused";
  servedKey?: string;
  failures: FailedTarget[];
  /** A failure that must not fail over, surfaced unchanged (its status is the client's answer). */
  surfaced?: Failure;
  /** Nothing was tried because every target is cooling down: when the first comes back. */
  coolingUntil?: number;
}

/** Per-request hooks; the runtime's own bookkeeping runs regardless. */
export interface RequestObserver {
  onCommitted?(candidate: Candidate): void;
  onAttemptResult?(candidate: Candidate, outcome: AttemptOutcome): void;
  /** Called once, before the stream ends (before its result() resolves). */
  onEnd?(end: RequestEnd): void;
}

/** What a caller other than pi adds to one request: its own preferences and a way to watch it. */
export interface RouteRequest {
  /** Tiers and provider preferences for this request (they replace shortcuts handed over by pi's input event). */
  shortcuts?: PromptShortcuts;
  observer?: RequestObserver;
}
