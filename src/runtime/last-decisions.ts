// The last decision of each route and what became of it (targets tried, notes), as `/auto-router explain` and the
// status line show it. A request that decides again after a wait keeps what it noted before.
import type { LoggedAttemptOutcome } from "../events/event-types.ts";
import type { Candidate, Decision } from "../routing/types.ts";
import type { AttemptOutcome } from "./attempt.ts";
import type { AttemptContext } from "./request-environment.ts";
import { failoversOf } from "./request-state.ts";

/** One target tried for a request, as `/auto-router explain` shows it. */
export interface AttemptRecord {
  key: string;
  /** success, failed, failed-after-commit or aborted. */
  outcome: string;
  failureKind?: string;
  status?: number;
  latencyMs: number;
}

/** One decision of a request that decided more than once (again after a wait), and where its part begins. */
export interface DecisionRound {
  decision: Decision;
  at: number;
  /** Index of the round's first attempt in `attempts`, of its first note in `notes`, of its first in `refused`. */
  firstAttempt: number;
  firstNote: number;
  firstRefused?: number;
}

export interface LastDecision {
  requestId: string;
  at: number;
  decision: Decision;
  outcome?: string;
  servedKey?: string;
  failovers?: number;
  /** Every target tried, in order. */
  attempts: AttemptRecord[];
  /** Retries, waits and revert holds of that request, in plain words. */
  notes?: string[];
  /**
   * Every decision of the request, in order, when it decided more than once (it waited for a cooldown or a quota
   * reset, or a target came back while it failed over); `decision` is the last of them.
   */
  rounds?: DecisionRound[];
  /** Candidates a hard budget refused right before their attempt, with why. */
  refused?: Array<{ key: string; reason: string }>;
}

export class LastDecisions {
  private readonly byRoute = new Map<string, LastDecision>();
  /** The last request a tier sent through each route (main -> think under think), kept when main asks again. */
  private readonly byTierRoute = new Map<string, LastDecision>();

  get(routeId: string): LastDecision | undefined {
    return this.byRoute.get(routeId);
  }

  /** The last request a route served: one asked of it, or one a tier sent through it, whichever is newer. */
  servedThrough(routeId: string): LastDecision | undefined {
    const own = this.byRoute.get(routeId);
    const moved = this.byTierRoute.get(routeId);
    return own && moved ? (moved.at > own.at ? moved : own) : (own ?? moved);
  }

  /** Newest first. */
  all(): LastDecision[] {
    return [...this.byRoute.values()].sort((a, b) => b.at - a.at);
  }

  decided(routeId: string, requestId: string, at: number, decision: Decision): void {
    const earlier = this.byRoute.get(routeId);
    if (earlier?.requestId !== requestId) {
      this.remember(routeId, { requestId, at, decision, attempts: [] });
      return;
    }
    // The same request deciding again: what was decided before, and what came of it, stays readable.
    const rounds = earlier.rounds ?? [{ decision: earlier.decision, at: earlier.at, firstAttempt: 0, firstNote: 0 }];
    rounds.push({
      decision,
      at,
      firstAttempt: earlier.attempts.length,
      firstNote: earlier.notes?.length ?? 0,
      firstRefused: earlier.refused?.length ?? 0,
    });
    this.remember(routeId, { ...earlier, decision, rounds });
  }

  private remember(routeId: string, last: LastDecision): void {
    this.byRoute.set(routeId, last);
    const routed = last.decision.routeId;
    if (routed && routed !== routeId) this.byTierRoute.set(routed, last);
  }

  note(routeId: string, requestId: string, text: string): void {
    const last = this.ofRequest(routeId, requestId);
    if (last) (last.notes ??= []).push(text);
  }

  refused(routeId: string, requestId: string, key: string, reason: string): void {
    const last = this.ofRequest(routeId, requestId);
    if (last) (last.refused ??= []).push({ key, reason });
  }

  /** The decision's input estimate for the request's attempt, for the plugins' spend estimates. */
  estimatedTokens(request: AttemptContext): number | undefined {
    return this.ofRequest(request.routeId, request.requestId)?.decision.trace.estimatedTokens;
  }

  attempted(
    request: AttemptContext,
    candidate: Candidate,
    outcome: AttemptOutcome,
    logged: LoggedAttemptOutcome,
  ): void {
    const last = this.ofRequest(request.routeId, request.requestId);
    if (!last) return;
    last.servedKey = outcome.status === "committed" ? candidate.key : last.servedKey;
    last.failovers = failoversOf(request);
    last.outcome = logged;
    last.attempts.push({
      key: candidate.key,
      outcome: logged,
      failureKind: "failure" in outcome ? outcome.failure.kind : undefined,
      status: outcome.status === "failed" ? outcome.failure.status : undefined,
      latencyMs: outcome.latencyMs,
    });
  }

  /**
   * How a request ended; shown as its outcome when no target was tried (every one skipped or refused), or when the
   * user stopped it after its last attempt (Esc while it waited for a cooldown or a quota reset).
   */
  finished(routeId: string, requestId: string, outcome: string): void {
    const last = this.ofRequest(routeId, requestId);
    if (last && (last.attempts.length === 0 || outcome === "aborted")) last.outcome = outcome;
  }

  private ofRequest(routeId: string, requestId: string): LastDecision | undefined {
    const last = this.byRoute.get(routeId);
    return last?.requestId === requestId ? last : undefined;
  }
}
