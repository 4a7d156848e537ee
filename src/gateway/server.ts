// The HTTP server: fastify (body limit, timeouts, no request logging of its own), the gateway token on every
// request, a concurrency cap, and a route table. Issue-13 style additions (a /v1/responses handler, a wildcard
// proxy in the not-found slot) are one more entry in ROUTES or a replacement of the not-found handler.
import { Readable } from "node:stream";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Engine } from "../engine.ts";
import { CHARACTERS_PER_TOKEN, estimateTokens, IMAGE_TOKENS } from "../routing/context-estimate.ts";
import { errorLine, logAccess } from "./access-log.ts";
import { trackConnections } from "./drain-connections.ts";
import {
  anthropicCountTokensSchema,
  anthropicToContext,
  leftOutOfTranslation,
  interleavedThinking,
  parseAnthropicRequest,
} from "./anthropic-request.ts";
import { jsonBody, requestedModel, sendError, serveChat, type ChatProtocol, type GatewayCore } from "./chat-handler.ts";
import { ReasoningIssuers } from "./reasoning-issuers.ts";
import { GatewayError, type Protocol, shutdownError } from "./errors.ts";
import { asClientReads } from "./client-quirks.ts";
import { clientErrorHandler } from "./client-error.ts";
import { providersHealth } from "./health-endpoint.ts";
import { serveProxy } from "./proxy.ts";
import { keepRawJsonBodies } from "./raw-json-body.ts";
import { InFlightRequests } from "./request-watch.ts";
import { bodyTooLargeText, drainedBody, streamedBody } from "./streamed-body.ts";
import {
  modelList,
  modelObject,
  type ModelPageQuery,
  resolveModelName,
  unknownModelText,
  type DirectRoutes,
} from "./model-names.ts";
import { isObject } from "../is-object.ts";
import { plural } from "../analytics/text-format.ts";
import { ANTHROPIC_MESSAGES, OPENAI_CHAT, OPENAI_RESPONSES } from "./protocols.ts";
import { parseResponsesRequest, responsesToContext } from "./responses-request.ts";
import { presentedTokens, tokenMatcher } from "./token.ts";
import { DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_KEEP_ALIVE_MS } from "../config/gateway-schema.ts";

export const DEFAULT_MAX_CONCURRENT_REQUESTS = 64;
export const DEFAULT_BODY_LIMIT_BYTES = 32 * 1024 * 1024;
export { DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_KEEP_ALIVE_MS };
export const DEFAULT_HEADERS_TIMEOUT_MS = 30_000;
/** How often Node looks for clients past their headers timeout. */
const HEADERS_CHECK_INTERVAL_MS = 1_000;
export const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
/**
 * The settings startGateway reads once: an edit of one takes effect after a restart of the gateway (fastify builds
 * its body parsers with the limit). The timeouts follow edits (serverTimeouts).
 */
export const GATEWAY_START_SETTINGS = ["gateway.bodyLimitBytes"];
/** After the drain deadline, how long the requests it ended have to write their error before connections close. */
const SHUTDOWN_WRITE_GRACE_MS = 1_000;
/** While draining, how often connections whose last request has finished are closed. */
const DRAIN_IDLE_SWEEP_MS = 100;

export interface GatewayOptions {
  engine: Engine;
  /** The one-target routes the engine's config was derived with (see DirectRoutes). */
  directRoutes: DirectRoutes;
  token: string;
  host: string;
  port: number;
  /** Where one line per request goes (method, path, status, route, served-by; never headers or bodies). */
  log?: (line: string) => void;
}

export interface Gateway {
  url: string;
  port: number;
  /**
   * Applies an edit of the routes file's timeouts (headersTimeoutMs, idleTimeoutMs): from now on for the headers
   * check, for every answer's keep-alive and for each connection's next request (and every new connection).
   */
  followEdits(): void;
  /** Stops accepting, lets in-flight requests finish up to the drain deadline, then cuts the rest. */
  close(drainMs?: number): Promise<void>;
}

export const LIVENESS_PATH = "/healthz";

/**
 * The error shape a request is answered in: each endpoint's own API's (Anthropic's for /v1/messages, OpenAI's for
 * /v1/chat/completions and /v1/responses); on any other path (/v1/models, which both APIs' clients read, a path a wrong
 * base URL makes, the wildcard proxy's) Anthropic's when the client sends Anthropic's version header, as the Anthropic
 * SDK and Claude Code always do, else OpenAI's.
 */
