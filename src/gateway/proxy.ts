// The wildcard proxy: any path no built-in handler serves goes to a target whose provider advertises that path
// prefix (`providers.<id>.endpointPrefixes`). The engine still chooses the targets (the same decision, cooldowns,
// breaker and preferences as a chat request) and hears every attempt's result; only the HTTP forwarding lives here.
// JSON bodies are held (the model field is rewritten per target and a failover resends them); any other body is
// streamed through once, without failover, since it cannot be replayed. Answers are always streamed back.
import type { Api, Model } from "@mariozechner/pi-ai";
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { RouterConfig } from "../config/schema.ts";
import type { Candidate } from "../routing/types.ts";
import { restTarget, settleAttempt } from "../runtime/attempt-consequences.ts";
import { classifyFailure, makeFailure, type Failure } from "../runtime/classify-failure.ts";
import { routeSettings, targetTimeouts, findTarget } from "../runtime/route-settings.ts";
import { attemptsHeader, GatewayError, type AttemptRecord } from "./errors.ts";
import type { GatewayCore } from "./chat-handler.ts";
import { resolveModelName, unknownModelText } from "./model-names.ts";
import { requestShortcuts } from "./provider-preferences.ts";

/** Headers that describe one hop, or carry the client's own credentials and routing wishes: never forwarded. */
const DROPPED_REQUEST_HEADERS = new Set([
  "host", "connection", "keep-alive", "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
  "content-length", "authorization", "x-api-key", "x-model", "x-provider", "accept-encoding",
]);
const DROPPED_RESPONSE_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"]);
/** Statuses that say the target, not the request, is the problem: classified, and failed over when policy says so. */
const isTargetFailure = (status: number) => status === 408 || status === 429 || status >= 500;
const ERROR_BODY_LIMIT_CHARS = 4_000;

/** Which prefixes each provider advertises; a provider without an entry serves no proxied path. */
export function advertisedPrefixes(config: RouterConfig): Map<string, string[]> {
  return new Map(Object.entries(config.providers ?? {}).flatMap(([provider, settings]) => (settings.endpointPrefixes ? [[provider, settings.endpointPrefixes] as const] : [])));
}

export function advertises(prefixes: string[] | undefined, path: string): boolean {
  if (!prefixes) return false;
  return prefixes.length === 0 || prefixes.some((prefix) => path === prefix || path.startsWith(prefix.endsWith("/") ? prefix : `${prefix}/`) || path.startsWith(`${prefix}?`));
}

/** The target's base URL and the client's path, without a doubled /v1. */
export function upstreamUrl(baseUrl: string, path: string, query: string): string {
  const base = baseUrl.replace(/\/+$/, "");
  const tail = base.endsWith("/v1") && (path === "/v1" || path.startsWith("/v1/")) ? path.slice(3) : path;
  return `${base}${tail}${query}`;
}

