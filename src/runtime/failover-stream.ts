// Executes a decision for one LLM call of an auto-router model: tries candidates in order, fails over before the
// commit point, waits briefly when everything is cooling down, and always ends the stream with exactly one terminal
// event (pi hangs on a stream that never ends).
import {
  createAssistantMessageEventStream,
  type Api,
  type AssistantMessage,
  type AssistantMessageEventStream,
  type Context,
  type Model,
  type SimpleStreamOptions,
} from "@mariozechner/pi-ai";
import { randomUUID } from "node:crypto";
import type { Candidate, Decision } from "../routing/types.ts";
import { attemptTarget, redactedMessage } from "./attempt-target.ts";
import { answered, breakPin, restTarget, settleAttempt } from "./attempt-consequences.ts";
import type { applyFailurePolicy, Failure } from "./classify-failure.ts";
import { allFailedText, noCapableTargetText, noTargetText, routerAbortedMessage, routerErrorMessage, waitingText, type FailedTarget } from "./final-error.ts";
import { findTarget, routeSettings, targetTimeouts } from "./route-settings.ts";
import type { RequestEnvironment } from "./request-environment.ts";
import type { RequestObserver, RouteRequest } from "./route-request.ts";
import { resolveTargetAuth } from "./start-target.ts";
import { promptIdentity } from "./stickiness.ts";
import { retryDelayMs } from "./retry-same-target.ts";
import type { RevertSettings } from "./revert-policy.ts";
import { isOpenRouter, pinnedPatch } from "./upstream-pin.ts";
import { describeWait, earliestQuotaReset, waitUntilReset } from "./wait-for-reset.ts";

/** Rounds of "everything is cooling down: wait for the first to come back" per request. */
export const MAX_WAIT_ROUNDS = 1;

const textOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export type { RequestEnd, RequestObserver, RouteRequest } from "./route-request.ts";

export function createRouterStream(env: RequestEnvironment) {
  return (model: Model<Api>, context: Context, options?: SimpleStreamOptions): AssistantMessageEventStream => streamRoute(env, model, context, options);
}

/** One routed request: `model.id` is the route id. */
export function streamRoute(env: RequestEnvironment, model: Model<Api>, context: Context, options?: SimpleStreamOptions, request: RouteRequest = {}): AssistantMessageEventStream {
  const out = createAssistantMessageEventStream();
  serveRequest(env, model, context, options, out, request).catch((error) => {
    // Last line of defence: any bug inside the router still ends the stream with an error event.
    const message = routerErrorMessage(model, `auto-router: internal error: ${textOf(error)}`, env.now());
    try {
      out.push({ type: "error", reason: "error", error: message });
      out.end(message);
    } catch {
      // The stream was already ended; nothing more to do.
    }
  });
  return out;
}

interface RequestState {
  requestId: string;
  routeId: string;
  startedAt: number;
  attempts: number;
  failures: FailedTarget[];
  /** Which user prompt this request belongs to (stickiness across its tool-call turns). */
  prompt: string | undefined;
  /** Targets tried since the last cooldown wait: not tried again until time has passed. */
  tried: Set<string>;
  plannedTarget?: string;
  /** Per target key: retries made on it in this request and when it was first tried (retryBeforeFailover). */
  retries: Map<string, { count: number; since: number }>;
  revert: RevertSettings;
  pinUpstream: boolean;
  /** This request probes the first choice after a revert holdoff. */
  revertProbe?: boolean;
  /** What happened beyond plain failover (retries, waits, revert holds): final event and explain. */
  notes: string[];
  /** Targets a hard budget refused right before their attempt (reserveAttempt), with the reason. */
  refusals: string[];
}

function addNote(env: RequestEnvironment, state: RequestState, text: string): void {
  state.notes.push(text);
  env.note?.(state.requestId, state.routeId, text);
}

