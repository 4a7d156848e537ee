// The one failure classifier (DESIGN.md rule 3). pi-ai reports a failed target only as
// `stopReason: "error" | "aborted"` plus an `errorMessage` string, with no structured status. This module turns
// that text into a typed Failure; nothing else in the code base may match error text.
// Precision matters more than recall: matching "500" anywhere in the text, or failing over on request-shape 400s,
// hides real bugs. Here a status counts only at the START of the text.
import { afterLeadingStatus, leadingStatus, looksLikeOverflow, parseJsonBody } from "./failure-evidence.ts";
import { saysQuota } from "./quota-text.ts";
import { parseRetryHint } from "./retry-hint.ts";

import { DEFAULT_FAILURE_POLICY, type FailureKind, type FailurePolicyOverrides } from "./failure-kinds.ts";
import { ownRecord } from "../own-record.ts";

export { FAILURE_KINDS, type FailureKind } from "./failure-kinds.ts";

export interface Failure {
  kind: FailureKind;
  /** Leading HTTP status of the text (or the numeric `error.code` of a bare Google JSON body). */
  status?: number;
  /** Would the same target likely succeed later? */
  retryable: boolean;
  /** Default policy: move the same request to the next target? */
  failover: boolean;
  /** How long this target should rest; undefined = no cooldown. */
  cooldownMs?: number;
  /** Only when the text carried an explicit retry hint. */
  retryAfterMs?: number;
  /** The original error text, unchanged (redaction happens where it is written). */
  message: string;
  /** The provider's own message inside a JSON error body (`400 {"error":{"message":"..."}}`), when there is one. */
  providerMessage?: string;
  /** Its `error.param` and `error.code`, passed on with a surfaced error (the gateway's OpenAI error body). */
  providerParam?: string;
  providerCode?: string;
  /**
   * An OpenAI Responses target refused the encrypted reasoning items it was sent back (another account or
   * organisation issued them): the request itself is fine, and goes to the same target again without them.
   */
  encryptedReasoning?: true;
  /**
   * The attempt's first-token deadline passed with nothing received: a timeout that used the whole first-token window,
   * so a same-target retry (retry-same-target.ts) gives it a window of its own instead of counting it against one.
   */
  firstTokenTimeout?: true;
  /**
   * The cooldown the failure asked for before a route's policy changed it (its kind's default or the provider's
   * retry hint; 0 for none); set only when the policy did, so another route naming the same target can apply its own
   * policy to it instead.
   */
  targetCooldownMs?: number;
}

export interface FailureInput {
  stopReason?: string;
  errorMessage?: string;
  contextWindow?: number;
  /**
   * The response's Retry-After header, when the caller saw the HTTP response itself (a gateway passthrough; pi-ai's
   * errors carry only the status and body): it wins over a hint in the text.
   */
  retryAfter?: string;
}
export {
  AUTH_COOLDOWN_MS,
  DEFAULT_FAILURE_POLICY,
  EMPTY_RESPONSE_COOLDOWN_MS,
  MODEL_NOT_FOUND_COOLDOWN_MS,
  NETWORK_COOLDOWN_MS,
  OVERLOADED_COOLDOWN_MS,
  QUOTA_EXHAUSTED_COOLDOWN_MS,
  RATE_LIMIT_COOLDOWN_MS,
  SERVER_COOLDOWN_MS,
  TIMEOUT_COOLDOWN_MS,
  UNKNOWN_COOLDOWN_MS,
  type FailureKindPolicy,
  type FailurePolicyOverrides,
} from "./failure-kinds.ts";

const RETRYABLE_KINDS: ReadonlySet<FailureKind> = new Set([
  "rate_limit",
  "overloaded",
  "server",
  "network",
  "timeout",
  "quota_exhausted",
]);