const protocolFor = (request: FastifyRequest): Protocol => {
  if (request.url.startsWith("/v1/messages")) return "anthropic";
  if (request.url.startsWith("/v1/chat/completions") || request.url.startsWith("/v1/responses")) return "openai";
  return request.headers["anthropic-version"] !== undefined ? "anthropic" : "openai";
};

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

let active = 0;

/** At most `limit()` requests are served at once across every endpoint; the next gets 503 with Retry-After. */
function limited(limit: () => number, handler: Handler): Handler {
  return async (request, reply) => {
    const maximum = limit();
    if (active >= maximum)
      throw new GatewayError(
        503,
        "overloaded",
        `the gateway is serving its maximum of ${plural(maximum, "request")}; retry shortly`,
        { "retry-after": "1", "x-should-retry": "true" },
      );
    active += 1;
    try {
      await handler(request, reply);
    } finally {
      active -= 1;
    }
  };
}

function routes(
  core: GatewayCore,
  limit: () => number,
): Array<{ method: "GET" | "POST"; url: string; handler: Handler }> {
  const chat = <R>(spec: ChatProtocol<R>): Handler =>
    limited(limit, (request, reply) => serveChat(core, spec, request, reply));
  return [
    { method: "POST", url: "/v1/messages", handler: chat(ANTHROPIC_MESSAGES) },
    { method: "POST", url: "/v1/chat/completions", handler: chat(OPENAI_CHAT) },
    { method: "POST", url: "/v1/responses", handler: chat(OPENAI_RESPONSES) },
    {
      method: "POST",
      url: "/v1/messages/count_tokens",
      handler: async (request) => {
        const parsed = parseAnthropicRequest(
          jsonBody(request),
          anthropicCountTokensSchema,
          interleavedThinking(request.headers),
        );
        requestedModel(core, request, parsed.model); // an unknown model is a 404, as for /v1/messages
        const leftOut = leftOutOfTranslation(parsed);
        return {
          input_tokens:
            estimateTokens(anthropicToContext(parsed, core.now()).context) +
            Math.ceil(leftOut.characters / CHARACTERS_PER_TOKEN) +
            leftOut.images * IMAGE_TOKENS,
        };
      },
    },
    {
      // OpenAI's count for a Responses request (`client.responses.inputTokens.count`), the same estimate; `input` and
      // `model` may be left out there. Input pi-ai has no form for (an `input_file`) is not counted.
      method: "POST",
      url: "/v1/responses/input_tokens",
      handler: async (request) => {
        const body = jsonBody(request);
        const parsed = parseResponsesRequest(
          isObject(body) && body.input === undefined ? { ...body, input: [] } : body,
        );
        if (parsed.model !== undefined) requestedModel(core, request, parsed.model); // a model no request could use: 404
        return {
          object: "response.input_tokens",
          input_tokens: estimateTokens(responsesToContext(parsed, core.now()).context),
        };
      },
    },
    {
      method: "GET",
      url: "/v1/models",
      // Anthropic's page (limit, after_id, before_id) for an Anthropic client; OpenAI's list has no paging.
      handler: async (request) =>
        modelList(
          core.engine.services.config.current,
          protocolFor(request) === "anthropic" ? (request.query as ModelPageQuery) : {},
          core.engine.runtime.registry(),
        ),
    },
    {
      // OpenAI's retrieve: any name a request may use (`auto-router/<route>` and `provider/model` have a slash, hence
      // the wildcard): the listed ones, gateway.models names, route ids and the models pi knows.
      method: "GET",
      url: "/v1/models/*",
      handler: async (request) => {
        const id = decodeURIComponent((request.params as { "*": string })["*"]);
        const config = core.engine.services.config.current;
        // `GET /v1/models/` (a base URL's trailing slash): the list, as without the slash.
        const registry = core.engine.runtime.registry();
        if (id === "")
          return modelList(
            config,
            protocolFor(request) === "anthropic" ? (request.query as ModelPageQuery) : {},
            registry,
          );
        if (!resolveModelName(id, config, registry))
          throw new GatewayError(404, "not_found", unknownModelText(id, config, registry));
        return modelObject(id);
      },
    },
    {
      method: "GET",
      url: "/health/providers",
      handler: async (request, reply) => {
        const report = await providersHealth(core.engine, probeAsked((request.query as Record<string, unknown>).probe));
        return reply.code(report.ok ? 200 : 503).send(report);
      },
    },
  ];
}

/**
 * `?probe=1` (`true`, `yes`, or a bare `?probe`) probes now; `0`, `false`, `no` or none does not. Any other value is a
 * 400: it was read as no probe, and a monitor configured with `?probe=on` got a report without the probes it asked for.
 */
