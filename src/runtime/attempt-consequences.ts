// Everything one attempt's result changes, in one place, whoever ran the attempt (pi-ai's stream or a gateway
// passthrough, src/gateway/). A reader follows it from the failover loop (try-candidates.ts) in order:
//   1. settleAttempt: a failure (classified once, by the attempt) gets the route's failure policy; then the result is
//      recorded once through env.hooks.onAttemptResult (RouterRuntime: recordAttemptResult below): latency, the `result`
//      event, each plugin's onAttemptResult (breaker, health, budget, ratings), the last decision.
//   2. answered: after an answer the prompt sticks to its target, and an unpinned OpenRouter target's upstream is
//      looked up and pinned for the session.
//   3. breakPin: a pinned target that failed loses its pin (a note and a `pin` event); the next answer pins again.
//   4. restTarget: when the request moves on from a failed target (not for a same-target retry), or a target cut its
//      answer off, the target rests for the failure's cooldown on this route (a failure of the target itself, such as
//      its account's rate limit or quota: on every route naming it); rejected credentials get one warning.
import type { RouterConfig } from "../config/schema.ts";
import { unitPricesOf } from "../usage-units.ts";
import type { AssistantMessage } from "@mariozechner/pi-ai";
import { type Candidate, targetKey } from "../routing/types.ts";
import { restKey, restSteers } from "../routing/rest-key.ts";
import { redactText } from "../state/redact.ts";
import type { AttemptOutcome } from "./attempt.ts";
import { applyFailurePolicy, type Failure } from "./classify-failure.ts";
import type {
  AttemptContext,
  AttemptHooks,
  RequestBooks,
  RequestClock,
  RequestReport,
  RequestRouting,
} from "./request-environment.ts";
import { routeSettings } from "./route-settings.ts";
import { pinAfterAnswer, type UpstreamPins } from "./upstream-pin.ts";
import { resultEventData } from "./decision-events.ts";
import type { LastDecisions } from "./last-decisions.ts";
import type { LatencyBook } from "./latency-book.ts";
import { pluginFailure, type RouterPlugin } from "./plugin.ts";

type Policy = Parameters<typeof applyFailurePolicy>[1];

/** Applies the route's policy to a failure and records the attempt's result; returns the outcome as recorded. */
export function settleAttempt<O extends AttemptOutcome>(
  env: { hooks: Pick<AttemptHooks, "onAttemptResult">; routing: Pick<RequestRouting, "config"> },
  request: AttemptContext,
  candidate: Candidate,
  outcome: O,
  policy: Policy,
  /** The route the target rests on (the decision's). */
  routeId: string,
): O {
  // A failure before the commit point, or one that cut an answer off (its target rests too, see try-candidates.ts).
  const settled =
    "failure" in outcome
      ? {
          ...outcome,
          failure: restingHere(
            env.routing.config(),
            routeId,
            candidate.key,
            applyFailurePolicy(outcome.failure, policy),
          ),
        }
      : outcome;
  env.hooks.onAttemptResult(request, candidate, settled);
  return settled;
}

/** What recording an attempt's result writes to (the runtime's books and its plugins). */
export interface AttemptBooks {
  latency: LatencyBook;
  lastDecisions: LastDecisions;
  plugins: readonly RouterPlugin[];
  record: RequestReport["record"];
  warn(text: string): void;
  now(): number;
  /** The routes file in use: its `providers.<id>.unitPrices` price an answer's units in its `result` event. */
  config(): RouterConfig;
}

/** The bookkeeping of one attempt's result: latency of an answer, the `result` event, the plugins, the last decision. */
export function recordAttemptResult(
  books: AttemptBooks,
  request: AttemptContext,
  candidate: Candidate,
  outcome: AttemptOutcome,
): void {
  const now = books.now();
  const data = resultEventData(request.attempts, candidate, outcome, unitPricesOf(books.config(), candidate.provider));
  const usage = outcome.message?.usage;
  if (outcome.status === "committed" && outcome.final === "done" && outcome.ttftMs !== undefined) {
    const generationMs = outcome.latencyMs - outcome.ttftMs;
    const tokensPerSecond = generationMs > 0 && usage?.output ? (usage.output * 1000) / generationMs : undefined;
    books.latency.record(candidate.key, outcome.ttftMs, tokensPerSecond, now);
  }
  books.record(request.requestId, request.routeId, "result", data);
  // One observation for every plugin (they read it, none keeps or changes it).
  const observation = {
    requestId: request.requestId,
    routeId: request.routeId,
    attempt: request.attempts,
    candidate,
    outcome,
    estimatedInputTokens: books.lastDecisions.estimatedTokens(request),
    now,
  };
  for (const plugin of books.plugins) {
    try {
      plugin.onAttemptResult?.(observation);
    } catch (error) {
      books.warn(pluginFailure(plugin.name, error, `it did not record ${candidate.key}'s attempt`));
    }
  }
  books.lastDecisions.attempted(request, candidate, outcome, data.outcome);
}

/** Where an answer came from, for pinning an OpenRouter upstream (absent when the target is not pinned by upstream). */
export interface UpstreamPinning {
  pins: UpstreamPins;
  baseUrl: string;
  apiKey: string | undefined;
}