function forwardedHeaders(incoming: FastifyRequest["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || DROPPED_REQUEST_HEADERS.has(name) || name.startsWith("x-auto-router-")) continue;
    out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

function authHeaders(model: Model<Api>, auth: { apiKey?: string; headers?: Record<string, string | null> }): Record<string, string> {
  const out: Record<string, string> = {};
  if (auth.apiKey) {
    if (model.api === "anthropic-messages") out["x-api-key"] = auth.apiKey;
    else out.authorization = `Bearer ${auth.apiKey}`;
  }
  for (const [name, value] of Object.entries(auth.headers ?? {})) if (value !== null && value !== undefined) out[name.toLowerCase()] = value;
  return out;
}

/** The first route target of the first provider advertising the path: where a request without a model goes. */
function defaultTarget(config: RouterConfig, path: string): { provider: string; modelId: string } | undefined {
  for (const [provider, prefixes] of advertisedPrefixes(config)) {
    if (!advertises(prefixes, path)) continue;
    for (const route of Object.values(config.routes)) {
      const target = route.targets.find((item) => item.provider === provider);
      if (target) return { provider, modelId: target.modelId };
    }
  }
  return undefined;
}

function notServed(config: RouterConfig, method: string, path: string): GatewayError {
  const served = [...advertisedPrefixes(config)].map(([provider, prefixes]) => `${provider}: ${prefixes.length ? prefixes.join(", ") : "every path"}`);
  return new GatewayError(404, "not_found", `no endpoint ${method} ${path}: no provider advertises it; proxied prefixes: ${served.join("; ") || "(none: set providers.<id>.endpointPrefixes in the routes file)"}`);
}

export async function serveProxy(core: GatewayCore, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const runtime = core.engine.runtime;
  const config = runtime.config();
  const [path, query = ""] = request.url.split(/(?=\?)/, 2) as [string, string?];
  const body = request.body;
  const jsonBody = body !== null && typeof body === "object" && !(body instanceof Readable) && !Buffer.isBuffer(body) ? (body as Record<string, unknown>) : undefined;
  const header = (name: string) => (typeof request.headers[name] === "string" ? (request.headers[name] as string) : undefined);
  const name = (typeof jsonBody?.model === "string" ? jsonBody.model : undefined) ?? header("x-model");

  let routeId: string;
  if (name !== undefined) {
    const choice = resolveModelName(name, config, runtime.registry());
    if (!choice) throw new GatewayError(404, "not_found", unknownModelText(name, config));
    routeId = choice.kind === "route" ? choice.routeId : core.directRoutes.add(choice.provider, choice.modelId);
  } else {
    const target = defaultTarget(config, path);
    if (!target) throw notServed(config, request.method, path);
    routeId = core.directRoutes.add(target.provider, target.modelId);
  }
  const shortcuts = requestShortcuts(undefined, jsonBody?.provider, header("x-provider"));
  const requestId = randomUUID();
  const now = core.now();
  const decision = runtime.decide(requestId, routeId, { messages: [{ role: "user", content: `${request.method} ${path}`, timestamp: now }] }, undefined, now, { shortcuts });
  const prefixes = advertisedPrefixes(runtime.config());
  const candidates = decision.candidates.filter((candidate) => advertises(prefixes.get(candidate.provider), path));
  if (candidates.length === 0) {
    if (!decision.candidates.some((candidate) => prefixes.has(candidate.provider))) throw notServed(config, request.method, path);
    throw new GatewayError(503, "overloaded", `no target of route ${decision.routeId} that serves ${path} is available now: ${decision.skipped.map((s) => `${s.key}: ${s.reason}`).join("; ") || "every one was ruled out"}`, { "x-should-retry": "true" });
  }

  const settings = routeSettings(runtime.config(), decision.routeId);
  const replayable = jsonBody !== undefined || body === undefined || body === null;
  const maxAttempts = replayable ? settings.maxAttempts : 1;
  const controller = new AbortController();
  core.inFlight.add(controller);
  const onClose = () => {
    if (!reply.raw.writableEnded) controller.abort(new Error("client disconnected"));
  };
  reply.raw.on("close", onClose);
  const state = { requestId, routeId: decision.routeId, attempts: 0 };
  const attempts: AttemptRecord[] = [];
  let last: { failure: Failure; status?: number; text: string; headers: Headers } | undefined;
  try {
    for (const candidate of candidates) {
      if (state.attempts >= maxAttempts || controller.signal.aborted) break;
      if (candidate.probe && !runtime.claimProbe(candidate.key)) continue;
      const model = runtime.registry()?.find(candidate.provider, candidate.modelId);
      if (!model) continue;
      state.attempts += 1;
      runtime.record(requestId, decision.routeId, "attempt", { attempt: state.attempts, target: candidate.key, proxy: `${request.method} ${path}` });
      const started = core.now();
      const result = await attempt(core, candidate, model, { method: request.method, path, query, headers: request.headers, jsonBody, rawBody: replayable ? undefined : body, routeId: decision.routeId, signal: controller.signal });
      const latencyMs = core.now() - started;
      if (result.kind === "aborted" || controller.signal.aborted) {
        settleAttempt(runtime, state, candidate, { status: "aborted", latencyMs }, settings.policy);
        return void reply.hijack();
      }
      if (result.kind === "response" && !isTargetFailure(result.response.status)) {
        attempts.push({ target: candidate.key, status: result.response.status, ms: latencyMs });
        await commit(reply, result.response, { "x-auto-router-route": decision.routeId, "x-auto-router-served-by": candidate.key, "x-auto-router-attempts": attemptsHeader(attempts) });
        const outcome = controller.signal.aborted ? { status: "aborted" as const, latencyMs: core.now() - started } : { status: "committed" as const, final: "done" as const, ttftMs: latencyMs, latencyMs: core.now() - started };
        if (result.response.status < 400 || outcome.status === "aborted") settleAttempt(runtime, state, candidate, outcome, settings.policy);
        else settleAttempt(runtime, state, candidate, { status: "failed", failure: classifyFailure({ stopReason: "error", errorMessage: `${result.response.status} (proxied ${path})` }, core.now()), latencyMs }, settings.policy);
        return;
      }
      const { failure } = settleAttempt(runtime, state, candidate, { status: "failed", failure: result.failure, latencyMs }, settings.policy);
      attempts.push({ target: candidate.key, kind: failure.kind, ...(result.kind === "response" ? { status: result.response.status } : {}), ms: latencyMs });
      last = { failure, status: result.kind === "response" ? result.response.status : undefined, text: result.kind === "response" ? result.text : "", headers: result.kind === "response" ? result.response.headers : new Headers() };
      restTarget(runtime, decision.routeId, candidate, failure);
      if (!failure.failover) break;
    }
    if (controller.signal.aborted) return void reply.hijack();
    const headers = { "x-auto-router-route": decision.routeId, "x-auto-router-attempts": attemptsHeader(attempts), "x-should-retry": last?.failure.retryable ? "true" : "false" };
    if (last?.status !== undefined) {
      // The last upstream answer, passed through as it was (never masked), when no target could do better.
      const type = last.headers.get("content-type");
      reply.code(last.status).headers({ ...headers, ...(type ? { "content-type": type } : {}) }).send(runtime.redact(last.text));
      return;
    }
    throw new GatewayError(503, "api_error", `every target of route ${decision.routeId} that serves ${path} failed: ${attempts.map((a) => `${a.target}: ${a.kind ?? a.status}`).join("; ") || "none could be tried"}`, headers);
  } finally {
    reply.raw.off("close", onClose);
    core.inFlight.delete(controller);
  }
}

type AttemptResult =
  | { kind: "response"; response: Response; text: string; failure: Failure }
  | { kind: "failed"; failure: Failure }
  | { kind: "aborted" };

interface ForwardInput {
  method: string;
  path: string;
  query: string;
  headers: FastifyRequest["headers"];
  jsonBody: Record<string, unknown> | undefined;
  rawBody: unknown;
  routeId: string;
  signal: AbortSignal;
}

async function attempt(core: GatewayCore, candidate: Candidate, model: Model<Api>, input: ForwardInput): Promise<AttemptResult> {
  const runtime = core.engine.runtime;
  const auth = await runtime.registry()!.getApiKeyAndHeaders(model).catch((error: unknown) => ({ ok: false as const, error: String(error) }));
  if (!auth.ok) return { kind: "failed", failure: classifyFailure({ stopReason: "error", errorMessage: auth.error }, core.now()) };
  const timeouts = targetTimeouts(runtime.config(), input.routeId, findTarget(runtime.config(), input.routeId, candidate.provider, candidate.modelId));
  const attemptController = new AbortController();
  const relay = () => attemptController.abort(input.signal.reason);
  input.signal.addEventListener("abort", relay, { once: true });
  const firstByte = timeouts.firstTokenMs ? setTimeout(() => attemptController.abort(new Error("timeout")), timeouts.firstTokenMs) : undefined;
  const headers = { ...forwardedHeaders(input.headers), ...authHeaders(model, auth) };
  let body: BodyInit | undefined;
  if (input.jsonBody) {
    headers["content-type"] = "application/json";
    body = JSON.stringify("model" in input.jsonBody ? { ...input.jsonBody, model: candidate.modelId } : input.jsonBody);
  } else if (input.rawBody instanceof Readable) {
    body = Readable.toWeb(input.rawBody) as BodyInit;
  } else if (Buffer.isBuffer(input.rawBody) || typeof input.rawBody === "string") {
    body = input.rawBody as BodyInit;
  }
  try {
    const response = await fetch(upstreamUrl(auth.baseUrl ?? model.baseUrl, input.path, input.query), {
      method: input.method, headers, body, signal: attemptController.signal, ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
    } as RequestInit);
    if (!isTargetFailure(response.status)) return { kind: "response", response, text: "", failure: makeFailure("unknown", "") };
    const text = (await response.text().catch(() => "")).slice(0, ERROR_BODY_LIMIT_CHARS);
    return { kind: "response", response, text, failure: classifyFailure({ stopReason: "error", errorMessage: `${response.status} ${text}` }, core.now()) };
  } catch (error) {
    if (input.signal.aborted) return { kind: "aborted" };
    const timedOut = attemptController.signal.aborted;
    const message = timedOut ? `Request timed out: no response from ${candidate.key} within ${timeouts.firstTokenMs} ms` : `${(error as Error).message}${(error as { cause?: { code?: string } }).cause?.code ? ` ${(error as { cause: { code: string } }).cause.code}` : ""}`;
    return { kind: "failed", failure: timedOut ? makeFailure("timeout", message) : classifyFailure({ stopReason: "error", errorMessage: message }, core.now()) };
  } finally {
    clearTimeout(firstByte);
    input.signal.removeEventListener("abort", relay);
  }
}

/** Sends the upstream's status and headers (the commit point), then streams its body to the client. */
async function commit(reply: FastifyReply, response: Response, routing: Record<string, string>): Promise<void> {
  reply.hijack();
  for (const [name, value] of response.headers) if (!DROPPED_RESPONSE_HEADERS.has(name)) reply.raw.setHeader(name, value);
  for (const [name, value] of Object.entries(routing)) reply.raw.setHeader(name, value);
  reply.raw.writeHead(response.status);
  if (!response.body) return void reply.raw.end();
  await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), reply.raw).catch(() => {
    // The client went away mid-download: the caller sees the aborted signal.
  });
}
