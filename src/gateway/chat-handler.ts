// One chat request through the engine, the same for every protocol: resolve the model name to a route, take the
// request's shortcuts and provider preferences, call the runtime's streamRoute (the function pi calls) with an
// abort signal tied to the client's connection, then answer in the client's protocol. The status and headers wait
// for the first event: it is either the committed answer or the router's final error.
import type { Api, AssistantMessage, Model } from "@mariozechner/pi-ai";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Readable } from "node:stream";
import type { Engine } from "../engine.ts";
import { markClientHistory } from "../runtime/client-history.ts";
import { streamRoute } from "../runtime/failover-stream.ts";
import { FALLBACK_CONTEXT_WINDOW, FALLBACK_MAX_TOKENS } from "../runtime/provider-models.ts";
import { type ClientContext, systemOnlyAsUserMessage } from "./client-messages.ts";
import type { ClientSettings } from "./client-settings.ts";
import { clientPrompt, takeShortcuts } from "./client-prompt.ts";
import { stripEarlierShortcuts } from "./earlier-shortcuts.ts";
import {
  committedErrorText,
  cutOffCategory,
  endToError,
  errorBody,
  GatewayError,
  GatewayShutdown,
  type Protocol,
  shutdownError,
} from "./errors.ts";
import { type DirectRoutes, noModelText, resolveModelName, unknownModelText } from "./model-names.ts";
import { gatewayPassthrough } from "./passthrough.ts";
import type { PassthroughDialect } from "./passthrough-scan.ts";
import { requestShortcuts } from "./provider-preferences.ts";
import { rawJsonBody } from "./raw-json-body.ts";
import { type AnswerEvent, isRefusal, refusedBy } from "./refusal.ts";
import { observingIssuedReasoning, type ReasoningIssuers } from "./reasoning-issuers.ts";
import { type InFlightRequests, RequestWatch } from "./request-watch.ts";
import { TextScrub } from "../state/secret-scan.ts";
import { redactText } from "../state/redact.ts";
import { zeroUsage } from "../runtime/zero-usage.ts";
import { StreamKeepAlive } from "./stream-keep-alive.ts";
import { SummarySeparators } from "./summary-separators.ts";
import { settingsCarrier } from "./target-settings.ts";
import { isDirectModel } from "../routing/direct-model.ts";

export interface GatewayCore {
  engine: Engine;
  directRoutes: DirectRoutes;
  now(): number;
  /** The routed requests in flight, which the drain ends. */
  inFlight: InFlightRequests;
  /** Which provider issued the encrypted reasoning items clients got, and which providers refused whose. */
  reasoningIssuers: ReasoningIssuers;
  /** Send a request unchanged to targets of its own API (routes file `gateway.passthrough`, default on). */
  passthrough(): boolean;
  /** How long a streamed answer may be silent before the client gets a keep-alive (0 = never). */
  keepAliveMs(): number;
  /** Writes one of the gateway's stderr lines (the access and error lines). */
  log(line: string): void;
}

/** What differs between protocols; everything else is shared. */
export interface ChatProtocol<Request> {
  protocol: Protocol;
  /** `headers`: the request's, for a check that reads one (Anthropic's interleaved-thinking beta). */
  parse(body: unknown, headers: FastifyRequest["headers"]): Request;
  /** The body's model; the X-Model header may name it instead. */
  model(request: Request): string | undefined;
  provider(request: Request): unknown;
  streaming(request: Request): boolean;
  toContext(request: Request, now: number): ClientContext;
  encoder(request: Request, model: string, now: number): { encode(event: AnswerEvent): string };
  /** What a silent stream sends its client now and then, which the client's parser passes over. */
  keepAlive: string;
  /** `refused`: the target refused (refusal.ts): the body says so in the protocol's own terms. */
  body(message: AssistantMessage, model: string, now: number, request: Request, refused: boolean): unknown;
  /**
   * Extra response headers this protocol sets for a request (e.g. the hosted tools a translation left out);
   * `sentAsIs`: a passthrough attempt serves, which sent the client's own body.
   */
  headers?(request: Request, sentAsIs: boolean): Record<string, string>;
  /** What the request asks for that pi-ai's context and options have no place for (tool choice, JSON mode, ...). */
  settings?(request: Request): ClientSettings;
  /** How a target of the same API is sent the client's own request (protocols without one are always translated). */
  passthrough?: PassthroughDialect;
  /** The encrypted content of the reasoning items the client sends back (Responses: every turn's, when stateless). */
  replayedReasoning?(request: Request): string[];
  /** The encrypted content of the reasoning items a translated answer hands the client. */
  issuedReasoning?(message: AssistantMessage): string[];
  /**
   * Valid content pi-ai's context has no place for, which only a target sent the client's own request can take
   * (`body.input[0].content[1].type: "input_file"`): a translation would lose it.
   */
  untranslatable?(request: Request): string[];
}