async function serveRequest(
  env: RequestEnvironment,
  model: Model<Api>,
  context: Context,
  options: SimpleStreamOptions | undefined,
  out: AssistantMessageEventStream,
  request: RouteRequest,
): Promise<void> {
  const signal = options?.signal;
  const observer = request.observer;
  let surfaced: Failure | undefined;
  let coolingUntil: number | undefined;
  const settings = routeSettings(env.config(), model.id);
  const state: RequestState = { requestId: randomUUID(), routeId: model.id, startedAt: env.now(), attempts: 0, failures: [], tried: new Set(), prompt: promptIdentity(context), retries: new Map(), notes: [], refusals: [], revert: settings.revert, pinUpstream: settings.pinUpstream };
  const finish = (message: AssistantMessage, outcome: "success" | "failed" | "aborted" | "refused", served?: string) => {
    env.record(state.requestId, state.routeId, "final", {
      outcome,
      servedTarget: served,
      plannedTarget: state.plannedTarget,
      attempts: state.attempts,
      failovers: Math.max(0, state.attempts - 1),
      latencyMs: env.now() - state.startedAt,
      costUsd: outcome === "success" ? message.usage?.cost?.total : undefined,
      failureKinds: state.failures.map((f) => f.kind),
      notes: state.notes.length ? state.notes : undefined,
    });
    env.status.onFinished(state.routeId, outcome, served, Math.max(0, state.attempts - 1));
    observer?.onEnd?.({ outcome, servedKey: served, failures: state.failures, surfaced, coolingUntil });
    if (outcome !== "aborted") env.revert?.onFinished(state.routeId, settings.revert, state.plannedTarget, served, state.revertProbe ?? false, env.now());
    out.end(message);
  };
  const failWith = (text: string, outcome: "failed" | "refused" = "failed") => {
    const message = routerErrorMessage(model, text, env.now());
    out.push({ type: "error", reason: "error", error: message });
    finish(message, outcome);
  };
  const abortNow = (message?: AssistantMessage) => {
    const aborted = message?.stopReason === "aborted" ? message : routerAbortedMessage(model, env.now());
    out.push({ type: "error", reason: "aborted", error: aborted });
    finish(aborted, "aborted");
  };

  const configError = env.configError?.(state.routeId);
  if (configError) return failWith(configError);
  if (!env.registry()) return failWith("auto-router: pi's model registry is not available yet (no session started)");
  if (!env.config().routes[state.routeId]) {
    return failWith(`auto-router: route ${state.routeId} is not in the config (known: ${Object.keys(env.config().routes).join(", ")})`);
  }
  let waitedForReset = false;

  for (let round = 0; round <= MAX_WAIT_ROUNDS; round++) {
    if (signal?.aborted) return abortNow();
    const decision = env.decide(state.requestId, state.routeId, context, options, env.now(), { shortcuts: request.shortcuts });
    state.plannedTarget ??= decision.candidates[0]?.key;
    if (decision.refusal) return failWith(decision.refusal, "refused");
    const served = await tryCandidates(env, state, decision, context, options, settings.policy, settings.maxAttempts, out, observer);
    if (served?.kind === "served") {
      // The attempt already forwarded its terminal event; only the bookkeeping and the end remain.
      const outcome = served.final === "done" ? "success" : served.final === "aborted" ? "aborted" : "failed";
      const message = served.message ?? routerErrorMessage(model, "auto-router: the target ended without a message", env.now());
      return finish(redactedMessage(message), outcome, served.key);
    }
    if (served) {
      if (served.kind === "aborted") return abortNow(served.message);
      // A failure that must not fail over: surface the target's own error (pi compacts on overflow), minus secrets.
      surfaced = served.failure;
      const message = redactedMessage(served.message);
      out.push({ type: "error", reason: "error", error: message });
      return finish(message, "failed");
    }
    // Nothing served. Wait for the first cooling target if it is back soon; otherwise explain and stop.
    const refreshed = env.decide(state.requestId, state.routeId, context, options, env.now(), { quiet: true, shortcuts: request.shortcuts });
    if (refreshed.candidates.some((c) => !state.tried.has(c.key)) && state.attempts < settings.maxAttempts) {
      // A target not tried yet became available while we were failing over (e.g. its cooldown ran out): go again.
      round -= 1;
      continue;
    }
    const cooling = refreshed.skipped
      .filter((s) => (s.reason === "cooldown" || s.reason === "circuit-open") && s.until !== undefined)
      .sort((a, b) => a.until! - b.until!)[0];
    const waitMs = cooling ? cooling.until! - env.now() : Infinity;
    if (cooling && round < MAX_WAIT_ROUNDS && waitMs <= settings.cooldownWaitMs) {
      env.status.onWaiting(state.routeId, cooling.key, cooling.until!, waitingText(state.routeId, state.failures, cooling.key, waitMs));
      const completed = await env.sleep(Math.max(0, waitMs) + 5, signal);
      if (!completed) return abortNow();
      state.tried.clear();
      continue;
    }
    const reset = settings.waitForResetMs !== undefined && !waitedForReset
      ? earliestQuotaReset({ routeId: refreshed.routeId, candidates: refreshed.candidates.length, skipped: refreshed.skipped, cooldowns: env.cooldowns.active(env.now()), maxMs: settings.waitForResetMs, now: env.now() })
      : undefined;
    if (reset) {
      waitedForReset = true;
      env.record(state.requestId, state.routeId, "wait", { reason: "quota-reset", target: reset.key, until: reset.until, waitMs: reset.until - env.now() });
      addNote(env, state, `every target out of quota: waiting for the reset of ${reset.key}, ${Math.ceil((reset.until - env.now()) / 1000)} s away`);
      env.warn(describeWait(state.routeId, reset, env.now()));
      const tick = { now: env.now, sleep: env.sleep.bind(env), onTick: (key: string, until: number) => env.status.onWaiting(state.routeId, key, until) };
      if (!(await waitUntilReset(tick, reset, signal))) return abortNow();
      state.tried.clear();
      round -= 1; // the reset wait is its own round; the short cooldown wait stays available after it
      continue;
    }
    if (state.failures.length > 0) {
      return failWith(allFailedText(state.routeId, state.failures, settings.agentRetry).text);
    }
    if (refreshed.skipped.length > 0 && refreshed.skipped.every((s) => s.reason === "capability")) {
      return failWith(noCapableTargetText(state.routeId, refreshed.skipped));
    }
    const reasons = [...refreshed.skipped.map((s) => `${s.key}: ${s.detail}`), ...state.refusals];
    coolingUntil = cooling?.until;
    return failWith(noTargetText(state.routeId, reasons, cooling ? { key: cooling.key, until: cooling.until! } : undefined, env.now()));
  }
  return failWith(allFailedText(state.routeId, state.failures, settings.agentRetry).text);
}

