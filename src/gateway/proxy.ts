// The wildcard proxy: any path no built-in handler serves goes to a target whose provider advertises that path
// prefix (`providers.<id>.endpointPrefixes`). It is a routed request like a chat request: the runtime's one failover
// loop decides, reserves, fails over, cools targets down and records every attempt; proxy-forward.ts only forwards
// the HTTP request of each attempt. JSON and text bodies are held (a JSON body's model is rewritten per target, see
// proxy-body.ts, and a failover resends them); a form upload without X-Model is read up to its `model` field, which
// routes it as a JSON body's model does (formToRoute; resent by a failover when that read it whole); any other body is
// streamed through once, so it gets one attempt. Answers are streamed back (one
// with a declared length of up to 1 MiB is read whole first, so that its length holds after the credential scrub).
import type { FastifyReply, FastifyRequest } from "fastify";
import { Readable } from "node:stream";
import { closestKey } from "../config/key-suggestions.ts";
import type { RouterConfig } from "../config/schema.ts";
import { mergePreferences } from "../routing/preferences.ts";
import { streamRoute } from "../runtime/failover-stream.ts";
import { header, routerModel, type GatewayCore } from "./chat-handler.ts";
import { errorLine } from "./access-log.ts";
import { advertisedPrefixes, advertises } from "./endpoint-prefixes.ts";
import { categoryOf, endToError, GatewayError, shutdownError } from "./errors.ts";
import { resolveModelName, unknownModelText } from "./model-names.ts";
import { requestShortcuts } from "./provider-preferences.ts";
import { settingsCarrier } from "./target-settings.ts";
import { type FailedAnswer, proxyPassthrough } from "./proxy-forward.ts";
import { checkProxiedPath, splitUrl } from "./proxy-path.ts";
import { firstAllowed, noModelTargets } from "./proxy-target.ts";
import { isDirectModel } from "../routing/direct-model.ts";
import { type ProxiedBody, proxiedBody } from "./proxy-body.ts";
import { decodesAsStream } from "./request-encoding.ts";
import {
  FormClientGone,
  multipartBoundary,
  type ReadForm,
  readCompressedFormModel,
  readFormModel,
} from "./multipart-model.ts";
import { RequestWatch } from "./request-watch.ts";
import { bodyTooLargeText, LimitedBody } from "./streamed-body.ts";

/** A 404 naming the path and the prefixes that are served; `routeId` when the client's route was the problem. */
function notServed(config: RouterConfig, method: string, path: string, routeId?: string): GatewayError {
  const served = [...advertisedPrefixes(config)].map(
    ([provider, prefixes]) => `${provider}: ${prefixes.length ? prefixes.join(", ") : "every path"}`,
  );
  const who =
    routeId === undefined
      ? "no provider advertises it"
      : isDirectModel(routeId)
        ? `the provider of model ${routeId} does not advertise it`
        : `no provider of route ${routeId} advertises it`;
  return new GatewayError(
    404,
    "no_endpoint",
    `no endpoint ${method} ${path}: ${who}; proxied prefixes: ${served.join("; ") || "(none: set providers.<id>.endpointPrefixes in the routes file)"}${ownEndpointMeant(method, path)}`,
  );
}

/** The gateway's own endpoints, which a client whose base URL is wrong by a `/v1` (or a typo) misses. */
const OWN_ENDPOINTS = [
  "POST /v1/messages",
  "POST /v1/messages/count_tokens",
  "POST /v1/chat/completions",
  "POST /v1/responses",
  "POST /v1/responses/input_tokens",
  "GET /v1/models",
  "GET /health/providers",
  "GET /healthz",
  "HEAD /healthz",
];

/** `/v1/responses/<id>` and what hangs below it (`/cancel`, `/input_items`), not the gateway's `input_tokens`. */
const STORED_RESPONSE_PATH = /^(?:\/v1)?\/responses\/(?!input_tokens$)[^/]+(?:\/[^/]+)?$/;

/**
 * A path that is one of the gateway's own endpoints but for a `/v1` too few or too many (a base URL of
 * `http://host:port` given to an OpenAI client, `http://host:port/v1` to an Anthropic one), or a letter or two off
 * one: said after the 404, which would otherwise point at `endpointPrefixes` only.
 */
