// The mutable state of one routed request while the failover loop runs: attempts, failures, retries, notes.
import type { FailedTarget } from "./final-error.ts";
import type { RequestReport } from "./request-environment.ts";
import type { RevertSettings } from "./revert-policy.ts";
import type { AttemptRefusal } from "./plugin.ts";

export interface RequestState {
  requestId: string;
  routeId: string;
  startedAt: number;
  attempts: number;
  failures: FailedTarget[];
  /** Which user prompt this request belongs to (stickiness across its tool-call turns). */
  prompt: string | undefined;
  /** Whether the prompt's serving target goes first (false: a first turn the caller wants decided afresh). */
  sticks: boolean;
  /** Targets tried since the last cooldown wait: not tried again until time has passed. */
  tried: Set<string>;
  plannedTarget?: string;
  /** Per target key: retries made on it in this request and when it was first tried (retryBeforeFailover). */
  retries: Map<string, { count: number; since: number }>;
  /** Attempts that tried the same target again (a retry, a new connection, a try after a wait): not failovers. */
  retried: number;
  /** Targets tried again without the reasoning the client or pi replayed, which they refused (another account's). */
  withoutReasoning?: Set<string>;
  /** Every target attempted in this request (`tried` is cleared by a wait; this is not). */
  attempted: Set<string>;
  revert: RevertSettings;
  pinUpstream: boolean;
  /** This request probes the first choice after a revert holdoff. */
  revertProbe?: boolean;
  /** What happened beyond plain failover (retries, waits, revert holds): final event and explain. */
  notes: string[];
  /** Targets a hard budget refused right before their attempt (reserveAttempt), in the order they were refused. */
  refusals: Array<{ key: string } & AttemptRefusal>;
  /** Every attempt's cost as the budget books it, failed ones included: the final event's `costUsd`. */
  spentUsd: number;
}

/** How often the request moved on to another target: every attempt after the first that was not a retry. */
export const failoversOf = (state: { attempts: number; retried?: number }): number =>
  Math.max(0, state.attempts - 1 - (state.retried ?? 0));

/** The note of a candidate a hard budget refused right before its attempt (explain lists it as skipped instead). */
export const refusalNote = (key: string, reason: string): string => `skipped ${key}: ${reason}`;

export function addNote(report: Pick<RequestReport, "note">, state: RequestState, text: string): void {
  state.notes.push(text);
  report.note?.(state.requestId, state.routeId, text);
}
