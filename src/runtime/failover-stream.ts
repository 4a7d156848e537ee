// Executes a decision for one LLM call of an auto-router model: tries candidates in order, fails over before the
// commit point, waits briefly when everything is cooling down, and always ends the stream with exactly one terminal
// event (pi hangs on a stream that never ends).
import {
  createAssistantMessageEventStream,
  type Api,
  type AssistantMessage,
  type AssistantMessageEvent,
  type AssistantMessageEventStream,
  type Context,
  type Model,
  type SimpleStreamOptions,
} from "@mariozechner/pi-ai";
import { randomUUID } from "node:crypto";
import type { Candidate, Decision } from "../routing/types.ts";
import { routeTargetKey } from "../routing/types.ts";
import { runAttempt, type AttemptOutcome } from "./attempt.ts";
import { applyFailurePolicy, classifyFailure, makeFailure, type Failure } from "./classify-failure.ts";
import { allFailedText, noTargetText, routerAbortedMessage, routerErrorMessage, waitingText, type FailedTarget } from "./final-error.ts";
import { findTarget, routeSettings, targetTimeouts } from "./route-settings.ts";
import type { RequestEnvironment } from "./request-environment.ts";
import { resolveTargetAuth, startTarget } from "./start-target.ts";
import { promptIdentity } from "./stickiness.ts";

/** Rounds of "everything is cooling down: wait for the first to come back" per request. */
export const MAX_WAIT_ROUNDS = 1;

const textOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * A target's error text goes to pi's output, RPC events and session files: a provider may echo the key or the
 * Authorization header in it, so it is redacted like everything the router writes. Model output is left alone.
 * In place: pi-ai hands out one message object as every event's `partial`, and pi may serialise those later.
 */
function redactedMessage(env: RequestEnvironment, message: AssistantMessage): AssistantMessage {
  if (message.errorMessage !== undefined) message.errorMessage = env.redact(message.errorMessage);
  return message;
}

/**
 * Forwards one attempt's events with redacted error text. pi-ai sets `errorMessage` on the one message object it hands
 * out as every event's `partial` before it emits the error, and pi may serialise earlier events after that (JSON and
 * RPC output), so the partials are forwarded as one shadow copy of the target's message whose error text is redacted.
 */
function redactingForwarder(env: RequestEnvironment, push: (event: AssistantMessageEvent) => void): (event: AssistantMessageEvent) => void {
  let shadow: AssistantMessage | undefined;
  return (event) => {
    if ("partial" in event && event.partial) {
      shadow = redactedMessage(env, Object.assign(shadow ?? ({} as AssistantMessage), event.partial));
      push({ ...event, partial: shadow } as AssistantMessageEvent);
      return;
    }
    if (event.type === "error") redactedMessage(env, event.error);
    push(event);
  };
}

export function createRouterStream(env: RequestEnvironment) {
  return (model: Model<Api>, context: Context, options?: SimpleStreamOptions): AssistantMessageEventStream => {
    const out = createAssistantMessageEventStream();
    serveRequest(env, model, context, options, out).catch((error) => {
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
  };
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
}

async function serveRequest(
  env: RequestEnvironment,
  model: Model<Api>,
  context: Context,
  options: SimpleStreamOptions | undefined,
  out: AssistantMessageEventStream,
): Promise<void> {
  const signal = options?.signal;
  const state: RequestState = { requestId: randomUUID(), routeId: model.id, startedAt: env.now(), attempts: 0, failures: [], tried: new Set(), prompt: promptIdentity(context) };
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
    });
    env.status.onFinished(state.routeId, outcome, served, Math.max(0, state.attempts - 1));
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

  if (!env.registry()) return failWith("auto-router: pi's model registry is not available yet (no session started)");
  if (!env.config().routes[state.routeId]) {
    return failWith(`auto-router: route ${state.routeId} is not in the config (known: ${Object.keys(env.config().routes).join(", ")})`);
  }
  const settings = routeSettings(env.config(), state.routeId);

  for (let round = 0; round <= MAX_WAIT_ROUNDS; round++) {
    if (signal?.aborted) return abortNow();
    const decision = env.decide(state.requestId, state.routeId, context, options, env.now());
    state.plannedTarget ??= decision.candidates[0]?.key;
    if (decision.refusal) return failWith(decision.refusal, "refused");
    const served = await tryCandidates(env, state, decision, context, options, settings.policy, settings.maxAttempts, out);
    if (served?.kind === "served") {
      // The attempt already forwarded its terminal event; only the bookkeeping and the end remain.
      const outcome = served.final === "done" ? "success" : served.final === "aborted" ? "aborted" : "failed";
      const message = served.message ?? routerErrorMessage(model, "auto-router: the target ended without a message", env.now());
      return finish(redactedMessage(env, message), outcome, served.key);
    }
    if (served) {
      if (served.kind === "aborted") return abortNow(served.message);
      // A failure that must not fail over: surface the target's own error (pi compacts on overflow), minus secrets.
      const message = redactedMessage(env, served.message);
      out.push({ type: "error", reason: "error", error: message });
      return finish(message, "failed");
    }
    // Nothing served. Wait for the first cooling target if it is back soon; otherwise explain and stop.
    const refreshed = env.decide(state.requestId, state.routeId, context, options, env.now(), { quiet: true });
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
    if (state.failures.length > 0) {
      return failWith(allFailedText(state.routeId, state.failures, settings.agentRetry).text);
    }
    const reasons = refreshed.skipped.map((s) => `${s.key}: ${s.detail}`);
    return failWith(noTargetText(state.routeId, reasons, cooling ? { key: cooling.key, until: cooling.until! } : undefined, env.now()));
  }
  return failWith(allFailedText(state.routeId, state.failures, settings.agentRetry).text);
}

