// Starts one target stream with THAT target's credentials (pi-compat.md §3), never the router's own.
// Returns an error string instead of throwing: newer pi-ai may throw synchronously (e.g. on missing auth).
import {
  streamSimple,
  type Api,
  type AssistantMessageEventStream,
  type Context,
  type Model,
  type SimpleStreamOptions,
} from "@mariozechner/pi-ai";
import { thinkingOn, toolTurnLacksThinking, withoutThinkingEdits } from "./anthropic-thinking.ts";
import { contextForTarget } from "./client-history.ts";
import { applyRequestPatch, type RequestPatch } from "./request-patch.ts";
import { rememberCredentials } from "../state/redact.ts";

/** The parts of pi's ModelRegistry the runtime uses; identical on 0.73.1 and the @earendil-works line. */
export interface RegistryLike {
  find(provider: string, modelId: string): Model<Api> | undefined;
  hasConfiguredAuth(model: Model<Api>): boolean;
  getApiKeyAndHeaders(model: Model<Api>): Promise<AuthResult>;
  isUsingOAuth?(model: Model<Api>): boolean;
  getProviderAuthStatus?(provider: string): { configured: boolean; source?: string; label?: string };
}

/** 0.73.1 returns apiKey/headers; newer pi adds env and baseUrl, and header values may be null. */
export type AuthResult =
  | {
      ok: true;
      apiKey?: string;
      headers?: Record<string, string | null>;
      baseUrl?: string;
      env?: Record<string, string>;
    }
  | { ok: false; error: string };

export type StreamFunction = typeof streamSimple;

/**
 * The target's own credentials from pi's registry. `ok: false` (or a throw, e.g. a models.json `"!command"` that
 * failed) means the target has no usable credentials. Every value resolved here is remembered by the redactor, so no
 * error text, log line or notification can carry it afterwards, whatever its shape.
 */
export async function resolveTargetAuth(registry: RegistryLike, model: Model<Api>): Promise<AuthResult> {
  try {
    const auth = await registry.getApiKeyAndHeaders(model);
    if (auth.ok) rememberCredentials(auth.apiKey, auth.headers);
    return auth;
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

export interface StartTargetInput {
  registry: RegistryLike;
  model: Model<Api>;
  context: Context;
  options: SimpleStreamOptions | undefined;
  /** Per-attempt signal (the user's signal combined with the router's timeouts); none when nothing can abort. */
  signal: AbortSignal | undefined;
  requestTimeoutMs?: number;
  stream?: StreamFunction;
  /** This target's own extra headers and body fields. */
  patch?: RequestPatch;
  /** Credentials already resolved with resolveTargetAuth; resolved here when absent. */
  auth?: AuthResult;
  /** Replaces the caller's onResponse (the router's hook wraps the caller's own). */
  onResponse?: SimpleStreamOptions["onResponse"];
  /** A note for the request's event log (thinking turned off for Anthropic's rule, below). */
  onNote?: (text: string) => void;
}

function cleanHeaders(headers: Record<string, string | null> | undefined): Record<string, string> | undefined {
  if (!headers) return undefined;
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== null && value !== undefined) out[name] = value;
  }
  return out;
}

/**
 * The target's options: the caller's, without the ROUTER's auth (pi passes the virtual provider's key, headers and env)
 * and signal, with the target's own credentials. One copy, key by key: this runs for every attempt, and an object
 * rest with excluded keys followed by a spread costs several times more.
 */
function targetOptions(input: StartTargetInput, auth: AuthResult & { ok: true }): SimpleStreamOptions {
  const options: Record<string, unknown> = {};
  const given = input.options as Record<string, unknown> | undefined;
  if (given)
    for (const key in given)
      if (key !== "apiKey" && key !== "headers" && key !== "env" && key !== "signal") options[key] = given[key];
  // A request asking for more output than this target gives is capped at its limit (ranked after those that can give
  // it); the provider would otherwise refuse it with a 400.
  const limit = input.model.maxTokens;
  if (typeof options.maxTokens === "number" && limit > 0 && options.maxTokens > limit) options.maxTokens = limit;
  if (input.onResponse) options.onResponse = input.onResponse;
  options.apiKey = auth.apiKey;
  options.headers = cleanHeaders(auth.headers);
  if (auth.env) options.env = auth.env;
  if (input.model.api === "anthropic-messages")
    options.onPayload = fittedToAnthropicThinking(
      options.onPayload as SimpleStreamOptions["onPayload"],
      input.onNote && (() => input.onNote!(thinkingOffNote(input.model))),
    );
  options.signal = input.signal;
  // One retry loop (DESIGN.md rule 5): the SDK must not retry or sleep on Retry-After itself.
  options.maxRetries = 0;
  if (input.requestTimeoutMs) options.timeoutMs = input.requestTimeoutMs;
  return options as SimpleStreamOptions;
}

type Payload = Record<string, unknown>;

/**
 * The caller's payload hook, then Anthropic's thinking rule for a tool loop (anthropic-thinking.ts): when the tool
 * calls the last turn answers were made by another API or model (a failover in the middle of the loop: pi-ai sends
 * their reasoning as text, or none), thinking is off for this request, as Anthropic's own 400 advises. Anthropic
 * would refuse it, and a 400 fails over nowhere: the prompt would end in the middle of its tool calls.
 */
function fittedToAnthropicThinking(
  previous: SimpleStreamOptions["onPayload"],
  turnedOff: (() => void) | undefined,
): SimpleStreamOptions["onPayload"] {
  return async (payload: unknown, model: Model<Api>) => {
    const changed = previous ? await previous(payload, model) : undefined;
    const body = (changed === undefined ? payload : changed) as Payload;
    if (!thinkingOn(body?.thinking) || !toolTurnLacksThinking(body.messages)) return changed;
    turnedOff?.();
    const { thinking: _off, ...rest } = body;
    const contextManagement = withoutThinkingEdits(rest.context_management);
    if (contextManagement === undefined) delete rest.context_management;
    else rest.context_management = contextManagement;
    return rest;
  };
}

/** What the event log says when the rule above turned thinking off for a request. */
export const thinkingOffNote = (model: Model<Api>): string =>
  `thinking off for ${model.provider}/${model.id}: the tool calls this turn answers were made by another API or model, and Anthropic refuses thinking on then`;

export async function startTarget(input: StartTargetInput): Promise<AssistantMessageEventStream | string> {
  try {
    const auth = input.auth ?? (await resolveTargetAuth(input.registry, input.model));
    if (!auth.ok) return auth.error;
    const model = auth.baseUrl ? { ...input.model, baseUrl: auth.baseUrl } : input.model;
    const options = applyRequestPatch(targetOptions(input, auth), input.patch);
    return (input.stream ?? streamSimple)(model, contextForTarget(input.context, input.model), options);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