export function routerModel(routeId: string): Model<Api> {
  return {
    id: routeId,
    name: routeId,
    api: "auto-router",
    provider: "auto-router",
    baseUrl: "http://auto-router.invalid",
    reasoning: true,
    input: ["text", "image"],
    cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
    contextWindow: FALLBACK_CONTEXT_WINDOW,
    maxTokens: FALLBACK_MAX_TOKENS,
  };
}

const ROUTING_HEADERS = { "x-model": "X-Model", "x-provider": "X-Provider" } as const;

/**
 * A routing header's value (the chat endpoints' and the proxy's alike), undefined when it is not sent. Sent twice,
 * neither value can be taken for the other: two header lines (or an array) are refused, as are two values joined by
 * ", " (fetch, which the official clients use, sends two appended values as one line; no route or model has the
 * separator in its name; a joined X-Provider is told by its JSON, provider-preferences.ts). Sent empty (an unset
 * variable in a client's config), it is refused too: taken as absent, the body's model or preferences would serve
 * instead without a word.
 */
export const header = (request: FastifyRequest, name: keyof typeof ROUTING_HEADERS): string | undefined => {
  const value = request.headers[name];
  if (value === undefined) return undefined;
  const shown = ROUTING_HEADERS[name];
  const lines = request.raw.rawHeaders.filter((entry, index) => index % 2 === 0 && entry.toLowerCase() === name);
  if (typeof value !== "string" || lines.length > 1 || (name === "x-model" && value.includes(", ")))
    throw new GatewayError(400, "invalid_request", `${shown} header sent twice; send it once`);
  if (value === "")
    throw new GatewayError(
      400,
      "invalid_request",
      `${shown} header: empty; expected ${name === "x-model" ? "a route or a provider/model" : 'a JSON object of provider preferences, e.g. {"only": ["anthropic"]}'}, or leave the header out`,
    );
  return value;
};

/** Whether a request body is parsed JSON: a body of another content type arrives as text, bytes or a stream. */
export const isParsedJson = (body: unknown): body is Record<string, unknown> =>
  body !== null && typeof body === "object" && !Buffer.isBuffer(body) && !(body instanceof Readable);

/**
 * The request's JSON body: a body of another content type reaches the handlers as text or a stream, and a schema
 * error about it would blame the body's fields rather than its type.
 */