// ---- The text table. Each pattern lists real messages it exists for. -------------------------------------------
// (The quota words, and what keeps a rate limit from reading as a used-up quota, are in quota-text.ts.)
// "429 Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM)...", "429 Too Many Requests",
// "Throttling error: Too many tokens, please wait before trying again." (Bedrock)
const RATE_LIMIT_TEXT = /rate[_ -]?limit|too many requests|throttl/i;
// "529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}",
// "503 {"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}"
const OVERLOADED_TEXT = /overloaded|over capacity|at capacity/i;
// "No API key for provider: openai", "401 invalid x-api-key", "401 Incorrect API key provided: sk-...",
// "API key not valid. Please pass a valid API key." (Gemini, sent as 400), "OAuth token has expired";
// access refused where the user is, which no other request to this target changes: Gemini's 400 FAILED_PRECONDITION
// "User location is not supported for the API use.", OpenAI's 403 "Country, region, or territory not supported"
const AUTH_TEXT =
  /no api key for provider|user location is not supported|country, region, or territory not supported|invalid[ _-]?x-api-key|invalid[ _-]?api[ _-]?key|incorrect api key|api key not valid|api_key_invalid|api key is required|authenticat|unauthori[sz]ed|token (?:has )?expired|invalid (?:bearer |access )?token/i;
// "Connection error." (openai SDK), "fetch failed" / "other side closed" / "terminated" (undici),
// "read ECONNRESET", "connect ECONNREFUSED 127.0.0.1:8080", "socket hang up",
// "Anthropic stream ended before message_stop", "WebSocket stream closed before response.completed"
const NETWORK_TEXT =
  /connection error|fetch failed|ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EPIPE|ECONNABORTED|EHOSTUNREACH|ENETUNREACH|UND_ERR_SOCKET|socket hang up|^terminated\b|network[ _]error|other side closed|connection (?:reset|refused|closed|lost)|stream (?:ended|closed) before/i;
// "Request timed out." (openai SDK with timeoutMs), "ETIMEDOUT", "UND_ERR_HEADERS_TIMEOUT", "DEADLINE_EXCEEDED"
const TIMEOUT_TEXT = /\btimed?[ -]?outs?\b|ETIMEDOUT|_TIMEOUT\b|deadline[_ ]exceeded/i;
// "Internal server error: ..." / "Service unavailable: ..." / "Model stream error: ..." (Bedrock prefixes),
// "Provider returned error" (OpenRouter), "upstream connect error or disconnect/reset before headers" (Envoy).
// OpenAI's in-stream `data: {"error":{"type":"server_error",...}}` chunk reaches pi-ai as its bare message, without
// status or type: "The server had an error while processing your request. Sorry about that!" and "The server had an
// error processing your request. Sorry about that! You can retry your request, or contact us through our help center
// at help.openai.com if you keep seeing this error." (test/fixtures/pi-ai-error-messages.json)
const SERVER_TEXT =
  /internal (?:server )?error|server[_ ]error|the server had an error|service[_ ]unavailable|bad gateway|gateway time-?out|provider returned error|model stream error|upstream connect error/i;
// "404 The model `gpt-9` does not exist or you do not have access to it.",
// "404 {"type":"error","error":{"type":"not_found_error","message":"model: claude-x"}}",
// "models/gemini-9 is not found for API version v1beta, or is not supported for generateContent.",
// "400 Model Not Exist" (DeepSeek), "400 foo/bar is not a valid model ID" (OpenRouter),
// "400 The model `mixtral-8x7b-32768` has been decommissioned and is no longer supported. ..." (Groq, a retired model)
// ("not supported" is deliberately absent: "400 temperature is not supported with this model" is a request bug.)
const MODEL_NOT_FOUND_TEXT =
  /model_not_found|not a valid model\b|\bmodels?\b.*(?:not[ _]found|(?:does )?not exist)|(?:not[ _]found|does not exist).*\bmodel\b|\bmodel\b[^.]*\bhas been (?:decommissioned|retired)\b/i;
// "Provider finish_reason: content_filter", "400 Invalid prompt: your prompt was flagged as potentially violating
// our usage policy", "400 ... rejected by the safety system", "content_policy_violation"
const CONTENT_POLICY_TEXT =
  /content[ _-]?(?:policy|filter|management)|\bsafety\b|usage polic(?:y|ies)|flagged|moderation/i;
// A model that declined to answer. "The model refused to complete the request" / Anthropic's stop_details
// explanation (newer pi-ai, stop_reason "refusal"), "Provider stopped with: sensitive" (Anthropic safety filter),
// "An unknown error occurred" (pi-ai 0.73.1 for a stop reason it maps to an error: Anthropic "refusal"/"sensitive",
// Gemini SAFETY/PROHIBITED_CONTENT/RECITATION/BLOCKLIST; nothing else produces that exact text on these APIs).
const REFUSAL_TEXT =
  /^(?:an unknown error occurred\.?|the model refused to complete the request\b.*|provider stopped with: sensitive)$/i;
