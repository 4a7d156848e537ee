// The error texts the router writes itself when it cannot serve a request.
//
// pi re-runs a whole prompt (2 s / 4 s / 8 s backoff) when the final error text matches its retry regex
// (pi-extension-api.md §6). The router CHOOSES that through these words, deliberately:
// - every tried target failed with a transient kind (rate limit, overload, server, network, timeout) and
//   `failover.agentRetry` is not false: the text names those failures in words pi's regex matches, so pi backs off and
//   runs the route again (by then the router's own cooldown wait can serve it);
// - anything else (nothing configured, credentials, quota, budget, all targets cooling down for longer than the
//   wait): the text avoids every word of that regex, so pi stops at once and the user reads why.
// Labels below are neutral on purpose: "throttled" and "busy" instead of the words pi matches.
import type { Api, AssistantMessage, Model } from "@mariozechner/pi-ai";
import { cooldownKindOf } from "../routing/assess-targets.ts";
import { isShortcutRequirement } from "../routing/constraints.ts";
import { everyTargetOf, isDirectModel } from "../routing/direct-model.ts";
import type { FailureKind } from "./classify-failure.ts";
import { waitSeconds } from "./wait-for-reset.ts";
import { zeroUsage } from "./zero-usage.ts";
import { plural } from "../analytics/text-format.ts";
import { redactText } from "../state/redact.ts";

export const TRANSIENT_KINDS: ReadonlySet<FailureKind> = new Set([
  "rate_limit",
  "overloaded",
  "server",
  "network",
  "timeout",
]);

const NEUTRAL_LABEL: Record<FailureKind, string> = {
  rate_limit: "throttled",
  overloaded: "busy",
  server: "provider fault",
  network: "unreachable",
  timeout: "no answer in time",
  quota_exhausted: "quota used up",
  auth: "credentials rejected",
  model_not_found: "model unknown to the provider",
  context_overflow: "prompt too long for it",
  invalid_request: "request rejected",
  content_policy: "blocked by content policy",
  empty_response: "empty answer",
  malformed_output: "malformed tool call or JSON",
  aborted: "cancelled",
  unknown: "failed",
};

/** How much of an unknown failure's message the every-target-failed text quotes. */
const DETAIL_CHARACTERS = 160;

/**
 * FailedTarget.detail of a failure: an unknown one's message on one line, redacted and cut short, without the target's
 * key it may start with (the text names the target already); else none.
 */
export function failureDetail(kind: FailureKind, message: string, key: string): string | undefined {
  if (kind !== "unknown") return undefined;
  const named = message.startsWith(`${key}: `) ? message.slice(key.length + 2) : message;
  const line = redactText(named).replace(/\s+/g, " ").trim();
  if (!line) return undefined;
  return line.length > DETAIL_CHARACTERS ? `${line.slice(0, DETAIL_CHARACTERS - 1)}…` : line;
}

/** The words pi's retry regex matches, used only when the router wants pi to retry. */
const RETRY_WORDS: Partial<Record<FailureKind, string>> = {
  rate_limit: "rate limit",
  overloaded: "overloaded",
  server: "server error",
  network: "network error",
  timeout: "timeout",
};

export interface FailedTarget {
  key: string;
  kind: FailureKind;
  /**
   * A failure of no known kind: the start of its (redacted) message, since "failed" alone tells a client nothing (pi's
   * explain and the gateway's health endpoint have it whole).
   */
  detail?: string;
  /** The target refused to answer (refusal.ts): the request's final event says so when every target tried did. */
  refusal?: true;
}

/** Where an operator looks next: pi's commands, or the gateway's health endpoint for an HTTP client. */
const seeAlso = (command: string, overHttp: boolean) =>
  overHttp ? "GET /health/providers shows each target's state" : `See /auto-router ${command}`;

/**
 * One part per target and failure, in order: a target that failed the same way twice (tried again after a wait for
 * it to come back) is named once, with the count.
 */
function failureParts(failures: FailedTarget[], words: (kind: FailureKind) => string): string {
  const counts = new Map<string, number>();
  for (const failure of failures) {
    const part = `${failure.key}: ${words(failure.kind)}${failure.detail ? ` (${failure.detail})` : ""}`;
    counts.set(part, (counts.get(part) ?? 0) + 1);
  }
  return [...counts].map(([part, count]) => (count > 1 ? `${part} (${plural(count, "attempt")})` : part)).join("; ");
}

