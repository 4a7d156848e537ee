// Errors in each client's own format, the HTTP status a routed request's end maps to, and the retry metadata
// headers. The runtime already classified every failure; this only turns its verdict into HTTP.
import type { RequestEnd } from "../runtime/failover-stream.ts";
import { TRANSIENT_KINDS } from "../runtime/final-error.ts";
import { isObject } from "../is-object.ts";
import { redactText } from "../state/redact.ts";
import { describeIssue, type IssueText } from "../config/zod-issue-text.ts";

export type Protocol = "anthropic" | "openai";

export type ErrorCategory =
  | "invalid_request"
  | "authentication"
  | "not_found"
  | "no_endpoint"
  | "too_large"
  | "rate_limit"
  | "overloaded"
  | "billing"
  | "api_error";

/** OpenAI's `param` and `code` of an upstream error passed on (the category's own code otherwise). */
export interface ErrorFields {
  param?: string;
  code?: string;
}

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly category: ErrorCategory,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly fields: ErrorFields = {},
  ) {
    super(message);
  }
}

/** Why a request still in flight at the drain deadline ends: the client gets it as an error it may retry. */
export class GatewayShutdown extends Error {
  constructor() {
    super("the gateway is shutting down: retry the request");
  }
}

/** The 503 of a request the drain deadline ended before its answer started. */
export const shutdownError = (headers: Record<string, string> = {}): GatewayError =>
  new GatewayError(503, "overloaded", new GatewayShutdown().message, {
    ...headers,
    "retry-after": "1",
    "x-should-retry": "true",
  });

/** Where a schema issue is in the request body, as a client writes it: `body.messages[0].content`, or `request body`. */
export function bodyPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "request body";
  let where = "body";
  for (const part of path) where += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return where;
}

/** zod's own English ("Invalid input: expected array, received string"), which a schema's own message is not. */
const ZOD_WORDS = /^(Invalid (input|option)|Too (small|big))\b/;

/**
 * A schema issue (of a parse with `reportInput`) in the words the routes file's errors use: what was expected and what
 * was sent (its type; the value itself for one of a fixed set, with the one meant: `expected one of "user",
 * "assistant", "system", got "assitant"; did you mean "assistant"?`), at its place below the issue's own (a union's
 * option may fail deeper down). A schema's own message is kept as it is.
 */
export function issueText(issue: { path: readonly PropertyKey[]; message: string; code?: string }): IssueText {
  if (!("code" in issue) || !ZOD_WORDS.test(issue.message)) return { path: [...issue.path], message: issue.message };
  const [text] = describeIssue(issue as Parameters<typeof describeIssue>[0]);
  return text
    ? { path: [...issue.path, ...text.path], message: text.message }
    : { path: [...issue.path], message: issue.message };
}

/** The 400 for a body the endpoint's schema refuses: the first issue, with its place. */
export const bodySchemaError = (issue: {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
}): GatewayError => {
  const { path, message } = issueText(issue);
  return new GatewayError(400, "invalid_request", `${bodyPath(path)}: ${message}`);
};

const ANTHROPIC_TYPES: Record<ErrorCategory, string> = {
  invalid_request: "invalid_request_error",
  authentication: "authentication_error",
  not_found: "not_found_error",
  no_endpoint: "not_found_error",
  too_large: "request_too_large",
  rate_limit: "rate_limit_error",
  overloaded: "overloaded_error",
  billing: "billing_error",
  api_error: "api_error",
};

const OPENAI_TYPES: Record<ErrorCategory, string> = {
  invalid_request: "invalid_request_error",
  authentication: "authentication_error",
  not_found: "not_found_error",
  no_endpoint: "invalid_request_error",
  too_large: "invalid_request_error",
  rate_limit: "rate_limit_error",
  overloaded: "server_error",
  billing: "insufficient_quota",
  api_error: "api_error",
};

/** OpenAI's own codes: an unknown model and an unknown URL are told apart by `code`. */
const OPENAI_CODES: Partial<Record<ErrorCategory, string>> = {
  not_found: "model_not_found",
  no_endpoint: "unknown_url",
  billing: "insufficient_quota",
};

export function categoryOf(status: number): ErrorCategory {
  if (status === 401 || status === 403) return "authentication";
  if (status === 404) return "not_found";
  if (status === 402) return "billing";
  if (status === 413) return "too_large";
  if (status === 429) return "rate_limit";
  if (status === 503 || status === 529) return "overloaded";
  if (status >= 400 && status < 500) return "invalid_request";
  return "api_error";
}

/** The error body; the message is redacted here, the one place every error passes on its way out. */
export function errorBody(
  protocol: Protocol,
  category: ErrorCategory,
  message: string,
  fields: ErrorFields = {},
): Record<string, unknown> {
  const text = redactText(message);
  if (protocol === "anthropic") return { type: "error", error: { type: ANTHROPIC_TYPES[category], message: text } };
  return {
    error: {
      message: text,
      type: OPENAI_TYPES[category],
      param: fields.param ?? null,
      code: fields.code ?? OPENAI_CODES[category] ?? null,
    },
  };
}

export interface AttemptRecord {
  target: string;
  kind?: string;
  status?: number;
  ms: number;
}

/** Compact JSON of the attempts: target, failure kind, status and milliseconds each. Never any message text. */
export function attemptsHeader(attempts: AttemptRecord[]): string {
  return JSON.stringify(
    attempts.map((attempt) => ({
      target: attempt.target,
      ...(attempt.kind ? { kind: attempt.kind } : {}),
      ...(attempt.status ? { status: attempt.status } : {}),
      ms: attempt.ms,
    })),
  );
}

