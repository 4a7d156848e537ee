// One pass over a decision's candidates: each is tried (or skipped) in order until one commits, a failure must be
// surfaced, the attempts run out or the list ends. Same-target retries and context-overflow skips happen here; a
// target's refusal of replayed encrypted reasoning is tried again within its attempt (reasoning-retry.ts).
import type { AssistantMessage, AssistantMessageEventStream, Context, SimpleStreamOptions } from "@mariozechner/pi-ai";
import { bookedCostUsd } from "../budget/reconcile-usage.ts";
import type { Candidate, Decision } from "../routing/types.ts";
import { unitPricesOf } from "../usage-units.ts";
import type { AttemptOutcome } from "./attempt.ts";
import { attemptTarget } from "./attempt-target.ts";
import { type ReasoningLeftOut, withoutReplayedReasoning } from "./client-history.ts";
import { answered, breakPin, restTarget, settleAttempt } from "./attempt-consequences.ts";
import type { applyFailurePolicy, Failure } from "./classify-failure.ts";
import { failureDetail, routerErrorMessage } from "./final-error.ts";
import type { RequestEnvironment } from "./request-environment.ts";
import { isRefusal } from "./refusal.ts";
import { addNote, refusalNote, type RequestState } from "./request-state.ts";
import type { RouteRequest } from "./route-request.ts";
import { findTarget, targetTimeouts } from "./route-settings.ts";
import { leftOutForRefusedBefore, recordRefusedReasoning, refusedReasoning } from "./reasoning-retry.ts";
import { opensNewWindow, retryDelayMs } from "./retry-same-target.ts";
import { resolveTargetAuth } from "./start-target.ts";
import { isOpenRouter, pinnedPatch } from "./upstream-pin.ts";

export type CandidatesResult =
  | undefined
  | {
      kind: "served";
      key: string;
      /** The target's pi provider (whose `unitPrices` price its units). */
      provider: string;
      billing: Candidate["billing"];
      final: "done" | "error" | "aborted";
      message?: AssistantMessage;
      /** The answer ended with its target's refusal after the commit point (refusal.ts). */
      refused?: boolean;
    }
  | { kind: "surface"; message: AssistantMessage; failure: Failure }
  | { kind: "aborted"; message?: AssistantMessage };