/** pi runs the route again when every failure was transient and the route lets it (the text then says so). */
const retriesByPi = (failures: FailedTarget[], allowAgentRetry: boolean): boolean =>
  allowAgentRetry && failures.length > 0 && failures.every((f) => TRANSIENT_KINDS.has(f.kind));

/** The words for a failure: the ones pi's retry regex matches when pi is to retry, else the neutral label. */
const failureWords =
  (agentRetry: boolean) =>
  (kind: FailureKind): string =>
    (agentRetry ? RETRY_WORDS[kind] : undefined) ?? NEUTRAL_LABEL[kind];

export interface AllFailedContext {
  /** The route's targets not tried in this request, each with why (skippedReasonText: resting, breaker open, paced). */
  notTried?: string[];
  /** The request waited this long for this target to come back, and it failed again. */
  waited?: { key: string; ms: number };
  /**
   * The route's targets the provider preferences left out (the request's @only=, X-Provider, or the route's own), each
   * with why (skippedReasonText): only the others were tried, so "every target failed" would be untrue.
   */
  leftOut?: string[];
  /**
   * No target of the route is available now and the first back is further off than pi's first retry (2 s) plus
   * `failover.cooldownWaitMs`: that retry would only meet the targets still resting, so the text asks for none and says
   * when the first is back.
   */
  firstBack?: { key: string; until: number; now: number; waitLimitMs: number };
  /** Over HTTP: when the first of the route's targets is back from its rest (the answer's Retry-After). */
  backAt?: { until: number; now: number };
}

/**
 * What the request's provider preferences left out of the route (AllFailedContext.leftOut), in the all-failed error's
 * and the waiting notice's words: `allowed` follows "every target of route X", `leftOut` names the others.
 */
function preferenceWords(leftOut: string[] | undefined): { allowed: string; leftOut: string } {
  if (!leftOut?.length) return { allowed: "", leftOut: "" };
  return {
    allowed: " the provider preferences allow",
    // The names and prices quoted here must not make pi retry a route whose failures did not ask for it.
    leftOut: `; the provider preferences left out the route's other targets (${outOfPiRetry(leftOut.join("; "))})`,
  };
}

/** When a client's retry may succeed: later, or once the first target is back from its rest (its Retry-After). */
const retryWords = (backAt: AllFailedContext["backAt"]): string =>
  backAt && backAt.until > backAt.now
    ? `retrying may succeed once the first target is back, at ${formatClock(backAt.until, backAt.now)}`
    : "retrying later may succeed";

export function allFailedText(
  routeId: string,
  failures: FailedTarget[],
  allowAgentRetry: boolean,
  overHttp = false,
  context: AllFailedContext = {},
): { text: string; agentRetry: boolean } {
  const agentRetry = retriesByPi(failures, allowAgentRetry) && context.firstBack === undefined;
  const others = context.notTried?.length ? `; not tried: ${context.notTried.join("; ")}` : "";
  const waited = context.waited ? ` after waiting ${waitSeconds(context.waited.ms)}s for ${context.waited.key}` : "";
  const { allowed, leftOut } = preferenceWords(context.leftOut);
  if (agentRetry) {
    const parts = failureParts(failures, failureWords(agentRetry));
    return {
      text: `auto-router: ${everyTargetOf(routeId)}${allowed} failed (${parts}${others})${waited}${leftOut}${overHttp ? `; ${retryWords(context.backAt)}. ${seeAlso("", true)}` : "; pi may retry the route"}`,
      agentRetry,
    };
  }
  const parts = failureParts(failures, failureWords(agentRetry));
  const back = context.firstBack;
  if (back && failures.length > 0 && failures.every((f) => TRANSIENT_KINDS.has(f.kind))) {
    // Transient failures, but nothing is back within the wait a retry could make: when, instead of a retry that fails.
    const at = `${back.key} at ${formatClock(back.until, back.now)}`;
    return {
      text: `auto-router: ${everyTargetOf(routeId)}${allowed} failed (${parts}${others})${waited}${leftOut}; the first back is ${at}, later than failover.cooldownWaitMs (${waitSeconds(back.waitLimitMs)}s) lets a request wait: sent again before then, it finds every target still resting. ${seeAlso(`explain ${routeId}`, overHttp)}`,
      agentRetry,
    };
  }
  return {
    text: `auto-router: ${isDirectModel(routeId) ? `model ${routeId}${allowed} could not` : `no target of route ${routeId}${allowed} could`} serve this request (${parts}${others})${waited}${leftOut}. ${seeAlso(`explain ${routeId}`, overHttp)}`,
    agentRetry,
  };
}