/**
 * The HTTP answer to a request that ended before anything was served, with the request's routing headers (its route
 * and every attempt, so a client sees which targets failed and how).
 */
export function endToError(
  end: RequestEnd | undefined,
  message: string,
  now: number,
  routingHeaders: Record<string, string> = {},
): GatewayError {
  const answer = endAnswer(end, message, now);
  return new GatewayError(
    answer.status,
    answer.category,
    answer.message,
    { ...routingHeaders, ...answer.headers },
    answer.fields,
  );
}

/** A Retry-After value: whole seconds until `until`, at least 1. */
const secondsUntil = (until: number, now: number): string => String(Math.max(1, Math.ceil((until - now) / 1000)));

function endAnswer(end: RequestEnd | undefined, message: string, now: number): GatewayError {
  if (!end) return new GatewayError(500, "api_error", message);
  if (end.surfaced) {
    // A single non-retryable upstream error: its own status and message (the one inside its error body, as the
    // client's SDK would have shown it calling the target itself), never masked.
    const status =
      end.surfaced.status && end.surfaced.status >= 400 && end.surfaced.status < 600 ? end.surfaced.status : 502;
    const headers: Record<string, string> = { "x-should-retry": end.surfaced.retryable ? "true" : "false" };
    // A retryable failure that was not failed over (`failover: false` for its kind): its target now rests that long,
    // and a client retrying sooner would only meet that rest (the target's own Retry-After is in the cooldown).
    const restMs = end.surfaced.cooldownMs;
    if (end.surfaced.retryable && restMs !== undefined && restMs > 0)
      headers["retry-after"] = secondsUntil(now + restMs, now);
    return new GatewayError(status, categoryOf(status), end.surfaced.providerMessage ?? message, headers, {
      param: end.surfaced.providerParam,
      code: end.surfaced.providerCode,
    });
  }
  // Nothing to retry soon: a route that is not there, a hard budget that is spent. A budget's spend that cannot be
  // read now (the team store is down) comes back once the store does.
  if (end.refusal === "unknown-route") return new GatewayError(404, "not_found", message);
  // The client's own provider filter left nothing (a typo in `only`, a max_price below every target): its request.
  if (end.refusal === "no-match")
    return new GatewayError(400, "invalid_request", message, { "x-should-retry": "false" });
  if (end.refusal === "spend-unknown")
    return new GatewayError(503, "overloaded", message, { "x-should-retry": "true" });
  // Nothing a retry could change (the gateway's own setup: no credentials, a model pi does not know; every target
  // resting for rejected credentials; or failures none of which passes with time): not "overloaded" nor a 429, which
  // Claude Code retries whatever x-should-retry says.
  if (end.refusal === "unservable") return new GatewayError(500, "api_error", message, { "x-should-retry": "false" });
  if (end.failures.length === 0 && end.coolingUntil !== undefined) {
    const retryAfter = secondsUntil(end.coolingUntil, now);
    return new GatewayError(429, "rate_limit", message, { "retry-after": retryAfter, "x-should-retry": "true" });
  }
  if (end.refusal === "over-budget" && end.failures.length === 0)
    return new GatewayError(402, "billing", message, { "x-should-retry": "false" });
  // Every target resting (a breaker open, unhealthy, out of quota) or a transient failure: passes with time.
  const transient =
    end.failures.length === 0 || end.failures.some((failure) => TRANSIENT_KINDS.has(failure.kind as never));
  if (transient) {
    // When the first target of the route is back from its rest, as a hint for the client's retry.
    const headers: Record<string, string> = { "x-should-retry": "true" };
    if (end.coolingUntil !== undefined) headers["retry-after"] = secondsUntil(end.coolingUntil, now);
    return new GatewayError(503, "overloaded", message, headers);
  }
  return new GatewayError(502, "api_error", message, { "x-should-retry": "false" });
}

/**
 * The error type of an answer cut off after its commit point (`failure`: what the runtime classified it as): an
 * overloaded target's stays overloaded (Anthropic's own mid-stream `overloaded_error`, which its clients retry as they
 * would the target's), any other is an api_error.
 */
export const cutOffCategory = (failure: { kind: string } | undefined): ErrorCategory =>
  failure?.kind === "overloaded" ? "overloaded" : "api_error";

/**
 * The error that ends an answer after its commit point. pi-ai's own text says little over HTTP ("terminated"): the
 * client is told which target broke off, and that what it received stands and nothing is sent again.
 */
export function committedErrorText(message: string | undefined, servedKey: string | undefined): string {
  if (message?.startsWith("auto-router:")) return message;
  // A target's error event as "type: message", whether the passthrough read it or pi-ai passed its JSON on; one the
  // router worded names the target first, as the text around it does.
  const own = servedKey !== undefined && message?.startsWith(`${servedKey}: `);
  const reason =
    message === undefined
      ? "no reason given"
      : own
        ? message.slice(servedKey.length + 2)
        : upstreamErrorSummary(message);
  return `auto-router: ${servedKey ?? "the target"} failed after it had started answering (${reason})${STANDS}`;
}

/**
 * A target's own error record (the JSON of its stream's error event) as one readable line, "type: message", for the
 * router's error text; anything that is not such a record stays as it is.
 */
export function upstreamErrorSummary(text: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  const record = isObject(parsed) ? (isObject(parsed.error) ? parsed.error : parsed) : undefined;
  const message = record?.message;
  if (typeof message !== "string" || message === "") return text;
  const kind = [record!.type, record!.code].find((value) => typeof value === "string" && value !== "error");
  return kind ? `${kind}: ${message}` : message;
}

const STANDS = "; the answer so far stands and is not sent again";