/** A finished answer: the prompt's next turns go to the same target; an unpinned OpenRouter target gets pinned. */
export function answered(
  env: {
    books: Pick<RequestBooks, "sticky">;
    report: Pick<RequestReport, "record">;
    clock: Pick<RequestClock, "sleep">;
  },
  request: AttemptContext & { prompt: string | undefined },
  candidate: Candidate,
  message: AssistantMessage | undefined,
  pinning: UpstreamPinning | undefined,
): void {
  env.books.sticky.remember(request.routeId, request.prompt, candidate.key);
  if (!pinning) return;
  const pinned = (upstream: string) =>
    env.report.record(request.requestId, request.routeId, "pin", { action: "pinned", target: candidate.key, upstream });
  pinAfterAnswer(
    { pins: pinning.pins, sleep: (ms) => env.clock.sleep(ms), pinned },
    candidate.key,
    pinning.baseUrl,
    pinning.apiKey,
    message?.responseId,
  );
}

/** A failure of a target pinned to `upstream`: the pin breaks; `note` says so in the request's explanation. */
export function breakPin(
  env: { report: Pick<RequestReport, "record"> },
  request: AttemptContext,
  candidate: Candidate,
  pins: UpstreamPins | undefined,
  upstream: string | undefined,
  failure: Failure,
  note: (text: string) => void,
): void {
  if (!upstream || !pins?.drop(candidate.key)) return;
  note(
    `pin break: ${candidate.key} was pinned to ${upstream}, which failed (${failure.kind}); the next answer pins again`,
  );
  env.report.record(request.requestId, request.routeId, "pin", {
    action: "broken",
    target: candidate.key,
    upstream,
    reason: failure.kind,
  });
}

/**
 * The target rests for the failure's cooldown (on this route, or where a request without a model keeps it: rest-key.ts;
 * see restsOf for the other routes naming it); rejected credentials also get one warning.
 */
export function restTarget(
  env: {
    books: Pick<RequestBooks, "cooldowns">;
    routing: Pick<RequestRouting, "config">;
    clock: Pick<RequestClock, "now">;
    report: Pick<RequestReport, "warn">;
  },
  routeId: string,
  candidate: Candidate,
  failure: Failure,
): void {
  const now = env.clock.now();
  const resetKnown = failure.kind === "quota_exhausted" && failure.retryAfterMs !== undefined ? true : undefined;
  const message = redactText(failure.message);
  env.books.cooldowns.setEach(
    restsOf(env.routing.config(), routeId, candidate.key, failure).map(
      ([key, ms]) => [key, { until: now + ms, kind: failure.kind, message, resetKnown }] as const,
    ),
    now,
  );
  if (failure.kind === "auth")
    env.report.warn(
      `auto-router: ${candidate.key} rejected its credentials or access (${providerWords(failure)}); it rests for ${Math.round((failure.cooldownMs ?? 0) / 60000)} min. Check /login or the API key.`,
    );
}

/**
 * Failures that are facts about the target itself (its account's quota, rate limit or credentials, its model's
 * capacity or existence), not about this request or this route's timeouts: the target rests on every route naming it,
 * so another route's next request does not ask it again.
 */
const TARGET_WIDE_KINDS: ReadonlySet<Failure["kind"]> = new Set([
  "quota_exhausted",
  "auth",
  "rate_limit",
  "overloaded",
  "model_not_found",
]);

/**
 * The failure without its cooldown where resting its target would steer nothing: a failure of its own (a server error,
 * a network failure, a timeout, an empty answer, an unknown one) on a route with no other target to send its next
 * requests to (restSteers), unless the provider named its retry time (its own word, not the kind's guess). So the
 * result event logs no cooldown, the gateway names no Retry-After, and the target does not rest.
 */
function restingHere(config: RouterConfig, routeId: string, key: Candidate["key"], failure: Failure): Failure {
  if (
    failure.cooldownMs === undefined ||
    TARGET_WIDE_KINDS.has(failure.kind) ||
    failure.retryAfterMs !== undefined ||
    restSteers(config.routes, routeId, key)
  )
    return failure;
  const { cooldownMs: _, ...rest } = failure;
  return rest;
}

/**
 * Where a failed target rests and for how long: on this route for the failure's cooldown (its policy applied); for a
 * target-wide failure also on every other route naming it, each for the cooldown its own `failover.kinds` policy gives
 * (the provider's retry hint still wins when longer). A server error, a network failure, a timeout, an empty answer or
 * an unknown failure rests it on this route only (where it rests at all: restingHere).
 */
function restsOf(
  config: RouterConfig,
  routeId: string,
  key: Candidate["key"],
  failure: Failure,
): Array<readonly [string, number]> {
  const routes = config.routes;
  const rests = new Map<string, number>();
  const here = restKey(routes, routeId, key);
  if (failure.cooldownMs && failure.cooldownMs > 0) rests.set(here, failure.cooldownMs);
  if (!TARGET_WIDE_KINDS.has(failure.kind) || !routes) return [...rests];
  const asked: Failure = { ...failure, cooldownMs: failure.targetCooldownMs ?? failure.cooldownMs };
  for (const [id, route] of Object.entries(routes)) {
    if (id === routeId || !route.targets.some((target) => targetKey(target.provider, target.modelId) === key)) continue;
    const restKeyThere = restKey(routes, id, key);
    if (restKeyThere === here) continue;
    const ms = applyFailurePolicy(asked, routeSettings(config, id).policy).cooldownMs;
    if (ms && ms > 0 && ms > (rests.get(restKeyThere) ?? 0)) rests.set(restKeyThere, ms);
  }
  return [...rests];
}

/** The provider's own words for a refusal, short and redacted: "invalid x-api-key", "User location is not supported". */
const WARNING_WORDS_MAX_CHARS = 160;
function providerWords(failure: Failure): string {
  const words = redactText((failure.providerMessage ?? failure.message).trim());
  return words.length > WARNING_WORDS_MAX_CHARS ? `${words.slice(0, WARNING_WORDS_MAX_CHARS - 1)}…` : words;
}