/**
 * The one attempt of a request whose body is sent once (a streamed upload) failed: the route's other targets were
 * never tried, so they are named as not resent to, not as failed ("every target failed" would be untrue).
 */
export function sentOnceFailedText(
  failures: FailedTarget[],
  notResent: string[],
  sentOnce: { what: string; why: string },
  allowAgentRetry: boolean,
  overHttp = false,
): string {
  const agentRetry = retriesByPi(failures, allowAgentRetry);
  const words = failureWords(agentRetry);
  const failed = [...new Set(failures.map((failure) => `${failure.key} failed (${words(failure.kind)})`))].join(
    " and ",
  );
  const notSent = `${failed} and ${sentOnce.what} could not be resent to ${notResent.join(", ")} (${sentOnce.why})`;
  const transient = failures.length > 0 && failures.every((failure) => TRANSIENT_KINDS.has(failure.kind));
  if (!transient) return `auto-router: ${notSent}. ${seeAlso("list", overHttp)}`;
  return `auto-router: ${notSent}; retrying may succeed${overHttp ? `. ${seeAlso("", true)}` : agentRetry ? "; pi may retry the route" : ""}`;
}

export function formatClock(epochMs: number, now: number): string {
  const seconds = Math.max(0, Math.ceil((epochMs - now) / 1000));
  const at = new Date(epochMs).toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const inText =
    seconds < 120 ? `${seconds}s` : seconds < 7200 ? `${Math.round(seconds / 60)}m` : `${Math.round(seconds / 3600)}h`;
  return `${at} (in ${inText})`;
}

/**
 * Why a target was skipped, for the final error: a cooldown in the neutral label of the failure that started it, not
 * the provider's text kept with it ("429 Rate limit reached ..." would make pi retry a route nothing can serve yet).
 */
export function skippedReasonText(skipped: { key: string; reason: string; detail: string }): string {
  return `${skipped.key}: ${skippedDetailText(skipped)}`;
}

/** The words of skippedReasonText without the target: a cooldown as "resting (quota used up)", anything else as is. */
export function skippedDetailText(skipped: { reason: string; detail: string }): string {
  if (skipped.reason !== "cooldown") return skipped.detail;
  const kind = cooldownKindOf(skipped.detail) as FailureKind;
  return `resting (${NEUTRAL_LABEL[kind] ?? "failed"})`;
}

/** Why a skipped target rests, after "is resting": a cooldown's neutral label ("throttled"), anything else as is. */
const restWords = (skipped: { reason: string; detail: string }): string =>
  skipped.reason === "cooldown"
    ? (NEUTRAL_LABEL[cooldownKindOf(skipped.detail) as FailureKind] ?? "failed")
    : skipped.detail;

/** What a request refused while a provider is marked unhealthy tells the user to do: a probe that answers lifts it. */
export const unhealthyAdvice = (overHttp: boolean): string =>
  ` A provider marked unhealthy is routed to again when its mark lapses, or at once when ${overHttp ? "GET /health/providers?probe=1" : "/auto-router health --probe"} gets an answer from it.`;

/** What a request refused by a hard budget's reservation tells the user to do (as the all-over-budget refusal does). */
export const OVER_BUDGET_ADVICE = ' Raise the budget or set budgets.policy to "soft".';

export function noTargetText(
  routeId: string,
  reasons: string[],
  firstAvailable?: { key: string; until: number },
  now = 0,
  overHttp = false,
  advice = "",
): string {
  // A time already past (a half-open breaker whose one probe is still out): the target is free again any moment.
  const when = !firstAvailable
    ? ""
    : firstAvailable.until > now
      ? ` First available: ${firstAvailable.key} at ${formatClock(firstAvailable.until, now)}.`
      : ` First available: ${firstAvailable.key}, any moment now.`;
  const why = reasons.length ? ` (${reasons.join("; ")})` : "";
  const unavailable = isDirectModel(routeId)
    ? `model ${routeId} is not available now`
    : `no target of route ${routeId} is available now`;
  return `auto-router: ${unavailable}${why}.${when}${advice} ${seeAlso("list", overHttp)}`;
}

/**
 * Every target of the route is left out for a reason that does not pass with time (no credentials, a model pi does not
 * know, disabled, resting for rejected credentials): unlike noTargetText, nothing here says a wait could help.
 */