export async function tryCandidates(
  env: RequestEnvironment,
  state: RequestState,
  decision: Decision,
  context: Context,
  options: SimpleStreamOptions | undefined,
  policy: Parameters<typeof applyFailurePolicy>[1],
  maxAttempts: number,
  out: AssistantMessageEventStream,
  request: RouteRequest,
): Promise<CandidatesResult> {
  const { observer, passthrough } = request;
  const registry = env.routing.registry()!;
  const config = env.routing.config();
  const routeId = decision.routeId;
  const reverted =
    state.revert.mode === "cooldown-expiry"
      ? undefined
      : env.books.revert?.order(state.routeId, state.revert, decision.candidates, env.clock.now());
  if (reverted?.probe) state.revertProbe = true;
  if (reverted?.note) addNote(env.report, state, reverted.note);
  const ordered = reverted?.candidates ?? decision.candidates;
  const candidates: Candidate[] = env.books.sticky.order(
    state.routeId,
    state.sticks ? state.prompt : undefined,
    ordered,
  );
  // Said when it changes what the decision put first (once: a later round after a wait finds it tried already),
  // otherwise the serving target looks unexplained in the log.
  if (candidates !== ordered && !state.tried.has(candidates[0]!.key))
    addNote(
      env.report,
      state,
      `sticky: ${candidates[0]!.key} served this prompt's earlier turns (the decision put ${ordered[0]!.key} first)`,
    );
  let minContextWindow: number | undefined;

  for (let index = 0; index < candidates.length; index++) {
    if (options?.signal?.aborted) return { kind: "aborted" };
    if (state.attempts >= maxAttempts) return undefined;
    const candidate = candidates[index]!;
    if (state.tried.has(candidate.key)) continue;
    state.tried.add(candidate.key); // also when skipped below, so a re-check never loops on it
    const facts = env.routing.modelFacts(candidate.key);
    if (minContextWindow !== undefined && (facts?.contextWindow ?? 0) <= minContextWindow) continue;
    const target = registry.find(candidate.provider, candidate.modelId);
    if (!target) continue;
    // Credentials first: a target whose key cannot be resolved (a models.json "!command" that fails) is skipped as
    // "no credentials", not tried and blamed for an unknown failure.
    const auth = await resolveTargetAuth(registry, target);
    if (!auth.ok) {
      env.hooks.onMissingCredentials(candidate);
      // Said in this request too: the decision ranked it (its credentials are only known to fail from now on).
      addNote(env.report, state, refusalNote(candidate.key, "no credentials (its API key could not be resolved)"));
      continue;
    }
    if (candidate.probe && !(await env.hooks.claimProbe(candidate.key))) continue; // another request holds the half-open probe
    const refusal = await env.hooks.reserveAttempt?.(state, candidate);
    if (refusal !== undefined) {
      state.refusals.push({ key: candidate.key, ...refusal });
      // The budget's check is made here, right before the attempt, but it is the plan's: a first choice it refuses
      // was skipped for its budget, not served by a failover (the next one this request starts on is what it planned).
      if (state.plannedTarget === candidate.key && state.attempted.size === 0) state.plannedTarget = undefined;
      env.report.refused?.(state.requestId, state.routeId, candidate.key, refusal.reason);
      addNote(env.report, state, refusalNote(candidate.key, refusal.reason));
      continue;
    }
    let anotherLeft = false;
    for (let next = index + 1; next < candidates.length && !anotherLeft; next++)
      anotherLeft =
        minContextWindow === undefined ||
        (env.routing.modelFacts(candidates[next]!.key)?.contextWindow ?? 0) > minContextWindow;
    const isLast = !anotherLeft || state.attempts + 1 >= maxAttempts;
    const targetConfig = findTarget(config, routeId, candidate.provider, candidate.modelId);
    const timeouts = targetTimeouts(config, routeId, targetConfig);

    const pins = state.pinUpstream && isOpenRouter(target) ? env.books.upstreamPins : undefined;
    const pin = pins?.get(candidate.key);
    if (pin) addNote(env.report, state, `upstream pinned: ${candidate.key} -> ${pin}`);

    state.attempts += 1;
    state.plannedTarget ??= candidate.key;
    // Back on a target this request tried already (a retry, a try after waiting for it): no failover to another one.
    if (state.attempted.has(candidate.key)) state.retried += 1;
    state.attempted.add(candidate.key);
    const attemptNumber = state.attempts;
    const retried = state.retries.get(candidate.key);
    env.report.record(state.requestId, state.routeId, "attempt", {
      attempt: attemptNumber,
      target: candidate.key,
      probe: candidate.probe || undefined,
      retry: retried?.count,
    });
    env.report.status.onAttempt(state.routeId, candidate, attemptNumber);
    observer?.onAttemptStart?.(candidate);

    const patch = pin ? pinnedPatch(targetConfig, pin) : targetConfig;
    const onCommit = () => {
      env.report.status.onCommitted(state.routeId, candidate);
      observer?.onCommitted?.(candidate);
    };
    const through = passthrough?.accepts(target, auth, patch) ? passthrough : undefined;
    const tryTarget = (withoutReasoning: ReasoningLeftOut | undefined): Promise<AttemptOutcome> =>
      through
        ? through.attempt({
            target,
            auth,
            candidate,
            timeouts: { ...timeouts, firstTokenMs: isLast ? undefined : timeouts.firstTokenMs },
            signal: options?.signal,
            onCommit,
            onResponse: (status, headers) => env.hooks.onTargetResponse?.(routeId, candidate, { status, headers }),
            ...(withoutReasoning && { withoutReasoning }),
          })
        : attemptTarget(
            env,
            {
              registry,
              target,
              auth,
              candidate,
              context: withoutReasoning ? withoutReplayedReasoning(context, withoutReasoning) : context,
              options,
              routeId,
              patch,
              timeouts,
              isLast,
              out,
              holdsAnswer: request.holdsAnswer,
              // Said in pi too (the gateway names it in x-auto-router-ignored): the user chose thinking on.
              note: (text) => {
                addNote(env.report, state, text);
                if (!request.overHttp) env.report.warn(`auto-router: ${text}`);
              },
            },
            onCommit,
          );
    const withoutReasoning: ReasoningLeftOut | undefined =
      state.withoutReasoning?.has(candidate.key) === true
        ? "all"
        : leftOutForRefusedBefore(env, state, candidate, request.replayedReasoning, observer);
    let outcome = await tryTarget(withoutReasoning);
    // The reasoning it was sent back was made under another account (e.g. before a failover from it), which this one
    // cannot decrypt: the same attempt tries again at once without it (reasoning-retry.ts).
    if (withoutReasoning !== "all" && refusedReasoning(outcome)) {
      request.replayedReasoning?.refused(candidate);
      recordRefusedReasoning(env, state, candidate, outcome, policy, observer);
      outcome = await tryTarget("all");
    }

    // What the attempt changes (attempt-consequences.ts, in this order): recorded once, then the stream's own.
    const settled = settleAttempt(env, state, candidate, outcome, policy, routeId);
    state.spentUsd += bookedCostUsd({
      message: settled.message,
      subscription: candidate.billing === "subscription",
      pricing: target.cost,
      unitPrices: unitPricesOf(config, candidate.provider),
      estimatedInputTokens: decision.trace.estimatedTokens,
    });
    if (settled.status !== "failed") observer?.onAttemptResult?.(candidate, settled);
    if (settled.status === "committed") {
      if (settled.final === "done")
        answered(
          env,
          state,
          candidate,
          settled.message,
          pins && !pin ? { pins, baseUrl: auth.baseUrl ?? target.baseUrl, apiKey: auth.apiKey } : undefined,
        );
      // A cut-off answer is the user's and is not failed over, but its target rests as one that failed before the
      // commit point would: pi's retry of the request (or the next prompt) goes to another target, not into the same
      // failure again.
      if (settled.final === "error" && !settled.answeredError) restTarget(env, routeId, candidate, settled.failure);
      return {
        kind: "served",
        key: candidate.key,
        provider: candidate.provider,
        billing: candidate.billing,
        final: settled.final,
        message: settled.message,
        refused: settled.final === "error" && isRefusal(settled.failure),
      };
    }
    if (settled.status === "aborted") return { kind: "aborted", message: settled.message };

    const { failure } = settled;
    breakPin(env, state, candidate, pins, pin, failure, (text) => addNote(env.report, state, text));
    observer?.onAttemptResult?.(candidate, settled);
    state.failures.push({
      key: candidate.key,
      kind: failure.kind,
      detail: failureDetail(failure.kind, failure.message, candidate.key),
      ...(isRefusal(failure) && { refusal: true }),
    });
    const retry = retried ?? { count: 0, since: env.clock.now() - outcome.latencyMs };
    const delayMs =
      state.attempts < maxAttempts
        ? retryDelayMs({
            config: targetConfig?.retryBeforeFailover,
            failure,
            retriesDone: retry.count,
            elapsedOnTargetMs: env.clock.now() - retry.since,
            budgetMs: timeouts.firstTokenMs,
            random: Math.random(),
            lastTarget: !anotherLeft,
          })
        : undefined;
    if (delayMs !== undefined) {
      // A blip on a warm target: try it again after a short backoff instead of cooling it down and moving on.
      // After a first-token timeout the retry has a first-token window of its own, counted from now (wait included).
      const since = opensNewWindow(failure) ? env.clock.now() : retry.since;
      state.retries.set(candidate.key, { count: retry.count + 1, since });
      addNote(
        env.report,
        state,
        `retried ${candidate.key} after ${failure.kind} (${delayMs} ms backoff, retry ${retry.count + 1})`,
      );
      env.report.status.onWaiting(state.routeId, candidate.key, env.clock.now() + delayMs);
      if (!(await env.clock.sleep(delayMs, options?.signal))) return { kind: "aborted" };
      state.tried.delete(candidate.key);
      index -= 1;
      continue;
    }
    restTarget(env, routeId, candidate, failure);
    if (failure.kind === "context_overflow") {
      const window = facts?.contextWindow ?? target.contextWindow;
      const larger = candidates
        .slice(index + 1)
        .some((c) => (env.routing.modelFacts(c.key)?.contextWindow ?? 0) > window);
      if (!larger || !failure.failover)
        return {
          kind: "surface",
          message: outcome.message ?? routerErrorMessage(target, failure.message, env.clock.now()),
          failure,
        };
      minContextWindow = window;
      continue;
    }
    if (!failure.failover)
      return {
        kind: "surface",
        message: outcome.message ?? routerErrorMessage(target, failure.message, env.clock.now()),
        failure,
      };
  }
  return undefined;
}
