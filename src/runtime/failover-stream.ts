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
import { closestKey } from "../config/key-suggestions.ts";
import { redactedMessage } from "./attempt-target.ts";
import type { Failure } from "./classify-failure.ts";
import type { FailureKind } from "./failure-kinds.ts";
import {
  allFailedText,
  type AllFailedContext,
  noCapableTargetText,
  needsAndPreferencesText,
  noMatchingTargetText,
  noTargetText,
  unservableText,
  OVER_BUDGET_ADVICE,
  unhealthyAdvice,
  promptTooLongText,
  skippedReasonText,
  formatClock,
  routerAbortedMessage,
  outOfPiRetry,
  routerErrorMessage,
  sentOnceFailedText,
  waitingText,
} from "./final-error.ts";
import { isRefusal, refusedMessage } from "./refusal.ts";
import { routeSettings } from "./route-settings.ts";
import type { RequestEnvironment } from "./request-environment.ts";
import { addNote, failoversOf, type RequestState } from "./request-state.ts";
import { overBudgetText } from "../routing/soft-fallback.ts";
import { restKey } from "../routing/rest-key.ts";
import { type Decision, type RefusalKind, type SkipReason, type SkippedTarget, targetKey } from "../routing/types.ts";
import { NO_IMAGE_INPUT } from "../routing/constraints.ts";
import { toolResultImagesOnly } from "../routing/features.ts";
import { unitPricesOf, unitsCostUsd, usageUnits } from "../usage-units.ts";
import type { RouteRequest } from "./route-request.ts";
import { promptIdentity } from "./stickiness.ts";
import { tryCandidates } from "./try-candidates.ts";
import { waitForCoolingTarget } from "./cooling-wait.ts";
import { describeWait, earliestQuotaReset, waitUntilReset } from "./wait-for-reset.ts";

/** A route whose every target was left out for one of these can serve no request like this one. */
const CAPABILITY: ReadonlySet<SkipReason> = new Set(["capability"]);
/** ...or because the prompt is longer than the windows of those that have the capabilities. */
const TOO_LONG: ReadonlySet<SkipReason> = new Set(["capability", "context-too-small"]);
/** ...or for the request's own provider filter. */
const PREFERENCE: ReadonlySet<SkipReason> = new Set(["provider-preference", "price"]);
/** ...or some for what it needs and the others for its provider filter (`@reasoning @only=x`). */
const NEEDS_OR_PREFERENCE: ReadonlySet<SkipReason> = new Set([...CAPABILITY, ...PREFERENCE]);
/** Targets that serve no request of this process: not configured to (disabled), no key, or a model pi lacks. */
const INERT: ReadonlySet<SkipReason> = new Set(["disabled", "missing-model", "no-credentials"]);
/** Reasons that waiting does not change: a retry of the same request would be left out the same way. */
const LASTING: ReadonlySet<SkipReason> = new Set([
  ...CAPABILITY,
  ...PREFERENCE,
  "disabled",
  "missing-model",
  "no-credentials",
  "context-too-small",
  "excluded-by-rule",
]);

/**
 * Rests no retry of a client's within seconds could outwait: rejected credentials (30 min), a model the provider does
 * not have (6 h). A route whose every target rests for one of them is as unservable as one without credentials.
 */
const LASTING_REST_KINDS: ReadonlySet<string> = new Set<FailureKind>(["auth", "model_not_found"]);
const RESTING: ReadonlySet<SkipReason> = new Set(["cooldown"]);
/** Reasons whose skip says when the target is back: the request may wait for it (failover.cooldownWaitMs). */
const WAITABLE: ReadonlySet<SkipReason> = new Set(["cooldown", "circuit-open", "quota"]);

/** A target was left out for having no image input that only the request's images asked for (no rule, no @vision). */
const imagesWaitForVision = (skipped: readonly SkippedTarget[]): boolean =>
  skipped.some((s) => s.reason === "capability" && s.detail === NO_IMAGE_INPUT && s.requiredBy === undefined);

/** Rounds of "everything is cooling down: wait for the first to come back" per request. */
export const MAX_WAIT_ROUNDS = 1;

const textOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export type { RequestEnd, RequestObserver, RouteRequest } from "./route-request.ts";

export function createRouterStream(env: RequestEnvironment) {
  return (model: Model<Api>, context: Context, options?: SimpleStreamOptions): AssistantMessageEventStream =>
    streamRoute(env, model, context, options);
}

/** One routed request: `model.id` is the route id. */
export function streamRoute(
  env: RequestEnvironment,
  model: Model<Api>,
  context: Context,
  options?: SimpleStreamOptions,
  request: RouteRequest = {},
): AssistantMessageEventStream {
  const out = createAssistantMessageEventStream();
  serveRequest(env, model, context, options, out, request).catch((error) => {
    // Last line of defence: any bug inside the router still ends the stream with an error event.
    const message = routerErrorMessage(model, `auto-router: internal error: ${textOf(error)}`, env.clock.now());
    try {
      out.push({ type: "error", reason: "error", error: message });
      out.end(message);
    } catch {
      // The stream was already ended; nothing more to do.
    }
  });
  return out;
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
  let refusal: RefusalKind | undefined;
  /** The targets a body sent once (request.sentOnce) could not be resent to after its one attempt failed. */
  let notResent: string[] | undefined;
  const settings = routeSettings(env.routing.config(), model.id);
  const maxAttempts = Math.min(settings.maxAttempts, request.maxAttempts ?? Number.POSITIVE_INFINITY);
  /** The attempt count the request may reach: maxAttempts, and maxAttempts more after a wait for a quota reset. */
  let attemptLimit = maxAttempts;
  const state: RequestState = {
    requestId: randomUUID(),
    routeId: model.id,
    startedAt: env.clock.now(),
    attempts: 0,
    failures: [],
    tried: new Set(),
    prompt: request.prompt === null ? undefined : (request.prompt?.id ?? promptIdentity(context)),
    sticks: request.prompt?.followUp ?? true,
    retries: new Map(),
    retried: 0,
    attempted: new Set(),
    notes: [],
    refusals: [],
    spentUsd: 0,
    revert: settings.revert,
    pinUpstream: settings.pinUpstream,
  };
  observer?.onStart?.(state.requestId);
  // The route whose targets the request uses: a tier's route after `@reasoning` ("route r (the tier route of s)").
  let usedRoute = state.routeId;
  const named = () =>
    usedRoute === state.routeId ? state.routeId : `${usedRoute} (the tier route of ${state.routeId})`;
  /** The latest decision: its skipped targets are named in the final error beside the ones that failed. */
  let lastDecision: Decision | undefined;
  /** The wait for a cooling target this request made, said in the final error when it did not help. */
  let waited: { key: string; ms: number } | undefined;
  /** Set once no vision target can take the prompt's tool-result image: the next decisions need none (the loop). */
  let toolImagesAsNotes = false;
  const decided = (decision: Decision): Decision => {
    lastDecision = decision;
    if (decision.routeId !== usedRoute && env.routing.config().routes[decision.routeId]) {
      usedRoute = decision.routeId;
      observer?.onRoute?.(usedRoute);
    }
    return decision;
  };
  /** The targets a hard budget's reservation refused that `skipped` (or `failed`) does not name already, with why. */
  const refusedBeyond = (skipped: readonly SkippedTarget[], failed: ReadonlySet<string> = new Set()) =>
    state.refusals
      .filter((refused) => !failed.has(refused.key) && !skipped.some((skip) => skip.key === refused.key))
      .map((refused) => `${refused.key}: ${refused.reason}`);
  /** The route's targets the provider preferences left out: only the others were tried (or waited for). */
  const leftOutByPreferences = () =>
    (lastDecision?.skipped ?? []).filter((skip) => PREFERENCE.has(skip.reason)).map(skippedReasonText);
  /**
   * Every target failed and none is available now nor back within failover.cooldownWaitMs: the first back, for an
   * error that promises no retry (pi's, 2 s later, could only meet the targets still resting). Checked
   * anew (a quiet decision), as the latest decision may predate the last failures (failover.maxAttempts used up).
   */
  const backTooLate = (): AllFailedContext["firstBack"] => {
    if (!settings.agentRetry || request.overHttp) return undefined;
    const now = env.clock.now();
    const fresh = env.routing.decide(state.requestId, state.routeId, context, options, now, {
      quiet: true,
      shortcuts: request.shortcuts,
      prompt: state.prompt,
      serves: request.passthrough?.serves,
      toolImagesAsNotes,
    });
    if (fresh.candidates.length > 0) return undefined;
    const first = fresh.skipped
      .filter((s) => WAITABLE.has(s.reason) && s.until !== undefined)
      .sort((a, b) => a.until! - b.until!)[0];
    // pi's retry comes after its first delay (its retry.baseDelayMs) and may then wait failover.cooldownWaitMs: within
    // both it can be served. Else the error says when the first target is back, and asks for no retry.
    if (!first || first.until! - now <= env.clock.piRetryDelayMs + settings.cooldownWaitMs) return undefined;
    return { key: first.key, until: first.until!, now, waitLimitMs: settings.cooldownWaitMs };
  };
  /** Every target failed: the error, and when a target of the route is back (a client's hint for its retry). */
  const failedEveryTarget = () => {
    const routes = env.routing.config().routes;
    const restKeys = (routes[usedRoute]?.targets ?? []).map((target) =>
      restKey(routes, usedRoute, targetKey(target.provider, target.modelId)),
    );
    coolingUntil = env.books.cooldowns.soonestBack(restKeys, env.clock.now());
    // A breaker the failures opened (no cooldown for their kind) is back at its break's end, as the latest decision
    // says: the client's hint too.
    for (const skip of lastDecision?.skipped ?? [])
      if (WAITABLE.has(skip.reason) && skip.until !== undefined && skip.until > env.clock.now())
        coolingUntil = coolingUntil === undefined ? skip.until : Math.min(coolingUntil, skip.until);
    // Every target tried refused (a route that fails over on content_policy): the request ends in the last one's refusal.
    const refusedBy = state.failures.every((failure) => failure.refusal) ? state.failures.at(-1)?.key : undefined;
    const now = env.clock.now();
    const failedKeys = new Set(state.failures.map((failure) => failure.key));
    // "Every target failed" names the route's others too, each with why it was not tried (resting, breaker open, paced,
    // over budget, without what the request needs...), as the refusal without any attempt does; the targets the
    // provider preferences left out are named apart (leftOut).
    const notTried = (lastDecision?.skipped ?? [])
      .filter((skip) => !PREFERENCE.has(skip.reason) && !failedKeys.has(skip.key))
      .map(
        (skip) =>
          `${skippedReasonText(skip)}${skip.until !== undefined && skip.until > now ? `, back at ${formatClock(skip.until, now)}` : ""}`,
      );
    // A target its hard budget's reservation refused at its attempt (the decision had let it through).
    notTried.push(...refusedBeyond(lastDecision?.skipped ?? [], failedKeys));
    // Candidates left when failover.maxAttempts ran out: never tried, so "every target failed" names them as such
    // (and the event log's final line says why they were not).
    if (state.attempts >= attemptLimit && !request.sentOnce) {
      const untried = (lastDecision?.candidates ?? [])
        .map((candidate) => candidate.key)
        .filter((key) => !state.tried.has(key) && !failedKeys.has(key));
      if (untried.length > 0) {
        const why = `failover.maxAttempts ${maxAttempts} used up`;
        notTried.push(...untried.map((key) => `${key}: no attempt left (${why})`));
        addNote(env.report, state, `not tried: ${untried.join(", ")} (${why})`);
      }
    }
    // A body sent once: the targets it could not be resent to are named, not counted as failed.
    notResent = request.sentOnce
      ? (lastDecision?.candidates ?? []).map((candidate) => candidate.key).filter((key) => !failedKeys.has(key))
      : [];
    if (request.sentOnce && notResent.length > 0) {
      // The event log's final line says it too: its failure kinds alone read as every target failed.
      addNote(env.report, state, `not tried: ${notResent.join(", ")} (${request.sentOnce.why})`);
      return failWith(
        sentOnceFailedText(state.failures, notResent, request.sentOnce, settings.agentRetry, request.overHttp),
        "failed",
        refusedBy,
      );
    }
    const allFailed = allFailedText(named(), state.failures, settings.agentRetry, request.overHttp, {
      notTried,
      waited,
      // Only the targets the provider preferences allow were tried: "every target of the route" would be untrue.
      leftOut: leftOutByPreferences(),
      firstBack: backTooLate(),
      backAt: coolingUntil === undefined ? undefined : { until: coolingUntil, now },
    });
    return failWith(allFailed.text, "failed", refusedBy, allFailed.agentRetry);
  };
  let finalRecorded = false;
  /** `refusedBy`: the target whose refusal ended the request, logged as outcome refused (the others see a failure). */
  const recordFinal = (
    outcome: "success" | "failed" | "aborted" | "refused",
    served?: string,
    costUsd?: number,
    refusedBy?: string,
  ) => {
    finalRecorded = true;
    env.report.record(state.requestId, state.routeId, "final", {
      outcome: refusedBy === undefined ? outcome : "refused",
      servedTarget: served,
      plannedTarget: state.plannedTarget,
      attempts: state.attempts,
      failovers: failoversOf(state),
      latencyMs: env.clock.now() - state.startedAt,
      costUsd,
      failureKinds: state.failures.map((f) => f.kind),
      refusedBy,
      budgetSkipped: state.refusals.length ? state.refusals.map((refused) => refused.key) : undefined,
      notes: state.notes.length ? state.notes : undefined,
    });
  };
  /**
   * `served`: the target that answered; `refusedBy`: the target whose refusal ended the request; `costUnknown`: the
   * answer came without a usage record the router could read (a proxied answer's), or with billed units no price
   * applies to.
   */
  const finish = (
    message: AssistantMessage,
    outcome: "success" | "failed" | "aborted" | "refused",
    how: { served?: string; refusedBy?: string; costUnknown?: boolean } = {},
  ) => {
    const { served, refusedBy } = how;
    // What every attempt cost as the budget booked it, failed ones included (their `usage` events say which): an answer
    // whose usage was not read has no cost to log (not $0: it was not free), nor has a request that spent nothing and
    // was not served.
    const costUsd = how.costUnknown || (outcome !== "success" && state.spentUsd === 0) ? undefined : state.spentUsd;
    // Before the final event, which carries the notes: a hold that ended in this request says so there and in explain.
    const revertNote =
      outcome === "aborted"
        ? undefined
        : env.books.revert?.onFinished(
            state.routeId,
            settings.revert,
            state.plannedTarget,
            served,
            state.revertProbe ?? false,
            env.clock.now(),
            new Set(state.failures.map((failure) => failure.key)),
          );
    if (revertNote) addNote(env.report, state, revertNote);
    recordFinal(outcome, served, costUsd, refusedBy);
    env.report.status.onFinished(state.routeId, outcome, served, failoversOf(state));
    env.report.finished?.(state.requestId, state.routeId, outcome);
    observer?.onEnd?.({
      outcome,
      servedKey: served,
      failures: state.failures,
      surfaced,
      coolingUntil,
      refusal,
      ...(notResent?.length ? { notResent } : {}),
    });
    out.end(message);
  };
  /** `agentRetry`: the text is one pi is meant to retry; any other keeps pi's retry check from matching what it quotes. */
  const failWith = (text: string, outcome: "failed" | "refused" = "failed", refusedBy?: string, agentRetry = false) => {
    const shown = agentRetry || request.overHttp ? text : outOfPiRetry(text);
    const message = routerErrorMessage(model, shown, env.clock.now());
    out.push({ type: "error", reason: "error", error: message });
    finish(message, outcome, { refusedBy });
  };
  const abortNow = (message?: AssistantMessage) => {
    const aborted = message?.stopReason === "aborted" ? message : routerAbortedMessage(model, env.clock.now());
    out.push({ type: "error", reason: "aborted", error: aborted });
    finish(aborted, "aborted");
  };

  try {
    const configError = env.routing.configError?.(state.routeId);
    // Every ending before an attempt is the router's refusal (logged refused with attempts 0, as route()'s own
    // refusals are), which the reports count apart from requests whose attempts failed.
    if (configError) return failWith(configError, "refused");
    if (!env.routing.registry())
      return failWith("auto-router: pi's model registry is not available yet (no session started)", "refused");
    if (!env.routing.config().routes[state.routeId]) {
      refusal = "unknown-route";
      // pi takes any id under a provider it knows (`pi --model auto-router/mian` only warns), so a typo ends here.
      const known = Object.keys(env.routing.config().routes);
      const near = closestKey(state.routeId, known);
      return failWith(
        `auto-router: route ${state.routeId} is not in the config (known: ${known.join(", ")})${near ? `; did you mean ${model.provider}/${near}?` : ""}`,
        "refused",
      );
    }
    if (request.note) addNote(env.report, state, request.note);
    let waitedForReset = false;

    for (let round = 0; round <= MAX_WAIT_ROUNDS; round++) {
      if (signal?.aborted) return abortNow();
      // Only the targets the caller's passthrough serves are options (the wildcard proxy's: those advertising the
      // path): the decision is made, logged and shown without the others.
      const decision = decided(
        env.routing.decide(state.requestId, state.routeId, context, options, env.clock.now(), {
          shortcuts: request.shortcuts,
          prompt: state.prompt,
          serves: request.passthrough?.serves,
          toolImagesAsNotes,
        }),
      );
      state.plannedTarget ??= decision.candidates[0]?.key;
      if (decision.refusal) {
        refusal = decision.refusalKind;
        return failWith(decision.refusal, "refused");
      }
      const served = await tryCandidates(
        env,
        state,
        decision,
        context,
        options,
        settings.policy,
        attemptLimit,
        out,
        request,
      );
      if (served?.kind === "served") {
        // The attempt already forwarded its terminal event; only the bookkeeping and the end remain.
        const outcome = served.final === "done" ? "success" : served.final === "aborted" ? "aborted" : "failed";
        const message =
          served.message ??
          routerErrorMessage(model, "auto-router: the target ended without a message", env.clock.now());
        const unitsCost = unitsCostUsd(
          usageUnits(served.message?.usage),
          unitPricesOf(env.routing.config(), served.provider),
        );
        return finish(redactedMessage(message), outcome, {
          served: served.key,
          refusedBy: served.refused ? served.key : undefined,
          costUnknown: served.message === undefined || unitsCost === undefined,
        });
      }
      if (served) {
        if (served.kind === "aborted") return abortNow(served.message);
        // A failure that must not fail over: surface the target's own error (pi compacts on overflow), minus secrets.
        surfaced = served.failure;
        const refusing = isRefusal(served.failure) ? state.failures.at(-1)?.key : undefined;
        const own = refusing
          ? refusedMessage(redactedMessage(served.message), refusing)
          : redactedMessage(served.message);
        // pi compacts and retries after an overflow only when the error comes from the model it called: the route.
        const message =
          served.failure.kind === "context_overflow" ? { ...own, provider: model.provider, model: model.id } : own;
        out.push({ type: "error", reason: "error", error: message });
        return finish(message, "failed", { refusedBy: refusing });
      }
      // Nothing served, and no attempt left: waiting for a target to come back could only end in the same answer.
      // Not so a wait for a quota reset (failover.waitForReset), which the request may still make once: after the
      // reset the targets are fresh, and a route whose every target ran out in this request (maxAttempts as many as
      // its targets) would otherwise end the long agent run the wait is there to carry on.
      const outOfAttempts = state.attempts >= attemptLimit;
      const mayWaitForReset =
        settings.waitForResetMs !== undefined && !waitedForReset && request.maxAttempts === undefined;
      if (outOfAttempts && state.failures.length > 0 && !mayWaitForReset) return failedEveryTarget();
      // Nothing served. Wait for the first cooling target if it is back soon; otherwise explain and stop.
      const refreshed = decided(
        env.routing.decide(state.requestId, state.routeId, context, options, env.clock.now(), {
          quiet: true,
          shortcuts: request.shortcuts,
          prompt: state.prompt,
          serves: request.passthrough?.serves,
          toolImagesAsNotes,
        }),
      );
      if (refreshed.candidates.some((c) => !state.tried.has(c.key)) && !outOfAttempts) {
        // A target not tried yet became available while we were failing over (e.g. its cooldown ran out): go again.
        round -= 1;
        continue;
      }
      const cooling = refreshed.skipped
        .filter((s) => WAITABLE.has(s.reason) && s.until !== undefined)
        .sort((a, b) => a.until! - b.until!)[0];
      const waitMs = cooling ? cooling.until! - env.clock.now() : Infinity;
      if (cooling && !outOfAttempts && round < MAX_WAIT_ROUNDS && waitMs <= settings.cooldownWaitMs) {
        const text = waitingText(
          named(),
          state.failures,
          cooling.key,
          waitMs,
          settings.agentRetry,
          leftOutByPreferences(),
          refreshed.skipped.filter((s) => WAITABLE.has(s.reason)),
        );
        waited = { key: cooling.key, ms: waitMs };
        const back = { ...cooling, until: cooling.until! };
        observer?.onWait?.(back.until);
        if (!(await waitForCoolingTarget(env, state, refreshed.routeId, back, text, signal))) return abortNow();
        state.tried.clear();
        continue;
      }
      const reset =
        settings.waitForResetMs !== undefined && !waitedForReset
          ? earliestQuotaReset({
              routeId: refreshed.routeId,
              routes: env.routing.config().routes,
              candidates: refreshed.candidates.length,
              skipped: refreshed.skipped,
              cooldowns: env.books.cooldowns.active(env.clock.now()),
              maxMs: settings.waitForResetMs,
              now: env.clock.now(),
            })
          : undefined;
      if (reset) {
        waitedForReset = true;
        env.report.record(state.requestId, state.routeId, "wait", {
          reason: "quota-reset",
          target: reset.key,
          until: reset.until,
          waitMs: reset.until - env.clock.now(),
        });
        addNote(
          env.report,
          state,
          `every target out of quota: waiting for the reset of ${reset.key}, ${Math.ceil((reset.until - env.clock.now()) / 1000)} s away`,
        );
        env.report.warn(describeWait(state.routeId, reset, env.clock.now()));
        const tick = {
          now: env.clock.now,
          sleep: env.clock.sleep.bind(env.clock),
          onTick: (key: string, until: number) => env.report.status.onWaiting(state.routeId, key, until),
        };
        observer?.onWait?.(reset.until);
        if (!(await waitUntilReset(tick, reset, signal))) return abortNow();
        state.tried.clear();
        attemptLimit = state.attempts + maxAttempts;
        round -= 1; // the reset wait is its own round; the short cooldown wait stays available after it
        continue;
      }
      // The prompt's only images are a tool's (a screenshot it read) and no vision target can take them now: a target
      // without image input carries on, with pi-ai's note in each image's place, rather than the tool loop ending.
      if (
        !toolImagesAsNotes &&
        !outOfAttempts &&
        imagesWaitForVision(refreshed.skipped) &&
        toolResultImagesOnly(context)
      ) {
        toolImagesAsNotes = true;
        const text = `auto-router: no target of route ${state.routeId} that takes images is available now; the tool result's image goes to a target without image input, as a note in its place`;
        addNote(env.report, state, text.replace(/^auto-router: /, ""));
        env.report.warn(text);
        round -= 1;
        continue;
      }
      if (state.failures.length > 0) return failedEveryTarget();
      if (state.refusals.length > 0 && !cooling && !state.refusals.some((r) => r.spendUnknown)) {
        refusal = "over-budget";
        // Nothing will be back later either: the hard budget refused the request, worded and ended as route() refuses
        // one whose limits are already reached, each other target named with its own reason.
        const refusedKeys = new Set(state.refusals.map((refused) => refused.key));
        const overBudget = [
          ...state.refusals.map((refused) => `${refused.key} (${refused.reason})`),
          ...refreshed.skipped
            .filter((skipped) => skipped.reason === "budget" && !refusedKeys.has(skipped.key))
            .map((skipped) => `${skipped.key} (${skipped.detail})`),
        ];
        const others = refreshed.skipped.filter(
          (skipped) => skipped.reason !== "budget" && !refusedKeys.has(skipped.key),
        );
        return failWith(overBudgetText(named(), overBudget, others), "refused");
      }
      // The team store stopped answering between the decision and the reservation: the re-check knows the spend is
      // unknown now, and the request is told so in the words one decided while the store was down gets.
      if (refreshed.refusalKind === "spend-unknown" && refreshed.refusal && !cooling) {
        refusal = "spend-unknown";
        return failWith(refreshed.refusal, "refused");
      }
      // Every target left out for these reasons (none refused at its reservation: that one was not left out), apart
      // from those that could never serve anything here (disabled, no credentials, a model pi lacks): the built-in
      // routes hold many of those, and they must not turn "no target accepts images" into "none is available now".
      const skippedFor = (reasons: ReadonlySet<SkipReason>) =>
        state.refusals.length === 0 &&
        refreshed.skipped.some((s) => reasons.has(s.reason)) &&
        refreshed.skipped.every((s) => reasons.has(s.reason) || INERT.has(s.reason));
      if (skippedFor(TOO_LONG) && refreshed.skipped.some((s) => s.reason === "context-too-small")) {
        refusal = "no-match";
        return failWith(promptTooLongText(named(), refreshed.skipped), "refused");
      }
      if (skippedFor(CAPABILITY)) {
        refusal = "no-match";
        return failWith(noCapableTargetText(named(), refreshed.skipped), "refused");
      }
      if (skippedFor(PREFERENCE)) {
        refusal = "no-match";
        return failWith(noMatchingTargetText(named(), refreshed.skipped), "refused");
      }
      if (skippedFor(NEEDS_OR_PREFERENCE)) {
        refusal = "no-match";
        return failWith(needsAndPreferencesText(named(), refreshed.skipped), "refused");
      }
      const restsForGood = () => {
        const rests = env.books.cooldowns.active(env.clock.now());
        const routes = env.routing.config().routes;
        return refreshed.skipped.every(
          (s) =>
            s.reason !== "cooldown" || LASTING_REST_KINDS.has(rests[restKey(routes, usedRoute, s.key)]?.kind ?? ""),
        );
      };
      if (skippedFor(LASTING) || (skippedFor(RESTING) && restsForGood())) refusal = "unservable";
      // A target refused at its reservation and skipped by the re-check for the same budget is named once.
      const reasons = [...refreshed.skipped.map(skippedReasonText), ...refusedBeyond(refreshed.skipped)];
      if (refusal === "unservable") return failWith(unservableText(named(), reasons, request.overHttp), "refused");
      coolingUntil = cooling?.until;
      if (state.refusals.length > 0)
        refusal = state.refusals.some((r) => r.spendUnknown) ? "spend-unknown" : "over-budget";
      // An unhealthy mark is no rest to wait for, but it lapses at a known time, and a probe that answers lifts it
      // sooner: the one thing the user can do about it, since no request is sent to the provider meanwhile.
      const unhealthy = refreshed.skipped.filter((s) => s.reason === "unhealthy" && s.until !== undefined);
      const back = [...(cooling ? [cooling] : []), ...unhealthy].sort((a, b) => a.until! - b.until!)[0];
      // No target was called (every one rests, is paced or marked unhealthy): the router turned the request away, as
      // a hard budget does, and the event log says refused, which the reports count apart from failed attempts.
      return failWith(
        noTargetText(
          named(),
          reasons,
          back ? { key: back.key, until: back.until! } : undefined,
          env.clock.now(),
          request.overHttp,
          (refusal === "over-budget" ? OVER_BUDGET_ADVICE : "") +
            (unhealthy.length > 0 ? unhealthyAdvice(request.overHttp === true) : ""),
        ),
        "refused",
      );
    }
    return failedEveryTarget();
  } catch (error) {
    // A bug mid-request: the request still ends with its final event (the event log writes what the request did
    // with it); streamRoute's last line of defence then ends the stream with the error.
    if (!finalRecorded) recordFinal("failed");
    throw error;
  }
}