export function ownEndpointMeant(method: string, path: string): string {
  const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  // The openai clients' responses.retrieve / delete / cancel / inputItems.list read a response back by its id.
  if (STORED_RESPONSE_PATH.test(trimmed))
    return ". The gateway keeps no responses, so none is read back, cancelled or deleted by its id: read the answer as it is sent, and send the whole conversation (not previous_response_id)";
  // The health check most services have: which of the two the gateway has is the operator's choice.
  if (trimmed === "/health" && ["GET", "HEAD"].includes(method.toUpperCase()))
    return ". The gateway's health endpoints are GET /healthz (liveness, no token) and GET /health/providers (whether the providers can serve)";
  const own = OWN_ENDPOINTS.filter((endpoint) => endpoint.startsWith(`${method.toUpperCase()} `));
  const served = (candidate: string) => own.find((endpoint) => endpoint === `${method.toUpperCase()} ${candidate}`);
  const withV1 = served(`/v1${trimmed}`);
  // The Anthropic SDKs add /v1 themselves: a `/messages` comes from a client that appends it to a base URL of its own.
  const who = withV1?.includes("/v1/messages")
    ? "a client that appends /messages to it; the Anthropic SDKs and ANTHROPIC_BASE_URL take http://<host>:<port>"
    : "the OpenAI clients";
  if (withV1)
    return `. The gateway serves ${withV1} itself: the client's base URL probably lacks /v1 (http://<host>:<port>/v1 for ${who})`;
  const withoutV1 = trimmed.startsWith("/v1/v1/") ? served(trimmed.slice(3)) : undefined;
  if (withoutV1)
    return `. The gateway serves ${withoutV1} itself: the client's base URL probably ends in /v1 already (http://<host>:<port> for the Anthropic clients and ANTHROPIC_BASE_URL)`;
  const near = closestKey(
    trimmed,
    own.map((endpoint) => endpoint.slice(endpoint.indexOf(" ") + 1)),
  );
  return near ? `. Did you mean ${method.toUpperCase()} ${near}, the gateway's own endpoint?` : "";
}

/**
 * The one attempt of a streamed body failed with an answer of the target's: its status and `retry-after` kept, the
 * message the runtime's (naming the targets not tried and why) followed by the target's own words, redacted.
 */
function notResentError(
  last: FailedAnswer,
  text: string | undefined,
  routingHeaders: Record<string, string>,
  redact: (text: string) => string,
): GatewayError {
  const words = redact((last.failure.providerMessage ?? last.failure.message).trim());
  const retryAfter = last.headers["retry-after"];
  return new GatewayError(
    last.status,
    categoryOf(last.status),
    `${text ?? `auto-router: ${last.target} failed`}. ${last.target} answered ${last.status}: ${words}`,
    {
      ...routingHeaders,
      ...(typeof retryAfter === "string" ? { "retry-after": retryAfter } : {}),
      "x-should-retry": last.failure.retryable ? "true" : "false",
    },
  );
}

/** A proxied request as read before it is routed. */
interface ProxiedRequest extends ProxiedBody {
  path: string;
  query: string;
  headerModel: string | undefined;
  /** A form read up to its model field (its request had no X-Model); `rawBody` is then the rest still to come. */
  form?: ReadForm;
}

/**
 * A form upload without X-Model (a transcription, an image edit) is routed by its own `model` field, as a JSON body is
 * by its model: read up to that field (multipart-model.ts; the official clients send it after the file), held up to
 * `gateway.bodyLimitBytes` as a JSON body is. A form sent compressed with one coding this Node decodes as a stream
 * (request-encoding.ts) is decoded to find that field (held as it came; decoded, it is held up to the same limit); one
 * with any other coding is sent on unread.
 * Undefined for any other body. "gone" when the client left first.
 */
async function formToRoute(request: FastifyRequest, rawBody: unknown): Promise<ReadForm | "gone" | undefined> {
  if (!(rawBody instanceof LimitedBody) || rawBody.tooLarge) return undefined;
  const encoding = request.headers["content-encoding"]?.trim().toLowerCase();
  if (encoding && encoding !== "identity" && !decodesAsStream(encoding)) return undefined;
  const boundary = multipartBoundary(request.headers["content-type"]);
  if (boundary === undefined) return undefined;
  try {
    return encoding && encoding !== "identity"
      ? await readCompressedFormModel(rawBody, boundary, request.raw, encoding, rawBody.limitBytes)
      : await readFormModel(rawBody, boundary, request.raw);
  } catch (error) {
    if (error instanceof FormClientGone) return "gone";
    if (rawBody.tooLarge) throw new GatewayError(413, "too_large", bodyTooLargeText(rawBody.limitBytes));
    throw error;
  }
}