function probeAsked(value: unknown): boolean {
  if (value === undefined) return false;
  const text = String(value).trim().toLowerCase();
  if (["1", "true", "yes", ""].includes(text)) return true;
  if (["0", "false", "no"].includes(text)) return false;
  throw new GatewayError(
    400,
    "invalid_request",
    `query.probe: expected 1 (probe the providers now) or 0, got ${JSON.stringify(String(value))}`,
  );
}

function errorReply(error: unknown, bodyLimitBytes: number): GatewayError {
  if (error instanceof GatewayError) return error;
  const fastifyError = error as { code?: string; statusCode?: number; message?: string };
  if (fastifyError.code === "FST_ERR_CTP_BODY_TOO_LARGE")
    return new GatewayError(413, "too_large", bodyTooLargeText(bodyLimitBytes));
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new GatewayError(
      fastifyError.statusCode,
      "invalid_request",
      `request body: ${fastifyError.message ?? "invalid"}`,
    );
  }
  return new GatewayError(500, "api_error", `internal error: ${fastifyError.message ?? String(error)}`);
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { engine } = options;
  const settings = () => engine.runtime.config().gateway ?? {};
  const log = options.log ?? (() => {});
  const core: GatewayCore = {
    engine,
    directRoutes: options.directRoutes,
    now: () => engine.runtime.now(),
    inFlight: new InFlightRequests(),
    reasoningIssuers: new ReasoningIssuers(),
    passthrough: () => settings().passthrough !== false,
    keepAliveMs: () => settings().keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS,
    log,
  };
  const bodyLimitBytes = settings().bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const { headersTimeoutMs, idleTimeoutMs } = serverTimeouts(settings());
  const app: FastifyInstance = Fastify({
    logger: false,
    bodyLimit: bodyLimitBytes,
    // No traffic either way for this long closes the connection: while a request is sent or answered
    // (connectionTimeout; not while its answer is awaited, see idleOutsideTheWait) and between a kept-alive
    // connection's requests (keepAliveTimeout, else Node's 72 s whatever the setting).
    connectionTimeout: idleTimeoutMs,
    keepAliveTimeout: idleTimeoutMs,
    forceCloseConnections: "idle",
    // Fastify's own 503 for a request during the close is a bare JSON of its own, with no Retry-After and no access
    // line: the gateway answers such a request itself (below).
    return503OnClosing: false,
    // Node checks the headers timeout of incomplete requests only every connectionsCheckingInterval (30 s by
    // default): a client given 5 s could hold its connection for 35. Checked every second, it is cut within a second.
    http: { connectionsCheckingInterval: Math.min(HEADERS_CHECK_INTERVAL_MS, headersTimeoutMs) },
    // Headers too large, too slow or malformed: answered in the gateway's error shape, with a log line.
    clientErrorHandler: clientErrorHandler(log),
  });
  app.server.headersTimeout = headersTimeoutMs;
  const connections = trackConnections(app.server);

  logAccess(app, log);
  app.addHook("preHandler", (request, reply, done) => {
    idleOutsideTheWait(request.raw, reply.raw);
    done();
  });
  let draining = false;
  // A request that arrives once the drain began (on a connection still open: kept alive, or accepted as the listener
  // closed) is served nothing: the client gets the shutdown error in its own format with Retry-After, the error and
  // access lines are written as for any answer, and the connection closes after it.
  app.addHook("onRequest", (_request, _reply, done) => {
    done(draining ? shutdownError({ connection: "close" }) : undefined);
  });
  const tokenMatches = tokenMatcher(options.token);
  // Liveness for a load balancer, Docker or Kubernetes probe: the process serves. It needs no token and says nothing
  // more (the providers' health is /health/providers, behind the token); once the gateway drains, its listener is
  // closed (a probe is refused) and a request on a connection still open gets 503.
  app.get(LIVENESS_PATH, async () => ({ status: "ok" }));
  app.addHook("onRequest", async (request, reply) => {
    // HEAD too: uptime checkers and `curl -I` probe with it (fastify answers it from the GET route).
    if (request.routeOptions.url === LIVENESS_PATH && (request.method === "GET" || request.method === "HEAD")) return;
    // Each presented token is compared in constant time; one match is enough.
    if (presentedTokens(request.headers).some(tokenMatches)) return;
    return sendError(
      reply,
      protocolFor(request),
      new GatewayError(
        401,
        "authentication",
        // Worded so that the redaction every error text passes leaves it whole (a header example would be a credential).
        "missing or wrong gateway token: send it in the `Authorization` header with the Bearer scheme, or in the `x-api-key` header",
      ),
    );
  });
  app.setErrorHandler(async (error, request, reply) => {
    const answer = asClientReads(errorReply(error, bodyLimitBytes), request.headers);
    // Unknown model names are logged too: they are how an operator finds the ids a client sends (gateway.models); so
    // is every other refusal but a wrong token's (its reason is always the same): a client such as Claude Code shows
    // its own words for a 400 (a prompt longer than every target's window), not the gateway's.
    if (answer.status >= 400 && answer.status !== 401) log(errorLine(request, answer.message));
    if (reply.sent || reply.raw.headersSent) return;
    // A refused upload (too large, or a streamed body refused before it was sent on: a model nothing answers to, a
    // path no provider serves) is read to its end first, so that the client (still sending it) gets the answer; once
    // it has been, the connection can serve the client's next request (fastify marks it to close on any body error).
    if (answer.status === 413 || !request.raw.complete) {
      if (request.body instanceof Readable) request.body.resume();
      await drainedBody(request.raw);
      if (request.raw.complete) reply.removeHeader("connection");
    }
    return sendError(reply, protocolFor(request), answer);
  });
  keepRawJsonBodies(app, bodyLimitBytes);
  // Bodies of other types (file uploads, form posts) reach the wildcard proxy as a stream, forwarded unbuffered.
  app.addContentTypeParser("*", (request, payload, done) =>
    streamedBody(request, payload, bodyLimitBytes, (body) => done(null, body)),
  );
  // Any other path: the wildcard proxy, under the same token and concurrency cap as the built-in endpoints.
  app.setNotFoundHandler(
    limited(
      () => settings().maxConcurrentRequests ?? DEFAULT_MAX_CONCURRENT_REQUESTS,
      (request, reply) => serveProxy(core, request, reply),
    ),
  );
  for (const route of routes(core, () => settings().maxConcurrentRequests ?? DEFAULT_MAX_CONCURRENT_REQUESTS))
    app.route(route);

  await app.listen({ host: options.host, port: options.port });
  const address = app.server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    followEdits() {
      const edited = serverTimeouts(settings());
      app.server.headersTimeout = edited.headersTimeoutMs;
      app.server.keepAliveTimeout = edited.idleTimeoutMs;
      app.server.setTimeout(edited.idleTimeoutMs);
    },
    async close(drainMs = settings().drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS) {
      // At the deadline each request still in flight ends with an error its client may retry (a stream's error
      // event, or a 503); the connections still open a moment later are closed.
      let lastCut: ReturnType<typeof setTimeout> | undefined;
      draining = true;
      core.inFlight.drain();
      // A kept-alive connection whose request finishes during the drain, or one a client opened and never used, would
      // otherwise hold the close open until the deadline: each is closed once it has no request under way.
      connections.closeUnused();
      const sweep = setInterval(() => connections.closeUnused(), DRAIN_IDLE_SWEEP_MS);
      const deadline = setTimeout(() => {
        log(
          `drain deadline (gateway.drainTimeoutMs ${drainMs} ms) reached: ending ${plural(core.inFlight.size, "request")} still in flight, then closing every connection`,
        );
        core.inFlight.endAll();
        lastCut = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_WRITE_GRACE_MS);
      }, drainMs);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
        clearTimeout(deadline);
        clearTimeout(lastCut);
      }
    },
  };
}

/** The routes file's `gateway.headersTimeoutMs` and `gateway.idleTimeoutMs`, or their defaults. */
function serverTimeouts(settings: { headersTimeoutMs?: number; idleTimeoutMs?: number }) {
  return {
    headersTimeoutMs: settings.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
    idleTimeoutMs: settings.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
  };
}

/**
 * The idle timeout spares the wait for an answer: once the client has sent its whole request and until the answer
 * starts, the silence is the target's (a non-streaming answer of a slow model takes minutes before its first byte),
 * which the route's timeouts govern, and the client's own timeout. A client still sending its request, or an answer
 * that started and then stalled (a client that stopped reading it, a target silent mid-stream), is cut as before.
 * Node's socket timer fires again only after new traffic, and arms keepAliveTimeout once the answer ends.
 */
function idleOutsideTheWait(request: IncomingMessage, response: ServerResponse): void {
  // With a listener here Node leaves the socket to it (http's socketOnTimeout) instead of destroying it.
  response.on("timeout", (socket: Socket) => {
    if (request.complete && !response.headersSent) return;
    socket.destroy();
  });
}
