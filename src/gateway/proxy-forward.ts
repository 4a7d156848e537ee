// One forwarding attempt of the wildcard proxy: the target's URL and credentials, the client's headers without
// hop-by-hop and client-auth ones, the JSON body with the target's model id (or the raw body streamed once), a
// first-byte timeout; then, once a target answers acceptably, the commit: its status and headers, its body streamed.
import type { Api, Model } from "@mariozechner/pi-ai";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Candidate } from "../routing/types.ts";
import { classifyFailure, type Failure, makeFailure } from "../runtime/classify-failure.ts";
import { findTarget, targetTimeouts } from "../runtime/route-settings.ts";
import type { GatewayCore } from "./chat-handler.ts";
import { authHeaders, forwardedHeaders } from "./upstream-headers.ts";

const DROPPED_RESPONSE_HEADERS = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "content-encoding",
]);
const ERROR_BODY_LIMIT_CHARS = 4_000;

/** Statuses that say the target, not the request, is the problem: classified, and failed over when policy says so. */
export const isTargetFailure = (status: number) => status === 408 || status === 429 || status >= 500;

/** The target's base URL and the client's path, without a doubled /v1. */
export function upstreamUrl(baseUrl: string, path: string, query: string): string {
  const base = baseUrl.replace(/\/+$/, "");
  const tail = base.endsWith("/v1") && (path === "/v1" || path.startsWith("/v1/")) ? path.slice(3) : path;
  return `${base}${tail}${query}`;
}

export type ForwardResult =
  | { kind: "response"; response: Response; text: string; failure: Failure }
  | { kind: "failed"; failure: Failure }
  | { kind: "aborted" };

export interface ForwardInput {
  method: string;
  path: string;
  query: string;
  headers: FastifyRequest["headers"];
  jsonBody: Record<string, unknown> | undefined;
  rawBody: unknown;
  routeId: string;
  signal: AbortSignal;
}

function upstreamBody(input: ForwardInput, modelId: string, headers: Record<string, string>): BodyInit | undefined {
  if (input.jsonBody) {
    headers["content-type"] = "application/json";
    return JSON.stringify("model" in input.jsonBody ? { ...input.jsonBody, model: modelId } : input.jsonBody);
  }
  if (input.rawBody instanceof Readable) return Readable.toWeb(input.rawBody) as BodyInit;
  if (Buffer.isBuffer(input.rawBody) || typeof input.rawBody === "string") return input.rawBody as BodyInit;
  return undefined;
}

const errorText = (error: unknown) => {
  const code = (error as { cause?: { code?: string } }).cause?.code;
  return `${(error as Error).message}${code ? ` ${code}` : ""}`;
};

/** Sends the request to one target; an answer whose status blames the target carries its classified failure. */
export async function forwardAttempt(
  core: GatewayCore,
  candidate: Candidate,
  model: Model<Api>,
  input: ForwardInput,
): Promise<ForwardResult> {
  const runtime = core.engine.runtime;
  const auth = await runtime
    .registry()!
    .getApiKeyAndHeaders(model)
    .catch((error: unknown) => ({ ok: false as const, error: String(error) }));
  if (!auth.ok)
    return { kind: "failed", failure: classifyFailure({ stopReason: "error", errorMessage: auth.error }, core.now()) };
  const config = runtime.config();
  const timeouts = targetTimeouts(
    config,
    input.routeId,
    findTarget(config, input.routeId, candidate.provider, candidate.modelId),
  );
  const attemptController = new AbortController();
  const relay = () => attemptController.abort(input.signal.reason);
  input.signal.addEventListener("abort", relay, { once: true });
  const firstByte = timeouts.firstTokenMs
    ? setTimeout(() => attemptController.abort(new Error("timeout")), timeouts.firstTokenMs)
    : undefined;
  const headers = { ...forwardedHeaders(input.headers), ...authHeaders(model, auth) };
  const body = upstreamBody(input, candidate.modelId, headers);
  try {
    const response = await fetch(upstreamUrl(auth.baseUrl ?? model.baseUrl, input.path, input.query), {
      method: input.method,
      headers,
      body,
      signal: attemptController.signal,
      ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
    } as RequestInit);
    if (!isTargetFailure(response.status))
      return { kind: "response", response, text: "", failure: makeFailure("unknown", "") };
    const text = (await response.text().catch(() => "")).slice(0, ERROR_BODY_LIMIT_CHARS);
    const failure = classifyFailure({ stopReason: "error", errorMessage: `${response.status} ${text}` }, core.now());
    return { kind: "response", response, text, failure };
  } catch (error) {
    if (input.signal.aborted) return { kind: "aborted" };
    if (attemptController.signal.aborted) {
      return {
        kind: "failed",
        failure: makeFailure(
          "timeout",
          `Request timed out: no response from ${candidate.key} within ${timeouts.firstTokenMs} ms`,
        ),
      };
    }
    return {
      kind: "failed",
      failure: classifyFailure({ stopReason: "error", errorMessage: errorText(error) }, core.now()),
    };
  } finally {
    clearTimeout(firstByte);
    input.signal.removeEventListener("abort", relay);
  }
}

/** Sends the upstream's status and headers (the commit point), then streams its body to the client. */
export async function commitResponse(
  reply: FastifyReply,
  response: Response,
  routing: Record<string, string>,
): Promise<void> {
  reply.hijack();
  for (const [name, value] of response.headers)
    if (!DROPPED_RESPONSE_HEADERS.has(name)) reply.raw.setHeader(name, value);
  for (const [name, value] of Object.entries(routing)) reply.raw.setHeader(name, value);
  reply.raw.writeHead(response.status);
  if (!response.body) return void reply.raw.end();
  await pipeline(Readable.fromWeb(response.body as import("node:stream/web").ReadableStream), reply.raw).catch(() => {
    // The client went away mid-download: the caller sees the aborted signal.
  });
}