export function unservableText(routeId: string, reasons: string[], overHttp = false): string {
  const why = reasons.length ? ` (${reasons.join("; ")})` : "";
  const cannot = isDirectModel(routeId) ? `model ${routeId} cannot` : `no target of route ${routeId} can`;
  return `auto-router: ${cannot} serve this request${why}. Waiting will not change this: fix the targets named (their credentials, provider and model ids), or choose another route. ${seeAlso("list", overHttp)}`;
}

/**
 * One line for a non-interactive run while the router waits for a cooling target (the TUI shows it in the status
 * line): what it waits for, how long, and why nothing else could serve. `leftOut`: the route's targets the provider
 * preferences left out, as the final error names them (AllFailedContext.leftOut).
 */
export function waitingText(
  routeId: string,
  failures: FailedTarget[],
  key: string,
  waitMs: number,
  allowAgentRetry: boolean,
  leftOut?: string[],
  resting: ReadonlyArray<{ key: string; reason: string; detail: string }> = [],
): string {
  const seconds = waitSeconds(waitMs);
  const preferences = preferenceWords(leftOut);
  // Resting since an earlier request (a cut-off answer pi's retry sent again): why, or a run without a status line
  // (pi -p) would show a wait with no cause, the failure that started it having been said in no line of its own.
  const restingWhy = resting.length > 0 ? ` (${resting.map((s) => `${s.key}: ${restWords(s)}`).join("; ")})` : "";
  // The same words for a failure as the final error would use, so one failure has one name in both lines.
  const why =
    failures.length > 0
      ? `${everyTargetOf(routeId)}${preferences.allowed} failed (${failureParts(failures, failureWords(retriesByPi(failures, allowAgentRetry)))})`
      : `${everyTargetOf(routeId)}${preferences.allowed} is resting${restingWhy}`;
  return `auto-router: ${why}${preferences.leftOut}; waiting ${seconds}s for ${key} to come back, then trying again`;
}

/**
 * Every target lacks a capability the request needs (images, reasoning, tools, output length): unlike a cooldown this
 * does not pass with time, so the text must not read as "not available now".
 */
export function noCapableTargetText(
  routeId: string,
  skipped: Array<{ key: string; detail: string; reason?: string; requiredBy?: string }>,
): string {
  // The capability every capable-looking target lacks (the others could not serve anyway: no key, a missing model).
  const lacking = skipped.filter((s) => s.reason === undefined || s.reason === "capability");
  const images = lacking.length > 0 && lacking.every((s) => s.detail === "no image input");
  const direct = isDirectModel(routeId);
  const lacks = direct
    ? `model ${routeId} ${images ? "does not accept images" : "cannot do what this request needs"}`
    : `route ${routeId} has no target that ${images ? "accepts images" : "can do what this request needs"}`;
  const parts = skipped.map((s) => `${s.key}: ${s.detail}`).join("; ");
  // A requirement a rule added (force-constraint, a force-tier rule's tier), not the request: the rule is the cause.
  const rules = [...new Set(lacking.map((s) => s.requiredBy))];
  // A prompt's tier shortcut (`@reasoning` on a route without a reasoning model): the prompt can go without it.
  if (lacking.length > 0 && rules.every(isShortcutRequirement))
    return `auto-router: ${lacks} (${parts}), which ${rules.join(" and ")} asks for. Waiting will not change this: send the prompt without ${rules.length === 1 ? "it" : "them"}, ${direct ? "or choose another model" : "choose a route with such a target, or add one to this route"}.`;
  if (lacking.length > 0 && !rules.includes(undefined))
    return `auto-router: ${lacks} (${parts}), which ${rules.join(" and ")} asks for. Waiting will not change this: change ${rules.length === 1 ? "that rule" : "those rules"} (or its condition), or ${direct ? "choose another model" : "add such a target to this route"}.`;
  return `auto-router: ${lacks} (${parts}). Waiting will not change this: ${direct ? "choose another model" : "choose a route with such a target, or add one to this route"}.`;
}

/**
 * The prompt is longer than every capable target's context window. Worded so that pi's overflow check (`prompt is too
 * long`) compacts the conversation and retries, as it does after a provider's own overflow error.
 */
export function promptTooLongText(
  routeId: string,
  skipped: Array<{ key: string; detail: string; requiredBy?: string }>,
): string {
  // The targets the prompt would fit may be left out by a requirement of its own shortcut (`@reasoning`, the reasoning
  // model being the small one): sending it without the shortcut is then a way out, and the text must say so.
  const asked = (s: { requiredBy?: string }) => (s.requiredBy ? ` (asked for by ${s.requiredBy})` : "");
  const parts = skipped.map((s) => `${s.key}: ${s.detail}${asked(s)}`).join("; ");
  const shortcuts = [...new Set(skipped.map((s) => s.requiredBy).filter(isShortcutRequirement))];
  const without = shortcuts.length > 0 ? `, send the prompt without ${shortcuts.join(" and ")}` : "";
  return `auto-router: the prompt is too long for ${everyTargetOf(routeId)} (${parts}). Waiting will not change this: compact the conversation${without}, or choose a ${isDirectModel(routeId) ? "model" : "route"} with a larger window.`;
}