export function jsonBody(request: FastifyRequest): unknown {
  const body = request.body;
  if (isParsedJson(body)) return body;
  const type = request.headers["content-type"];
  // JSON, but not an object: `null`, a number or a string at the top.
  if (/json/i.test(type ?? "") && !Buffer.isBuffer(body) && !(body instanceof Readable))
    throw new GatewayError(
      400,
      "invalid_request",
      `request body: expected a JSON object, got ${body === null ? "null" : body === undefined ? "an empty body" : `a JSON ${typeof body}`}`,
    );
  throw new GatewayError(
    400,
    "invalid_request",
    `request body: expected a JSON object sent with \`Content-Type: application/json\`, got ${type ? `\`${type}\`` : "no Content-Type"}`,
  );
}

export function sendError(reply: FastifyReply, protocol: Protocol, error: GatewayError): FastifyReply {
  return reply
    .code(error.status)
    .headers(error.headers)
    .send(errorBody(protocol, error.category, error.message, error.fields));
}

/**
 * The model a request names (`X-Model` wins over the body's, and either is enough): a route, or a provider/model pi
 * knows. Anything else is a 404 naming the known routes, the same answer on every endpoint that takes a model; a
 * request that names none is a 400 naming both places.
 */
export function requestedModel(core: GatewayCore, request: FastifyRequest, bodyModel: string | undefined) {
  const fromHeader = header(request, "x-model");
  const names = core.engine.services.config.current; // the file's routes, not the one-target ones (DirectRoutes)
  const name = fromHeader ?? bodyModel;
  const registry = core.engine.runtime.registry();
  if (name === undefined) throw new GatewayError(400, "invalid_request", noModelText(names, registry));
  const choice = resolveModelName(name, names, registry);
  if (!choice)
    throw new GatewayError(404, "not_found", unknownModelText(name, names, registry, fromHeader ? "header" : "body"));
  return { name, choice };
}

export async function serveChat<Request>(
  core: GatewayCore,
  spec: ChatProtocol<Request>,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const now = core.now();
  const parsed = spec.parse(jsonBody(request), request.headers);
  const runtime = core.engine.runtime;
  const { name, choice } = requestedModel(core, request, spec.model(parsed));
  const routeId = choice.kind === "route" ? choice.routeId : core.directRoutes.add(choice.provider, choice.modelId);
  const { context, options, promptIndex } = spec.toContext(parsed, now);
  markClientHistory(context);
  const prompt = clientPrompt(context, promptIndex);
  systemOnlyAsUserMessage(context, now);
  // A mistyped shortcut sent as part of the prompt: the answer's headers say so, as pi's warning does.
  let shortcutWarning: string | undefined;
  const typed = takeShortcuts(context, promptIndex, (text) => void (shortcutWarning = text));
  stripEarlierShortcuts(context, promptIndex);
  const { shortcuts, openRouter } = requestShortcuts(typed, spec.provider(parsed), header(request, "x-provider"));
  const carrier = settingsCarrier(spec.settings?.(parsed), openRouter);

  const watch = new RequestWatch(core, reply, routeId);
  const routingHeaders = (): Record<string, string> => ({
    ...watch.routingHeaders(),
    ...spec.headers?.(parsed, passthrough?.committed === true),
    ...carrier?.headers(watch.servedKey),
    ...(shortcutWarning ? { "x-auto-router-warning": shortcutWarning } : {}),
  });
  // Shortcuts typed in the prompt change the request, so it is translated; otherwise a same-API target gets it as is.
  const passthrough =
    spec.passthrough && !typed && core.passthrough()
      ? gatewayPassthrough({
          dialect: spec.passthrough,
          registry: runtime.registry(),
          body: request.body as Record<string, unknown>,
          context,
          jsonBytes: rawJsonBody(request),
          query: request.url.includes("?") ? request.url.slice(request.url.indexOf("?")) : "",
          clientHeaders: request.headers,
          clientModel: name,
          reply,
          headers: routingHeaders,
          keepAlive: { text: spec.keepAlive, everyMs: core.keepAliveMs() },
          now: core.now,
          ...(carrier && openRouter ? { targetFields: carrier.sentAsIs } : {}),
          onIssuedReasoning: (issued, target) => core.reasoningIssuers.issued(issued, target.provider),
        })
      : undefined;
  const untranslatable = spec.untranslatable?.(parsed) ?? [];
  if (untranslatable.length > 0) {
    const ofClientApi = (target: { provider: string; modelId: string }) => {
      const model = runtime.registry()?.find(target.provider, target.modelId);
      return model?.api === spec.passthrough?.api ? model : undefined;
    };
    const sentAsIs = (target: { provider: string; modelId: string }) => {
      const model = ofClientApi(target);
      return model !== undefined && (spec.passthrough?.fits?.(model, request.body as never) ?? true);
    };
    const targets = runtime.config().routes[routeId]?.targets ?? [];
    // A `provider/model` request is one model, not a route of targets.
    const direct = isDirectModel(routeId);
    const why = !core.passthrough()
      ? "the routes file sets gateway.passthrough to false"
      : typed
        ? "a prompt shortcut has the request translated"
        : targets.some(ofClientApi)
          ? `what else the request carries has it translated (a hosted tool such as web_search, or a setting ${direct ? `model ${routeId}` : `route ${routeId}'s targets of the client's API (${spec.passthrough?.api})`} cannot be sent as is)`
          : direct
            ? `model ${routeId} is not of the client's API (${spec.passthrough?.api}): only a target of it is sent the request as is`
            : `route ${routeId} has no target of the client's API (${spec.passthrough?.api}) that is sent its request as is`;
    if (!passthrough || !targets.some(sentAsIs))
      throw new GatewayError(
        400,
        "invalid_request",
        `${untranslatable[0]} cannot be translated for a target of another API (${why})`,
      );
    // The targets that would be sent a translation are no options for this request.
    passthrough.serves = sentAsIs;
  }
  const stream = streamRoute(
    runtime,
    routerModel(routeId),
    context,
    { ...options, signal: watch.signal, ...(carrier ? { onPayload: carrier.onPayload } : {}) },
    {
      shortcuts,
      prompt,
      passthrough,
      observer: spec.issuedReasoning
        ? observingIssuedReasoning(watch.observer, core.reasoningIssuers, spec.issuedReasoning)
        : watch.observer,
      replayedReasoning:
        spec.replayedReasoning && core.reasoningIssuers.forRequest(() => spec.replayedReasoning!(parsed)),
      overHttp: true,
      holdsAnswer: !spec.streaming(parsed),
    },
  );
  /** The whole answer as one JSON body, scrubbed: an upstream that echoed its request must not hand the client its key. */
  const sendWhole = (message: AssistantMessage, headers: Record<string, string>, refused = false) =>
    void reply
      .code(200)
      .headers({ "content-type": "application/json; charset=utf-8", ...headers })
      .send(TextScrub.all(JSON.stringify(spec.body(message, name, core.now(), parsed, refused))));
  /** Opens the client's event stream; `write` encodes and scrubs each event, `end` ends it. */
  const openStream = (headers: Record<string, string>) => {
    reply.hijack();
    for (const [name, value] of Object.entries({
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      ...headers,
    }))
      reply.raw.setHeader(name, value);
    reply.raw.writeHead(200);
    const encoder = spec.encoder(parsed, name, core.now());
    const scrub = new TextScrub();
    const separators = new SummarySeparators();
    // pi-ai passes a target's pings on to nobody: an answer whose thinking does not stream its text is silent until
    // the block ends (the runtime waits for it: timeouts.thinkingStallMs).
    const keepAlive = new StreamKeepAlive(reply.raw, core.keepAliveMs(), () =>
      reply.raw.write(scrub.take(spec.keepAlive)),
    );
    const send = (event: AnswerEvent) => {
      keepAlive.wrote();
      reply.raw.write(scrub.take(encoder.encode(event)));
    };
    return {
      write: (event: AnswerEvent) => separators.pass(event, send),
      /**
       * An event the encoder could not write (an answer in a shape no target should send): the stream still ends with
       * its protocol's error, never open or without a terminal event, and the target is stopped.
       */
      broken: (error: unknown, answer: AssistantMessage | undefined) => {
        const why = `auto-router: the gateway could not write the answer of ${watch.servedKey ?? "the target"} (${redactText(error instanceof Error ? error.message : String(error))})`;
        watch.abandon(why);
        try {
          const message: AssistantMessage = {
            ...(answer ?? { role: "assistant", content: [], api: "", provider: "", model: "", usage: zeroUsage() }),
            stopReason: "error",
            errorMessage: why,
            timestamp: core.now(),
          };
          send({ type: "error", reason: "error", error: message });
        } catch {
          // The encoder cannot write its error either: the stream ends as it is.
        }
      },
      end: () => {
        keepAlive.stop();
        reply.raw.end(scrub.end());
      },
    };
  };
  try {
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    if (passthrough?.committed) return void (await stream.result()); // answered (or cut off) by the passthrough
    if (first.done || first.value.type === "error") {
      const message = await stream.result();
      if (watch.shutDown) throw shutdownError(routingHeaders());
      if (watch.signal.aborted) return void reply.hijack();
      const refusing = refusedBy(watch.end, watch.attempts);
      if (refusing === undefined)
        throw endToError(
          watch.end,
          message.errorMessage ?? "the router ended without an answer",
          core.now(),
          routingHeaders(),
        );
      // The target refused before its answer's commit point: the client's own refusal, with what the target wrote
      // (a held answer's text; a streamed one had none yet).
      watch.servedKey = refusing;
      watch.refused = true;
      const headers = routingHeaders();
      if (!spec.streaming(parsed)) return sendWhole(message, headers, true);
      const refused = { ...message, content: [] };
      const client = openStream(headers);
      client.write({ type: "start", partial: refused });
      client.write({ type: "refusal", message: refused });
      return client.end();
    }
    const headers = routingHeaders();
    if (!spec.streaming(parsed)) {
      const message = await stream.result();
      if (watch.shutDown) throw shutdownError(headers);
      // The runtime held the answer to its end (holdsAnswer): the client gets it whole, or the request failed over.
      if (watch.signal.aborted) return void reply.hijack();
      return sendWhole(message, headers);
    }
    const client = openStream(headers);
    let answer = "partial" in first.value ? first.value.partial : undefined;
    try {
      client.write(first.value);
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        const event = next.value;
        if ("partial" in event) answer = event.partial;
        if (watch.signal.aborted) {
          if (!watch.shutDown) break; // the client left
          // The drain deadline: the stream's own end (its aborted error event) reaches the client as an error.
          if (event.type !== "error") continue;
          const error = { ...event.error, stopReason: "error" as const, errorMessage: new GatewayShutdown().message };
          client.write({ type: "error", reason: "error", error });
          break;
        }
        if (event.type !== "error" || event.reason !== "error") {
          client.write(event);
          continue;
        }
        // The runtime has recorded why the answer was cut off once its stream ends (right after this event).
        await stream.result();
        watch.refused = isRefusal(watch.cutOff);
        if (watch.refused) client.write({ type: "refusal", message: event.error });
        else
          client.write({
            ...event,
            error: { ...event.error, errorMessage: committedErrorText(event.error.errorMessage, watch.servedKey) },
            category: cutOffCategory(watch.cutOff),
          });
      }
    } catch (error) {
      client.broken(error, answer);
    }
    client.end();
  } finally {
    watch.close();
  }
}