export async function serveProxy(core: GatewayCore, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const { path, query } = splitUrl(request.url);
  checkProxiedPath(request.method, path);
  const read = proxiedBody(request);
  // Read (and checked) even when the body names the model, as on the chat endpoints.
  const headerModel = header(request, "x-model");
  const form = headerModel === undefined ? await formToRoute(request, read.rawBody) : undefined;
  if (form === "gone") return void reply.hijack(); // served nothing: its access line says no-answer
  // A form read up to its model field: the rest waits, unread; refused before it is sent on (an unknown model), it is
  // read and dropped by the error handler, as any refused upload is (server.ts).
  return forward(core, request, reply, {
    ...read,
    path,
    query,
    headerModel,
    ...(form ? { form, ...(form.whole ? { rawBody: undefined } : {}) } : {}),
  });
}

async function forward(
  core: GatewayCore,
  request: FastifyRequest,
  reply: FastifyReply,
  proxied: ProxiedRequest,
): Promise<void> {
  const runtime = core.engine.runtime;
  // Names resolve against the routes file; the runtime's config also holds the one-target routes made for
  // `provider/model` names (DirectRoutes), which are no names of their own.
  const config = core.engine.services.config.current;
  const body = request.body;
  const { path, query, jsonBody, jsonBytes, rawBody, unreadJson, headerModel, form } = proxied;
  if (form?.unreadable !== undefined)
    throw new GatewayError(
      400,
      "invalid_request",
      `request body: form field \`model\` could not be read to choose a target: ${form.unreadable}; name the route in the \`X-Model\` header`,
    );
  const formModel = form?.model?.value;
  const bodyModel = typeof jsonBody?.model === "string" ? jsonBody.model : formModel;
  const name = bodyModel ?? headerModel;
  if (name === undefined && unreadJson !== undefined)
    throw new GatewayError(
      400,
      "invalid_request",
      `request body: it begins like JSON, but ${unreadJson}, so its model could not be read to choose a target; send valid JSON with \`Content-Type: application/json\`, or name the route in the \`X-Model\` header`,
    );
  const { shortcuts, openRouter } = requestShortcuts(undefined, jsonBody?.provider, header(request, "x-provider"));
  // OpenRouter's own provider keys go to an OpenRouter target's body; another target's answer names them as ignored.
  const carrier = settingsCarrier(undefined, openRouter);

  let routeId: string;
  if (name !== undefined) {
    const choice = resolveModelName(name, config, runtime.registry());
    if (!choice) {
      // On a proxied path the body's model comes first: an X-Model sent beside it was not read, which the 404 says
      // (the official clients' embeddings and other calls always send a model).
      const unread =
        bodyModel !== undefined && headerModel !== undefined
          ? ` (the \`X-Model\` header ${JSON.stringify(headerModel)} was not read: on a proxied path the body's model comes first; name the route in the body's model)`
          : "";
      throw new GatewayError(
        404,
        "not_found",
        `${unknownModelText(name, config, runtime.registry(), formModel !== undefined ? "form" : bodyModel !== undefined ? "body" : "header")}${unread}`,
      );
    }
    routeId = choice.kind === "route" ? choice.routeId : core.directRoutes.add(choice.provider, choice.modelId);
  } else {
    const targets = noModelTargets(
      config,
      request.method,
      path,
      shortcuts.preferences,
      (provider, modelId) => runtime.registry()?.find(provider, modelId)?.cost,
    );
    if (!targets) throw notServed(config, request.method, path);
    // A POST asks for work any provider of the path can do (an embedding, a rerank, an upload): it fails over among
    // them. Any other method names a resource one provider holds (`GET /v1/files/<id>`): another's answer would be its
    // 404, so it goes to the first alone, resting where the routed requests rest it.
    routeId = core.directRoutes.addNoModel(request.method === "POST" ? targets : targets.slice(0, 1));
  }
  const prefixes = advertisedPrefixes(runtime.config());
  const routeTargets = runtime.config().routes[routeId]?.targets ?? [];
  const advertising = routeTargets.filter((target) => advertises(prefixes.get(target.provider), path));
  if (advertising.length === 0) throw notServed(config, request.method, path, name === undefined ? undefined : routeId);
  // As for a request without a model: any method but POST names a resource one provider holds, so a route's request
  // goes to its first target advertising the path alone (resting where the route rests it), never to another
  // provider's, whose answer would be its 404, or, for a DELETE, another account's resource.
  const onlyTarget =
    request.method === "POST"
      ? undefined
      : firstAllowed(
          advertising,
          mergePreferences({
            global: runtime.config().preferences,
            route: runtime.config().routes[routeId]?.preferences,
            prompt: shortcuts.preferences,
          }),
          runtime.currentFacts(),
        );

  if (body instanceof LimitedBody && body.tooLarge)
    throw new GatewayError(413, "too_large", bodyTooLargeText(body.limitBytes));
  // Held bodies (JSON, text, bytes) can be resent to another target; a stream is sent once.
  const replayable = !(rawBody instanceof Readable);
  // A request without a model shows no route of its own: its route is the targets advertising the path, and the
  // served-by header names the one that served.
  const shownRoute = name === undefined ? "(no-model)" : routeId;
  const watch = new RequestWatch(core, reply, shownRoute, () => passthrough.committedStatus);
  const passthrough = proxyPassthrough({
    method: request.method,
    path,
    query,
    headers: request.headers,
    jsonBody,
    modelNamed: name !== undefined,
    jsonBytes,
    rawBody,
    ...(form ? { form } : {}),
    prefixes,
    ...(onlyTarget === undefined ? {} : { onlyTarget }),
    reply,
    routingHeaders: () => ({ ...watch.routingHeaders(), ...carrier?.headers(watch.servedKey) }),
    ...(carrier ? { targetFields: carrier.sentAsIs } : {}),
    redact: (text) => runtime.redact(text),
    now: core.now,
  });
  const now = core.now();
  const stream = streamRoute(
    runtime,
    routerModel(routeId),
    { messages: [{ role: "user", content: `${request.method} ${path}`, timestamp: now }] },
    { signal: watch.signal },
    {
      shortcuts,
      prompt: null,
      passthrough,
      ...(replayable ? {} : { maxAttempts: 1, sentOnce: { what: "the upload", why: "a streamed body is sent once" } }),
      note: `proxied ${request.method} ${path}`,
      observer: watch.observer,
      overHttp: true,
    },
  );
  try {
    const message = await stream.result();
    // A 404 or 5xx passed back gets an error line, as the gateway's own do: the target answered it.
    const logAnswer = (status: number, why: string) =>
      (status === 404 || status >= 500) && core.log(errorLine(request, why));
    const committed = passthrough.committedStatus;
    if (committed !== undefined) {
      logAnswer(committed, `the target ${watch.servedKey} answered ${committed}`);
      return; // answered (and streamed) by the target
    }
    if (body instanceof LimitedBody && body.tooLarge)
      throw new GatewayError(413, "too_large", bodyTooLargeText(body.limitBytes), watch.routingHeaders());
    // Ended by the drain before any answer (waiting for a resting target, or at the deadline): told so, as a chat
    // request is.
    if (watch.shutDown) throw shutdownError(watch.routingHeaders());
    if (watch.signal.aborted) return void reply.hijack();
    const last = passthrough.lastFailedAnswer;
    // A streamed body went to its one target only: its answer is no "every target failed", so the error says which
    // targets the body could not be resent to (the runtime's text), with the target's own answer after it.
    if (last && watch.end?.notResent?.length)
      throw notResentError(last, message.errorMessage, watch.routingHeaders(), (text) => runtime.redact(text));
    if (last) {
      logAnswer(last.status, `every target failed; passed back: ${last.target}'s ${last.failure.message}`);
      // The last upstream answer, passed through as it was (never masked), when no target could do better: its
      // headers too (a 429's retry-after), redacted as every header passed back.
      reply
        .code(last.status)
        .headers({
          ...last.headers,
          ...watch.routingHeaders(),
          "x-should-retry": last.failure.retryable ? "true" : "false",
        })
        .send(runtime.redact(last.text));
      return;
    }
    throw endToError(
      watch.end,
      message.errorMessage ?? "the router ended without an answer",
      core.now(),
      watch.routingHeaders(),
    );
  } finally {
    watch.close();
  }
}