// One generation the provider rejected because the model wrote it wrong, not the request: Groq validates a model's
// tool call (and JSON mode output) before it answers, and a bad one ends the request with a 400 (code
// tool_use_failed / json_validate_failed), or in a stream an `event: error` record pi-ai passes on as its bare message:
// "400 Failed to call a function. Please adjust your prompt. See 'failed_generation' for more details.",
// "Failed to generate JSON. Please adjust your prompt. See 'failed_generation' for more details.",
// "tool call validation failed: parameters for tool HassTurnOff did not match schema: errors: [...]",
// "tool call validation failed: attempted to call tool 'listFiles' which was not in request.tools".
const MALFORMED_OUTPUT_TEXT = /see 'failed_generation'|\btool call validation failed\b/i;
// An OpenAI Responses target that cannot decrypt a reasoning item it is sent back (made under another account or
// organisation): 400 {"error":{"message":"The encrypted content gAAA...DQ== could not be verified.","type":
// "invalid_request_error","param":null,"code":"invalid_encrypted_content"}}, also "... could not be verified. Reason:
// Encrypted content could not be decrypted or parsed."
const ENCRYPTED_REASONING_CODE = "invalid_encrypted_content";
const ENCRYPTED_REASONING_TEXT = /\bencrypted content\b.{0,400}?\bcould not be (?:verified|decrypted)/is;
// "Validation error: ..." (Bedrock ValidationException prefix)
const INVALID_REQUEST_TEXT = /^validation error:|invalid[_ ]request|invalid[_ ]argument/i;
// pi-ai's faux provider when a test queued too few responses; say unknown, never something that blames a target.
const FAUX_QUEUE_EMPTY_TEXT = /no more faux responses queued/i;
// "Provider finish_reason: content_filter" / "Provider finish_reason: network_error" (openai-completions)
const FINISH_REASON = /^Provider finish_reason:\s*(\S+)/i;

// Structured error types from JSON bodies: Anthropic error.type, OpenAI error.code/type, Google error.status and
// details[].reason. Types that say only "the request was bad" (invalid_request_error) are left to the status.
const KIND_BY_ERROR_TYPE: Readonly<Record<string, FailureKind | "rate_limit_or_quota" | "overloaded_or_server">> =
  ownRecord({
    overloaded_error: "overloaded",
    rate_limit_error: "rate_limit_or_quota",
    rate_limit_exceeded: "rate_limit_or_quota",
    resource_exhausted: "rate_limit_or_quota",
    throttlingexception: "rate_limit_or_quota",
    insufficient_quota: "quota_exhausted",
    billing_hard_limit_reached: "quota_exhausted",
    usage_limit_reached: "quota_exhausted",
    usage_not_included: "quota_exhausted",
    // Generic server types: an "overloaded" in the message says which (OpenAI sends server_error for both).
    api_error: "overloaded_or_server",
    server_error: "overloaded_or_server",
    internal: "overloaded_or_server",
    internal_server_error: "overloaded_or_server",
    unavailable: "overloaded_or_server",
    service_unavailable: "overloaded_or_server",
    deadline_exceeded: "timeout",
    authentication_error: "auth",
    permission_error: "auth",
    invalid_api_key: "auth",
    api_key_invalid: "auth",
    unauthenticated: "auth",
    permission_denied: "auth",
    model_not_found: "model_not_found",
    request_too_large: "context_overflow",
    context_length_exceeded: "context_overflow",
    content_filter: "content_policy",
    content_policy_violation: "content_policy",
    tool_use_failed: "malformed_output",
    json_validate_failed: "malformed_output",
  });

const OVERFLOW_STATUSES: ReadonlySet<number> = new Set([400, 413, 422]);

interface Evidence {
  text: string;
  status?: number;
  errorTypes: string[];
  overflow: boolean;
}

/**
 * pi-ai's error for a stop reason it does not map that is an output limit, not a failure: Anthropic's
 * `model_context_window_exceeded` (the context window filled up mid-answer). length-stop.ts makes it a length stop.
 */
const UNKNOWN_LENGTH_STOP = /^Unhandled stop reason: model_context_window_exceeded$/;

export const isUnknownLengthStop = (errorMessage: string | undefined): boolean =>
  UNKNOWN_LENGTH_STOP.test(errorMessage?.trim() ?? "");