type CandidatesResult =
  | undefined
  | { kind: "served"; key: string; final: "done" | "error" | "aborted"; message?: AssistantMessage }
  | { kind: "surface"; message: AssistantMessage }
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
): Promise<CandidatesResult> {
  const registry = env.registry()!;
  const config = env.config();
  const routeId = decision.routeId;
  const candidates: Candidate[] = env.sticky.order(state.routeId, state.prompt, decision.candidates);
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
    if (candidate.probe && !env.claimProbe(candidate.key)) continue; // another request holds the half-open probe
    const remaining = candidates.slice(index + 1).filter((c) => minContextWindow === undefined || (env.modelFacts(c.key)?.contextWindow ?? 0) > minContextWindow);
    const isLast = remaining.length === 0 || state.attempts + 1 >= maxAttempts;
    const timeouts = targetTimeouts(config, routeId, findTarget(config, routeId, candidate.provider, candidate.modelId));

    state.attempts += 1;
    const attemptNumber = state.attempts;
    env.record(state.requestId, state.routeId, "attempt", { attempt: attemptNumber, target: candidate.key, probe: candidate.probe || undefined });
    env.status.onAttempt(state.routeId, candidate, attemptNumber);

    const controller = new AbortController();
    const userSignal = options?.signal;
    const relayAbort = () => controller.abort(userSignal?.reason);
    userSignal?.addEventListener("abort", relayAbort, { once: true });
    let outcome: AttemptOutcome;
    try {
      const userOnResponse = options?.onResponse;
      const targetOptions: SimpleStreamOptions | undefined = env.onTargetResponse
        ? {
            ...options,
            onResponse: async (response, responseModel) => {
              env.onTargetResponse!(routeId, candidate, response);
              await userOnResponse?.(response, responseModel);
            },
          }
        : options;
      const started = await startTarget({ registry, model: target, auth, context, options: targetOptions, signal: controller.signal, requestTimeoutMs: timeouts.requestMs || undefined, stream: env.stream });
      if (typeof started === "string") {
        outcome = { status: "failed", failure: classifyFailure({ stopReason: "error", errorMessage: started }, env.now()), latencyMs: 0 };
      } else {
        outcome = await runAttempt({
          stream: started,
          push: redactingForwarder(env, (event) => out.push(event)),
          controller,
          userSignal,
          timeouts: { firstTokenMs: isLast ? undefined : timeouts.firstTokenMs, stallMs: timeouts.stallMs },
          contextWindow: target.contextWindow,
          now: env.now,
          label: candidate.key,
          onCommit: () => env.status.onCommitted(state.routeId, candidate),
        });
      }
    } catch (error) {
      outcome = { status: "failed", failure: makeFailure("unknown", `auto-router: ${candidate.key}: ${textOf(error)}`), latencyMs: 0 };
    } finally {
      userSignal?.removeEventListener("abort", relayAbort);
    }

    if (outcome.status === "committed") {
      env.onAttemptResult(state, candidate, outcome);
      if (outcome.final === "done") env.sticky.remember(state.routeId, state.prompt, candidate.key);
      return { kind: "served", key: candidate.key, final: outcome.final, message: outcome.message };
    }
    if (outcome.status === "aborted") {
      env.onAttemptResult(state, candidate, outcome);
      return { kind: "aborted", message: outcome.message };
    }

    const failure: Failure = applyFailurePolicy(outcome.failure, policy);
    env.onAttemptResult(state, candidate, { ...outcome, failure });
    state.failures.push({ key: candidate.key, kind: failure.kind });
    if (failure.cooldownMs && failure.cooldownMs > 0) {
      env.cooldowns.set(routeTargetKey(routeId, candidate.key), { until: env.now() + failure.cooldownMs, kind: failure.kind, message: env.redact(failure.message) }, env.now());
    }
    if (failure.kind === "auth") env.warn(`auto-router: ${candidate.key} rejected its credentials; it rests for ${Math.round((failure.cooldownMs ?? 0) / 60000)} min. Check /login or the API key.`);
    if (failure.kind === "context_overflow") {
      const window = facts?.contextWindow ?? target.contextWindow;
      const larger = candidates.slice(index + 1).some((c) => (env.modelFacts(c.key)?.contextWindow ?? 0) > window);
      if (!larger || !failure.failover) return { kind: "surface", message: outcome.message ?? env.errorMessageFor(target, failure.message) };
      minContextWindow = window;
      continue;
    }
    if (!failure.failover) return { kind: "surface", message: outcome.message ?? env.errorMessageFor(target, failure.message) };
  }
  return undefined;
}