type CandidatesResult =
  | undefined
  | { kind: "served"; key: string; final: "done" | "error" | "aborted"; message?: AssistantMessage }
  | { kind: "surface"; message: AssistantMessage; failure: Failure }
  | { kind: "aborted"; message?: AssistantMessage };

async function tryCandidates(
  env: RequestEnvironment,
  state: RequestState,
  decision: Decision,
  context: Context,
  options: SimpleStreamOptions | undefined,
  policy: Parameters<typeof applyFailurePolicy>[1],
  maxAttempts: number,
  out: AssistantMessageEventStream,
  observer: RequestObserver | undefined,
): Promise<CandidatesResult> {
  const registry = env.registry()!;
  const config = env.config();
  const routeId = decision.routeId;
  const reverted = state.revert.mode === "cooldown-expiry" ? undefined : env.revert?.order(state.routeId, state.revert, decision.candidates, env.now());
  if (reverted?.probe) state.revertProbe = true;
  if (reverted?.note) addNote(env, state, reverted.note);
  const candidates: Candidate[] = env.sticky.order(state.routeId, state.prompt, reverted?.candidates ?? decision.candidates);
  let minContextWindow: number | undefined;

  for (let index = 0; index < candidates.length; index++) {
    if (options?.signal?.aborted) return { kind: "aborted" };
    if (state.attempts >= maxAttempts) return undefined;
    const candidate = candidates[index]!;
    if (state.tried.has(candidate.key)) continue;
    state.tried.add(candidate.key); // also when skipped below, so a re-check never loops on it
    const facts = env.modelFacts(candidate.key);
    if (minContextWindow !== undefined && (facts?.contextWindow ?? 0) <= minContextWindow) continue;
    const target = registry.find(candidate.provider, candidate.modelId);
    if (!target) continue;
    // Credentials first: a target whose key cannot be resolved (a models.json "!command" that fails) is skipped as
    // "no credentials", not tried and blamed for an unknown failure.
    const auth = await resolveTargetAuth(registry, target);
    if (!auth.ok) {
      env.onMissingCredentials(candidate);
      continue;
    }
    if (candidate.probe && !(await env.claimProbe(candidate.key))) continue; // another request holds the half-open probe
    const refusal = await env.reserveAttempt?.(state, candidate);
    if (refusal !== undefined) {
      state.refusals.push(`${candidate.key}: ${refusal}`);
      addNote(env, state, `skipped ${candidate.key}: ${refusal}`);
      continue;
    }
    const remaining = candidates.slice(index + 1).filter((c) => minContextWindow === undefined || (env.modelFacts(c.key)?.contextWindow ?? 0) > minContextWindow);
    const isLast = remaining.length === 0 || state.attempts + 1 >= maxAttempts;
    const targetConfig = findTarget(config, routeId, candidate.provider, candidate.modelId);
    const timeouts = targetTimeouts(config, routeId, targetConfig);

    const pins = state.pinUpstream && isOpenRouter(target) ? env.upstreamPins : undefined;
    const pin = pins?.get(candidate.key);
    if (pin) addNote(env, state, `upstream pinned: ${candidate.key} -> ${pin}`);

    state.attempts += 1;
    const attemptNumber = state.attempts;
    const retried = state.retries.get(candidate.key);
    env.record(state.requestId, state.routeId, "attempt", { attempt: attemptNumber, target: candidate.key, probe: candidate.probe || undefined, retry: retried?.count });
    env.status.onAttempt(state.routeId, candidate, attemptNumber);

    const outcome = await attemptTarget(env, { registry, target, auth, candidate, context, options, routeId, patch: pin ? pinnedPatch(targetConfig, pin) : targetConfig, timeouts, isLast, out }, () => {
      env.status.onCommitted(state.routeId, candidate);
      observer?.onCommitted?.(candidate);
    });

    // What the attempt changes (attempt-consequences.ts, in this order): recorded once, then the stream's own.
    const settled = settleAttempt(env, state, candidate, outcome, policy);
    if (settled.status !== "failed") observer?.onAttemptResult?.(candidate, settled);
    if (settled.status === "committed") {
      if (settled.final === "done") answered(env, state, candidate, settled.message, pins && !pin ? { pins, baseUrl: auth.baseUrl ?? target.baseUrl, apiKey: auth.apiKey } : undefined);
      return { kind: "served", key: candidate.key, final: settled.final, message: settled.message };
    }
    if (settled.status === "aborted") return { kind: "aborted", message: settled.message };

    const { failure } = settled;
    breakPin(env, state, candidate, pins, pin, failure, (text) => addNote(env, state, text));
    observer?.onAttemptResult?.(candidate, settled);
    state.failures.push({ key: candidate.key, kind: failure.kind });
    const retry = retried ?? { count: 0, since: env.now() - outcome.latencyMs };
    const delayMs = state.attempts < maxAttempts
      ? retryDelayMs({ config: targetConfig?.retryBeforeFailover, failure, retriesDone: retry.count, elapsedOnTargetMs: env.now() - retry.since, budgetMs: timeouts.firstTokenMs, random: Math.random() })
      : undefined;
    if (delayMs !== undefined) {
      // A blip on a warm target: try it again after a short backoff instead of cooling it down and moving on.
      state.retries.set(candidate.key, { count: retry.count + 1, since: retry.since });
      addNote(env, state, `retried ${candidate.key} after ${failure.kind} (${delayMs} ms backoff, retry ${retry.count + 1})`);
      env.status.onWaiting(state.routeId, candidate.key, env.now() + delayMs);
      if (!(await env.sleep(delayMs, options?.signal))) return { kind: "aborted" };
      state.tried.delete(candidate.key);
      index -= 1;
      continue;
    }
    restTarget(env, routeId, candidate, failure);
    if (failure.kind === "context_overflow") {
      const window = facts?.contextWindow ?? target.contextWindow;
      const larger = candidates.slice(index + 1).some((c) => (env.modelFacts(c.key)?.contextWindow ?? 0) > window);
      if (!larger || !failure.failover) return { kind: "surface", message: outcome.message ?? routerErrorMessage(target, failure.message, env.now()), failure };
      minContextWindow = window;
      continue;
    }
    if (!failure.failover) return { kind: "surface", message: outcome.message ?? routerErrorMessage(target, failure.message, env.now()), failure };
  }
  return undefined;
}