/**
 * A JavaScript exception's words (V8's), as pi-ai reports an exception raised in its own code (reading an event
 * without a field it reads, say) as the attempt's error text.
 */
const SCRIPT_EXCEPTION_TEXT =
  /^(Cannot read properties of|Cannot set properties of|Cannot convert undefined or null to object|Cannot use 'in' operator|\S+ is not (a function|iterable|an object)\b)/;

export const isScriptException = (errorMessage: string | undefined): boolean =>
  typeof errorMessage === "string" && SCRIPT_EXCEPTION_TEXT.test(errorMessage);

/** Turns pi-ai's stopReason + errorMessage into a typed failure with the default policy applied. */
export function classifyFailure(input: FailureInput, now: number, options?: { timeZone?: string }): Failure {
  const message = input.errorMessage ?? "";
  if (input.stopReason === "aborted") return makeFailure("aborted", message);
  const text = message.trim();
  if (text === "") return makeFailure("unknown", message);
  const body = parseJsonBody(text);
  const status = leadingStatus(text) ?? body.status;
  const evidence: Evidence = {
    text,
    status,
    errorTypes: body.errorTypes,
    overflow: looksLikeOverflow(text, input.contextWindow),
  };
  // About the request's replayed reasoning, never the target's health, whatever else its words say.
  const refusedReasoning =
    body.errorTypes.includes(ENCRYPTED_REASONING_CODE) ||
    ((status === undefined || status === 400) && ENCRYPTED_REASONING_TEXT.test(text));
  const kind = refusedReasoning ? "invalid_request" : kindFromEvidence(evidence);
  const overrides: Partial<Failure> = refusedReasoning ? { encryptedReasoning: true } : {};
  if (status !== undefined) overrides.status = status;
  const providerMessage = body.message ?? afterLeadingStatus(text);
  if (providerMessage !== undefined) overrides.providerMessage = providerMessage;
  if (body.param !== undefined) overrides.providerParam = body.param;
  if (body.code !== undefined) overrides.providerCode = body.code;
  const retryAfterMs =
    (input.retryAfter ? parseRetryHint(`Retry-After: ${input.retryAfter}`, now) : undefined) ??
    parseRetryHint(text, now, options);
  if (retryAfterMs !== undefined) overrides.retryAfterMs = retryAfterMs;
  return makeFailure(kind, message, overrides);
}

/** Builds a failure of a known kind (also for failures the runtime detects itself, e.g. an empty stream). */
export function makeFailure(kind: FailureKind, message: string, overrides?: Partial<Failure>): Failure {
  const policy = DEFAULT_FAILURE_POLICY[kind];
  const retryAfterMs = overrides?.retryAfterMs;
  const hintApplies = retryAfterMs !== undefined && policy.cooldownMs !== undefined;
  const failure: Failure = { kind, retryable: RETRYABLE_KINDS.has(kind), failover: policy.failover, message };
  const cooldownMs = hintApplies ? retryAfterMs : policy.cooldownMs;
  if (cooldownMs !== undefined) failure.cooldownMs = cooldownMs;
  return { ...failure, ...overrides };
}

/**
 * A 2xx answer to a streaming request whose body is no event stream (an HTML page, a JSON document): an answer without
 * events, as pi-ai reads such a body on the translated path (empty_response, so the target rests either way).
 */
export function notAnEventStream(targetKey: string, status: number, contentType: string): Failure {
  const type = contentType.split(";")[0]!.trim();
  return makeFailure(
    "empty_response",
    `${targetKey}: answered ${status} with ${type || "no content type"}, not an event stream`,
  );
}

/**
 * Applies the user's per-kind overrides. A retry hint from the provider still wins over a configured cooldown when
 * it is longer: resting less than the provider asked only earns another refusal. An abort is the user's own act and
 * never fails over or cools a target down, whatever the config says (DESIGN.md rule 4).
 */
export function applyFailurePolicy(failure: Failure, policy: FailurePolicyOverrides): Failure {
  const override = policy[failure.kind];
  if (!override || failure.kind === "aborted") return { ...failure };
  const result: Failure = { ...failure, failover: override.failover ?? failure.failover };
  if (override.cooldownMs !== undefined) {
    result.targetCooldownMs = failure.targetCooldownMs ?? failure.cooldownMs ?? 0;
    const cooldownMs = Math.max(override.cooldownMs, failure.retryAfterMs ?? 0);
    if (cooldownMs > 0) result.cooldownMs = cooldownMs;
    else delete result.cooldownMs;
  }
  return result;
}