/**
 * Every target was left out by provider preferences (the request's `@only=`, X-Provider `only`/`ignore`/`max_price`,
 * or the route's own): no outage, and waiting will not change it.
 */
export function noMatchingTargetText(
  routeId: string,
  skipped: Array<{ key: string; detail: string; provider?: string }>,
): string {
  const parts = skipped.map((s) => `${s.key}: ${s.detail}`).join("; ");
  const matches = isDirectModel(routeId) ? `model ${routeId} does not match` : `no target of route ${routeId} matches`;
  return `auto-router: ${matches} the provider preferences (${parts}). Waiting will not change this: check the provider names and price limit asked for (the prompt's @only=, @ignore= or @max-price=, a gateway request's X-Provider or provider field, or the route's preferences).`;
}

/**
 * What pi's retry check matches in an error text, on every pi line the router supports (pi 0.73's agent session, the
 * newer lines' pi-ai `isRetryableAssistantError`), numbers anywhere in the text included: 0.73 reads the `500` of a
 * "$1500.00" as a server error.
 */
const PI_RETRY_TEXT = new RegExp(
  [
    "overloaded|server_busy|servers are currently busy|currently experiencing high demand|model is at capacity",
    "rate.?limit|too many requests|429|500|502|503|504|520|524|service.?(?:is.?)?(?:temporarily.?)?unavailable",
    "server.?error",
    "internal.?error|provider.?returned|exceeded request buffer limit|unable to forward upstream|upstream.?request",
    "upstream_stream_read_error|stream was interrupted|http/?2|network.?error|connection.?(?:error|refused|lost|closed)",
    "connection reset|other side closed|fetch failed|request to \\S+ failed|getaddrinfo|ECONNRESET|ECONNABORTED",
    "ECONNREFUSED|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|upstream.?connect|reset before headers|socket hang up",
    "socket connection|timed? out|timeout|terminated|websocket|ended without|stream ended before|stream disconnected",
    "cut short|pending stream|retry delay|retry your request|try your request|ResourceExhausted|subscription_sharing",
  ].join("|"),
  "gi",
);
/** Joins characters without showing: it only keeps a match of PI_RETRY_TEXT from reading as one. */
const WORD_JOINER = "\u2060";

/**
 * A router-made final error that must not make pi retry the prompt, whatever it quotes: a dollar amount (`$500.00`),
 * a time, a route, provider or model id the user chose (`gpt-timeout-test`). Each piece pi's retry check would match
 * gets an invisible word joiner after its first character; the text reads the same.
 */
export function outOfPiRetry(text: string): string {
  return text.replace(PI_RETRY_TEXT, (match) => `${match[0]}${WORD_JOINER}${match.slice(1)}`);
}

/**
 * Every target was left out by what the request needs (reasoning, images, tools) or by its provider preferences, some
 * for one and some for the other (`@reasoning @only=x` where x has no reasoning model): the request's own asks.
 */
export function needsAndPreferencesText(routeId: string, skipped: Array<{ key: string; detail: string }>): string {
  const parts = skipped.map((s) => `${s.key}: ${s.detail}`).join("; ");
  return `auto-router: no target of route ${routeId} both can do what this request needs and matches its provider preferences (${parts}). Waiting will not change this: check what the request asks for together (the prompt's shortcuts such as @reasoning, @vision, @only=, @ignore= or @max-price=, a gateway request's X-Provider or provider field, or the route's preferences and rules), or choose another route.`;
}

/** An AssistantMessage carrying a router-made error, attributed to the virtual model. */
export function routerErrorMessage(model: Model<Api>, text: string, now: number): AssistantMessage {
  return {
    role: "assistant",
    content: [],
    api: model.api,
    provider: model.provider,
    model: model.id,
    usage: zeroUsage(),
    stopReason: "error",
    errorMessage: text,
    timestamp: now,
  };
}

export function routerAbortedMessage(model: Model<Api>, now: number): AssistantMessage {
  return { ...routerErrorMessage(model, "Request was aborted.", now), stopReason: "aborted" };
}