function kindFromEvidence(evidence: Evidence): FailureKind {
  const { text, status, overflow } = evidence;
  // Overflow first among 4xx: "400 prompt is too long: 213462 tokens > 200000 maximum" must not read as invalid_request.
  if (overflow && (status === undefined || OVERFLOW_STATUSES.has(status))) return "context_overflow";
  const finishReason = FINISH_REASON.exec(text)?.[1]?.toLowerCase();
  if (finishReason !== undefined) {
    if (finishReason === "content_filter") return "content_policy";
    return finishReason === "network_error" ? "network" : "unknown";
  }
  if (FAUX_QUEUE_EMPTY_TEXT.test(text)) return "unknown";
  if (REFUSAL_TEXT.test(text)) return "content_policy";
  // Statuses that say everything on their own.
  if (status === 401) return "auth";
  if (status === 402) return "quota_exhausted";
  if (status === 404) return "model_not_found";
  if (status === 408) return "timeout";
  if (status === 529) return "overloaded";
  const typed = kindFromErrorTypes(evidence);
  // A 429 is the provider asking to slow down: a generic server type in its body ("server_error", seen behind
  // proxies that wrap every upstream error in one type) does not make it the target's fault.
  if (typed && !(status === 429 && (typed === "server" || typed === "overloaded"))) return typed;
  if (status !== undefined && status >= 400 && status <= 599) return kindFromStatus(status, text);
  return kindFromKeywords(text);
}

function kindFromErrorTypes({ text, errorTypes }: Evidence): FailureKind | undefined {
  for (const errorType of errorTypes) {
    const mapped = KIND_BY_ERROR_TYPE[errorType];
    if (mapped === "rate_limit_or_quota") return saysQuota(text) ? "quota_exhausted" : "rate_limit";
    if (mapped === "overloaded_or_server") return OVERLOADED_TEXT.test(text) ? "overloaded" : "server";
    if (mapped) return mapped;
    // Anthropic says not_found_error for any missing resource; only a model mention makes it model_not_found.
    if (errorType === "not_found_error" || errorType === "not_found") {
      if (MODEL_NOT_FOUND_TEXT.test(text) || /\bmodel\b/i.test(text)) return "model_not_found";
    }
  }
  return undefined;
}

function kindFromStatus(status: number, text: string): FailureKind {
  if (status === 429) return saysQuota(text) ? "quota_exhausted" : "rate_limit";
  if (status >= 500) return OVERLOADED_TEXT.test(text) ? "overloaded" : "server";
  if (status === 403) {
    if (CONTENT_POLICY_TEXT.test(text)) return "content_policy";
    return saysQuota(text) ? "quota_exhausted" : "auth";
  }
  // Remaining 4xx: the request or the account, never the target's health. Do not fail over on a plain 400.
  if (MALFORMED_OUTPUT_TEXT.test(text)) return "malformed_output";
  if (saysQuota(text)) return "quota_exhausted";
  if (AUTH_TEXT.test(text)) return "auth";
  if (CONTENT_POLICY_TEXT.test(text)) return "content_policy";
  if (MODEL_NOT_FOUND_TEXT.test(text)) return "model_not_found";
  return "invalid_request";
}

/** Texts without a leading status: SDK and transport errors, Bedrock prefixes, friendly provider messages. */
function kindFromKeywords(text: string): FailureKind {
  // First: the text names the user's tools, whose names may hold another table's words ("check_rate_limit").
  if (MALFORMED_OUTPUT_TEXT.test(text)) return "malformed_output";
  if (AUTH_TEXT.test(text)) return "auth";
  if (OVERLOADED_TEXT.test(text)) return "overloaded";
  if (saysQuota(text)) return "quota_exhausted";
  if (RATE_LIMIT_TEXT.test(text)) return "rate_limit";
  if (NETWORK_TEXT.test(text)) return "network";
  if (SERVER_TEXT.test(text)) return "server";
  if (TIMEOUT_TEXT.test(text)) return "timeout";
  if (MODEL_NOT_FOUND_TEXT.test(text)) return "model_not_found";
  if (CONTENT_POLICY_TEXT.test(text)) return "content_policy";
  if (INVALID_REQUEST_TEXT.test(text)) return "invalid_request";
  return "unknown";
}
