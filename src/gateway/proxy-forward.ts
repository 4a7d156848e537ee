// The wildcard proxy's attempts, run inside the runtime's one failover loop as a passthrough (route-request.ts,
// TargetPassthrough): only targets whose provider advertises the path are considered; each attempt sends the
// client's request to the target's URL with its credentials, the client's headers without hop-by-hop and
// client-auth ones, the JSON body with the target's model id and a pinned OpenRouter target's pin (or the raw body
// streamed once). A status that blames the target (408, 429, 5xx), a network error or no response in time fails
// over; any other answer is the commit point: its status and headers go to the client and its body is streamed
// through as it comes (a client error's body is read whole and redacted first, and so is a body with a declared
// length of up to 1 MiB, sent with the length it has after the credential scrub: answerLength). The answer's usage
// record (a JSON document's, or a stream's last events') is read from the bytes forwarded as they pass, in bounded
// memory, and booked as the attempt's usage (proxy-usage-stream.ts), with the answer's id, by which the runtime pins
// an OpenRouter target's upstream.
import type { Api, Model } from "@mariozechner/pi-ai";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Readable } from "node:stream";
import zlib from "node:zlib";
import { pipeline } from "node:stream/promises";
import { pipeline as streamPipeline } from "node:stream";
import type { AttemptOutcome } from "../runtime/attempt.ts";
import { classifyFailure, makeFailure, type Failure } from "../runtime/classify-failure.ts";
import type { PassthroughAttempt, TargetPassthrough } from "../runtime/route-request.ts";
import { patchPin, pinnedProvider } from "../runtime/upstream-pin.ts";
import { redactKeys } from "../state/redact.ts";
import { rememberedCredentialValues } from "../state/remembered-credentials.ts";
import { answerState } from "./access-log.ts";
import { servingPath } from "./endpoint-prefixes.ts";
import { editJson } from "./json-edit.ts";
import { SecretScrub } from "./secret-scrub.ts";
import { LimitedBody } from "./streamed-body.ts";
import { MultipartModelRewrite, multipartBoundary, type ReadForm } from "./multipart-model.ts";
import { streamDecoder } from "./request-encoding.ts";
import { proxiedAnswerMessage, type UsageReader } from "./proxy-usage.ts";
import { usageReader } from "./proxy-usage-stream.ts";
import { authHeaders, forwardedHeaders } from "./upstream-headers.ts";

/**
 * Never passed back as they came: hop-by-hop, and the framing fetch undid (it decodes a content-encoding it knows:
 * fetchDecoded). The content-length is set again by the answer itself where it still holds (answerLength).
 */
const DROPPED_RESPONSE_HEADERS = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "upgrade",
  "te",
  "trailer",
  "transfer-encoding",
  "content-length",
  "content-encoding",
]);

/** The codings the running Node's fetch (undici) decodes; zstd from undici 7 on, where zlib has it. */
const DECODED_CODINGS = new Set(["gzip", "x-gzip", "deflate", "br"]);
if (
  Number(process.versions.undici?.split(".")[0]) >= 7 &&
  typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === "function"
)
  DECODED_CODINGS.add("zstd");
/** Statuses whose answer has no body, which fetch leaves as they are. */
const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * Whether fetch handed the body over decoded, so that its `Content-Encoding` no longer holds: it decodes a list of
 * codings only when it knows every one (an upstream's `zstd` or `compress` reaches the client as it was sent, and keeps
 * its header), and never the answer to a HEAD or a bodyless status.
 */
export function fetchDecoded(method: string, status: number, encoding: string | null): boolean {
  if (!encoding || method === "HEAD" || NULL_BODY_STATUS.has(status)) return false;
  return encoding
    .toLowerCase()
    .split(",")
    .every((coding) => DECODED_CODINGS.has(coding.trim()));
}

/** The headers the upstream's `Connection` names: hop-by-hop for this one connection (RFC 9110 7.6.1). */
const connectionNamed = (response: Response): Set<string> | undefined => {
  const connection = response.headers.get("connection");
  if (!connection) return undefined;
  return new Set(connection.split(",").map((name) => name.trim().toLowerCase()));
};
/** `application/json` and `application/<x>+json`, with or without parameters. */
const JSON_MEDIA_TYPE = /^\s*application\/(?:[\w.!#$&^-]+\+)?json\s*(?:;|$)/i;

/**
 * The largest answer read whole so that its content-length can be kept while credentials are scrubbed out of it
 * (answerLength); a longer one is streamed through without a length, as it comes.
 */
export const LENGTH_KEPT_BYTES = 1024 * 1024;
const ERROR_BODY_LIMIT_CHARS = 4_000;
/** A client error's body up to this size is read whole and redacted before it is passed back (sendErrorAnswer). */
const ERROR_ANSWER_WHOLE_BYTES = 256 * 1024;

/**
 * Statuses that say the target, not the request, is the problem: classified, and failed over when policy says so. A
 * 401 is the router's own key refused (the client's credentials never reach a target) and a 402 the account's credit
 * used up: the target rests, on every route naming it, with a warning for the key, as on the chat endpoints. A 403
 * stays the target's answer: on a proxied path it may be the resource's (a file of another organisation), not the key's.
 */
const isTargetFailure = (status: number) =>
  status === 401 || status === 402 || status === 408 || status === 429 || status >= 500;

/** An API-version segment ending a base URL's path: /v1, /v2, /v1beta... */
const TRAILING_VERSION = /\/v\d+[a-z0-9]*$/;
/** An API-version segment anywhere in a path (`/v1beta/openai`), and one leading a client's path (`/v1/...`). */
const VERSION_SEGMENT = /\/v\d+[a-z0-9]*(?=\/|$)/;
const LEADING_VERSION = /^\/v\d+[a-z0-9]*(?=\/|$)/;

/**
 * The target's base URL, then the client's path and query, with one API version between them:
 * - a base URL ending in a version segment loses it: the client's path names its own version (`/v1/embeddings`) or
 *   none (Ollama's `/api/chat`, beside its `/v1`);
 * - a base URL with a version segment elsewhere (Gemini's OpenAI-compatible `/v1beta/openai`) keeps it, and a client's
 *   path that starts with a version segment loses that one: `/v1/embeddings` there is `/v1beta/openai/embeddings`;
 * - a base URL without a version (`https://api.anthropic.com`) is followed by the client's path as it is.
 */
export function upstreamUrl(baseUrl: string, path: string, query: string): string {
  const base = baseUrl.replace(/\/+$/, "");
  const pathStart = base.indexOf("/", base.indexOf("//") + 2); // after the scheme and host
  const origin = pathStart < 0 ? base : base.slice(0, pathStart);
  const basePath = pathStart < 0 ? "" : base.slice(pathStart);
  if (TRAILING_VERSION.test(basePath)) return `${origin}${basePath.replace(TRAILING_VERSION, "")}${path}${query}`;
  const clientPath = VERSION_SEGMENT.test(basePath) ? path.replace(LEADING_VERSION, "") : path;
  return `${origin}${basePath}${clientPath}${query}`;
}

export interface ProxyInput {
  method: string;
  path: string;
  query: string;
  headers: FastifyRequest["headers"];
  /** A JSON body, held so a failover can resend it with the next target's model id. */
  jsonBody: Record<string, unknown> | undefined;
  /** The client named a model (body or X-Model): a JSON object body carries the target's model id, added if absent. */
  modelNamed: boolean;
  /** The bytes it was parsed from (edited in place per target). */
  jsonBytes: Buffer | undefined;
  /** Any other body: a file upload (streamed through once), or the bytes of JSON with no object or array at the top. */
  rawBody: unknown;
  /**
   * A form upload read up to its model field to route it (multipart-model.ts): its bytes are sent first, with the
   * field set to the target's model id, then `rawBody` (the rest of the upload) when it was not read whole.
   */
  form?: ReadForm;
  /** Which prefixes each provider advertises (endpoint-prefixes.ts). */
  prefixes: Map<string, string[]>;
  /**
   * The one target (provider/model) that may serve: a request other than a POST names a resource one provider holds
   * (`GET /v1/files/<id>`), so it goes to its route's first target advertising the path alone, never to another's.
   */
  onlyTarget?: string;
  reply: FastifyReply;
  /** The routing headers at the commit point. */
  routingHeaders(): Record<string, string>;
  /** Top-level fields one target's JSON object body gets (an OpenRouter target's `provider` block). */
  targetFields?(target: Model<Api>): Record<string, unknown>;
  /** Takes credentials out of what a target answered: error bodies and every header (they may echo its key). */
  redact(text: string): string;
  now(): number;
}

/** The last answer of a target that failed: passed through unchanged when no target could do better. */
export interface FailedAnswer {
  /** The target that answered it. */
  target: string;
  status: number;
  text: string;
  /** Its headers as the client may get them (passedBackHeaders): retry-after, content-type, each set-cookie... */
  headers: PassedBackHeaders;
  failure: Failure;
}

export interface ProxyPassthrough extends TargetPassthrough {
  /** The upstream status sent to the client, once an attempt committed. */
  readonly committedStatus: number | undefined;
  readonly lastFailedAnswer: FailedAnswer | undefined;
}

export function proxyPassthrough(input: ProxyInput): ProxyPassthrough {
  let committedStatus: number | undefined;
  let lastFailedAnswer: FailedAnswer | undefined;
  // The upstream each target's attempt is pinned to (an OpenRouter target's, upstream-pin.ts): the runtime hands the
  // pin over in the patch it asks `accepts` about right before the attempt; of that patch only the pin is sent.
  const pins = new Map<Model<Api>, string | undefined>();
  return {
    get committedStatus() {
      return committedStatus;
    },
    get lastFailedAnswer() {
      return lastFailedAnswer;
    },
    serves: (target) =>
      servingPath(input.prefixes, input.path)(target) &&
      (input.onlyTarget === undefined || `${target.provider}/${target.modelId}` === input.onlyTarget),
    // Nothing here can be translated through pi-ai: every target it serves is forwarded as it is.
    accepts: (target, _auth, patch) => {
      pins.set(target, patchPin(patch));
      return true;
    },
    attempt: (attempt) =>
      forwardAttempt(input, attempt, pins.get(attempt.target), {
        failed: (answer) => void (lastFailedAnswer = answer),
        committed: (status) => void (committedStatus = status),
      }),
  };
}

/** APIs whose requests name the model in the path (`/v1beta/models/<id>:embedContent`), never in the body. */
const MODEL_IN_PATH_APIS = new Set<string>(["google-generative-ai", "google-vertex"]);

/**
 * The fields a JSON object body gets for the target: its model id where the client named a model (in the body or
 * X-Model), added if absent, except for an API that names the model in the path (Google's), where only a `model` the
 * body already has is replaced. A body without a model for a request without one is left without.
 */
export function modelFieldSet(
  body: Record<string, unknown>,
  modelNamed: boolean,
  api: string,
  modelId: string,
): { model?: string } {
  if ("model" in body) return { model: modelId };
  return modelNamed && !MODEL_IN_PATH_APIS.has(api) ? { model: modelId } : {};
}

function upstreamBody(
  input: ProxyInput,
  target: Model<Api>,
  pin: string | undefined,
  headers: Record<string, string>,
): BodyInit | undefined {
  if (input.jsonBody) {
    // A JSON media type of the client's own (`application/vnd.api+json`) is what its server may insist on; JSON read
    // from text or a form is sent as what it is.
    if (!JSON_MEDIA_TYPE.test(headers["content-type"] ?? "")) headers["content-type"] = "application/json";
    // A JSON array (a batch) has no fields of the router's: sent as it came.
    if (Array.isArray(input.jsonBody))
      return (input.jsonBytes ?? JSON.stringify(input.jsonBody)) as Uint8Array as BodyInit;
    // As for chat: the target's model id (modelFieldSet), the router's own `provider` field taken out, and a pinned
    // target's pin merged into the provider preferences it is sent.
    const own = input.targetFields?.(target);
    const provider = pin ? { provider: pinnedProvider(own?.provider, pin) } : {};
    const set = { ...own, ...provider, ...modelFieldSet(input.jsonBody, input.modelNamed, target.api, target.id) };
    const remove = set.provider ? [] : ["provider"];
    // A Buffer over a plain ArrayBuffer; TypeScript's BodyInit names only the DOM's view types.
    return editJson(input.jsonBytes, input.jsonBody, { set, remove }) as Uint8Array as BodyInit;
  }
  if (input.form) {
    // Read to route the request: its model field is the target's model id, the rest as it came. Read whole, it is
    // sent again by a failover; else the rest of the upload follows it, once.
    const { bytes, model, encoding } = input.form;
    const rest = input.rawBody;
    if (encoding !== undefined && model && model.value !== target.id) {
      // Sent compressed, with a field to rewrite: sent decoded, without its Content-Encoding (every provider takes an
      // uncompressed form; not every one a compressed request body), the field rewritten as it streams through.
      delete headers["content-encoding"];
      const boundary = multipartBoundary(headers["content-type"]) ?? "";
      const compressed = rest instanceof Readable ? Readable.from(followedBy(bytes, rest)) : Readable.from([bytes]);
      return Readable.toWeb(
        // The coding was decoded to read the form (proxy.ts formToRoute), so a decoder exists.
        streamPipeline(compressed, streamDecoder(encoding)!, new MultipartModelRewrite(boundary, target.id), () => {}),
      ) as BodyInit;
    }
    // A compressed form whose field already holds the target's model id (or that has none) goes as it came.
    const sent =
      model && encoding === undefined
        ? Buffer.concat([bytes.subarray(0, model.start), Buffer.from(target.id), bytes.subarray(model.end)])
        : bytes;
    if (!(rest instanceof Readable)) return sent as Uint8Array as BodyInit;
    return Readable.toWeb(Readable.from(followedBy(sent, rest))) as BodyInit;
  }
  if (input.rawBody instanceof Readable) {
    // A form upload's `model` field (a transcription's, an image edit's) is the target's model id too, when the client
    // named the route (X-Model): rewritten as the body streams through (multipart-model.ts).
    const boundary = input.modelNamed ? multipartBoundary(headers["content-type"]) : undefined;
    const source = boundary
      ? streamPipeline(input.rawBody, new MultipartModelRewrite(boundary, target.id), () => {})
      : input.rawBody;
    return Readable.toWeb(source) as BodyInit;
  }
  if (Buffer.isBuffer(input.rawBody) || typeof input.rawBody === "string") return input.rawBody as BodyInit;
  return undefined;
}

/** `first`, then what `rest` streams. */
async function* followedBy(first: Buffer, rest: Readable): AsyncGenerator<Buffer> {
  yield first;
  yield* rest;
}

const errorText = (error: unknown) => {
  const code = (error as { cause?: { code?: string } }).cause?.code;
  return `${(error as Error).message}${code ? ` ${code}` : ""}`;
};

/**
 * How long the target may take to send its status: the first-token timeout (not on the last target), the stall
 * timeout (120 s by default: silence that long is a stall for a proxied request too) or the request timeout.
 */
function firstByteMs(timeouts: PassthroughAttempt["timeouts"]): number | undefined {
  const limits = [timeouts.firstTokenMs, timeouts.stallMs, timeouts.requestMs].filter(
    (value): value is number => !!value,
  );
  return limits.length ? Math.min(...limits) : undefined;
}

async function forwardAttempt(
  input: ProxyInput,
  attempt: PassthroughAttempt,
  pin: string | undefined,
  report: { failed(answer: FailedAnswer): void; committed(status: number): void },
): Promise<AttemptOutcome> {
  const { target, auth, candidate, signal } = attempt;
  const { now } = input;
  const startedAt = now();
  const latency = () => now() - startedAt;
  if (signal?.aborted) return { status: "aborted", latencyMs: 0 };
  const controller = new AbortController();
  const relay = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", relay, { once: true });
  // An upload cut at the body limit ends the attempt at once; it is the client's doing, not the target's failure.
  const upload = input.rawBody instanceof LimitedBody ? input.rawBody : undefined;
  const cutUpload = () => controller.abort(new Error("request body over the limit"));
  upload?.once("error", cutUpload);
  const deadlineMs = firstByteMs(attempt.timeouts);
  const deadline = deadlineMs ? setTimeout(() => controller.abort(new Error("timeout")), deadlineMs) : undefined;
  const headers = { ...forwardedHeaders(input.headers), ...authHeaders(target, auth) };
  const body = upstreamBody(input, target, pin, headers);
  const classified = (text: string, retryAfter?: string) =>
    classifyFailure({ stopReason: "error", errorMessage: text, retryAfter }, now());
  try {
    const response = await fetch(upstreamUrl(auth.baseUrl ?? target.baseUrl, input.path, input.query), {
      method: input.method,
      headers,
      body,
      signal: controller.signal,
      // Never followed here: a redirect to another host would take the target's credentials there (fetch drops
      // only Authorization, not x-api-key). A 3xx is the target's answer, passed back for the client to follow.
      redirect: "manual",
      ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
    } as RequestInit);
    if (isTargetFailure(response.status)) {
      // Read under the same deadline as the status: a target that sends a failure's status and then stalls its body
      // fails over as one that sends nothing does, instead of holding the request. Only its first words are kept.
      const text = await errorBodyText(response);
      clearTimeout(deadline);
      const failure = classified(`${response.status} ${text}`, response.headers.get("retry-after") ?? undefined);
      report.failed({
        target: candidate.key,
        status: response.status,
        text,
        headers: passedBackHeaders(input, response),
        failure,
      });
      return { status: "failed", failure, latencyMs: latency() };
    }
    clearTimeout(deadline);
    if (response.status < 400) attempt.onResponse(response.status, Object.fromEntries(response.headers));
    report.committed(response.status);
    attempt.onCommit();
    const ttftMs = latency();
    // The answer's usage record is read from what is forwarded, as it passes (proxy-usage-stream.ts).
    const tap = usageReader(input.method, response.status, response.headers);
    // A body read whole before it is sent (a client error's, a short answer's) waits no longer than the stall timeout:
    // one the target stalls is cut, as a download it stalls would be (idle timeout), not held without an answer.
    const stallMs = attempt.timeouts.stallMs;
    const stalled = () => controller.abort(new Error(`no data from ${candidate.key} within ${stallMs} ms: stalled`));
    const whole = <T>(read: Promise<T>): Promise<T> => {
      const timer = stallMs ? setTimeout(stalled, stallMs) : undefined;
      return read.finally(() => clearTimeout(timer));
    };
    const cutOff =
      response.status >= 400
        ? await sendErrorAnswer(input, response, whole)
        : await streamAnswer(input, response, tap, whole);
    if (signal?.aborted) return { status: "committed", final: "aborted", ttftMs, latencyMs: latency() };
    if (cutOff !== undefined)
      return { status: "committed", final: "error", failure: classified(cutOff), ttftMs, latencyMs: latency() };
    // A client error the target answered (a 400 or 404) was still the target's answer: committed, and classified
    // for the books (the breaker and health count only the kinds that blame a target).
    if (response.status >= 400)
      return {
        status: "committed",
        final: "error",
        failure: classified(`${response.status} (proxied ${input.path})`),
        answeredError: true,
        ttftMs,
        latencyMs: latency(),
      };
    const message = proxiedAnswerMessage(target, tap, now());
    return { status: "committed", final: "done", ...(message ? { message } : {}), ttftMs, latencyMs: latency() };
  } catch (error) {
    if (signal?.aborted || upload?.tooLarge) return { status: "aborted", latencyMs: latency() };
    if (controller.signal.aborted)
      return {
        status: "failed",
        failure: makeFailure("timeout", `Request timed out: no response from ${candidate.key} within ${deadlineMs} ms`),
        latencyMs: latency(),
      };
    return { status: "failed", failure: classified(errorText(error)), latencyMs: latency() };
  } finally {
    clearTimeout(deadline);
    signal?.removeEventListener("abort", relay);
    upload?.off("error", cutUpload);
  }
}

/**
 * The first ERROR_BODY_LIMIT_CHARS of a failure's body: the rest is never read (an error page may be long). A body the
 * target stalls or cuts off (the deadline aborts the read) keeps the words it had sent: they may say why.
 */
async function errorBodyText(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (text.length < ERROR_BODY_LIMIT_CHARS) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      text += decoder.decode(value, { stream: true });
    }
    return text.slice(0, ERROR_BODY_LIMIT_CHARS);
  } catch {
    return text + decoder.decode();
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** Header values by name; `set-cookie` is a list, one value per cookie, as the upstream sent them. */
export type PassedBackHeaders = Record<string, string | string[]>;

/**
 * The upstream's headers the client may get: hop-by-hop and framing ones dropped, values redacted (a 401's
 * `www-authenticate` may quote the key it was sent). A redirect's Location loses only keys: its pre-signed query
 * (`sig=`, `signature=`, a storage host's `token=`) is meant for the client, which follows it, and is no credential of
 * the router's; a value that IS one (a target's key or header token, the gateway's token, as it is or percent-encoded:
 * redactKeys) never reaches the client, in the Location or any other header. Each Set-Cookie stays a header of its own
 * (joined with a comma they would be one cookie with the others in its attributes).
 */
function passedBackHeaders(input: ProxyInput, response: Response): PassedBackHeaders {
  const out: PassedBackHeaders = {};
  const hopByHop = connectionNamed(response);
  const kept = (name: string, value: string) =>
    name === "content-encoding"
      ? !fetchDecoded(input.method, response.status, value)
      : !DROPPED_RESPONSE_HEADERS.has(name) && name !== "set-cookie";
  for (const [name, value] of response.headers)
    if (kept(name, value) && !hopByHop?.has(name))
      out[name] = name === "location" ? redactKeys(value) : input.redact(redactKeys(value));
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) out["set-cookie"] = cookies.map((cookie) => input.redact(redactKeys(cookie)));
  return out;
}

/** The upstream's headers the client gets, with the routing headers. */
function answerHeaders(input: ProxyInput, response: Response): void {
  const headers = { ...passedBackHeaders(input, response), ...input.routingHeaders() };
  for (const [name, value] of Object.entries(headers)) input.reply.raw.setHeader(name, value);
}

/**
 * How the upstream's content-length is passed back (DROPPED_RESPONSE_HEADERS drops it from the others):
 * - `as-is`: an answer without a body (to a HEAD, a 204 or 304) keeps the length the upstream declared.
 * - `as-is` too for a body that goes to the client byte for byte: a declared length, no content-encoding fetch
 *   decoded (none, or `identity`), and no credential the router knows to scrub out of it.
 * - `scrubbed`: the same body when credentials are known (the gateway's own token always is) and it is no longer than
 *   LENGTH_KEPT_BYTES: the scrub replaces a credential with [REDACTED], which changes the length, so the body is read
 *   whole, scrubbed, and sent with its own length.
 * - `none`: otherwise (a decoded body, no declared length, or a longer body with credentials known): streamed through
 *   as it comes, chunked, since its length after the scrub is not known before its end.
 */
export function answerLength(
  method: string,
  status: number,
  headers: Headers,
  credentialsKnown: boolean,
): "as-is" | "scrubbed" | "none" {
  const declared = headers.get("content-length");
  if (declared === null || !/^\d+$/.test(declared.trim())) return "none";
  if (method === "HEAD" || status === 204 || status === 304) return "as-is";
  const encoding = headers.get("content-encoding")?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== "" && encoding !== "identity") return "none";
  if (!credentialsKnown) return "as-is";
  return Number(declared) <= LENGTH_KEPT_BYTES ? "scrubbed" : "none";
}

/**
 * A client error the target answered (a 400, 401, 404...): its status, headers and body, the body read whole and
 * redacted first (a provider's 401 may quote the key it was sent), up to ERROR_ANSWER_WHOLE_BYTES. A longer body (an
 * error page rather than an error) is not held in memory: what was read and the rest are streamed on without the
 * credentials the router knows, as a download is. `whole` bounds the wait for the part read whole (the stall
 * timeout). Returns why the body was cut off, as streamAnswer: the client then gets the status and headers and a cut
 * connection, never a complete answer with what arrived or an empty one.
 */
async function sendErrorAnswer(
  input: ProxyInput,
  response: Response,
  whole: <T>(read: Promise<T>) => Promise<T>,
): Promise<string | undefined> {
  const { reply } = input;
  const reader = response.body?.getReader();
  const head: Uint8Array[] = [];
  let size = 0;
  let more = false;
  try {
    await whole(
      (async () => {
        while (reader) {
          const { done, value } = await reader.read();
          if (done) return;
          head.push(value);
          size += value.length;
          if (size > ERROR_ANSWER_WHOLE_BYTES) return void (more = true);
        }
      })(),
    );
  } catch (error) {
    reply.hijack();
    answerHeaders(input, response);
    reply.raw.writeHead(response.status);
    reply.raw.flushHeaders();
    reply.raw.destroy();
    return `network error: ${errorText(error)} (terminated)`;
  }
  reply.hijack();
  answerHeaders(input, response);
  if (more) {
    reply.raw.writeHead(response.status);
    const rest = Readable.from(
      (async function* () {
        yield* head;
        while (true) {
          const { done, value } = await reader!.read();
          if (done) return;
          yield value;
        }
      })(),
    );
    return forwardBody(reply, rest, rememberedCredentialValues());
  }
  const body = input.redact(Buffer.concat(head).toString("utf8"));
  // An answer to a HEAD has no body: the length the upstream declared is passed back (answerLength).
  const bodyless = input.method === "HEAD" && answerLength("HEAD", response.status, response.headers, true) === "as-is";
  reply.raw.setHeader(
    "content-length",
    bodyless ? response.headers.get("content-length")!.trim() : Buffer.byteLength(body),
  );
  reply.raw.writeHead(response.status);
  reply.raw.end(body);
  return undefined;
}

/**
 * The commit: the upstream's status and headers, then its body streamed to the client (without the credentials the
 * target was sent). Returns why the body was
 * cut off, if the upstream failed mid-download (the client's own disconnect is not a cut-off: the caller sees it).
 */
async function streamAnswer(
  input: ProxyInput,
  response: Response,
  tap: UsageReader | undefined,
  whole: <T>(read: Promise<T>) => Promise<T>,
): Promise<string | undefined> {
  const { reply } = input;
  reply.hijack();
  answerHeaders(input, response);
  // The credentials the router knows (the target's own, resolved for this attempt, among them) are never passed back.
  const secrets = rememberedCredentialValues();
  const length = answerLength(input.method, response.status, response.headers, secrets.length > 0);
  if (length === "as-is") reply.raw.setHeader("content-length", response.headers.get("content-length")!.trim());
  if (length === "scrubbed" && response.body) return whole(sendScrubbedWhole(input, response, secrets, tap));
  reply.raw.writeHead(response.status);
  if (!response.body) return void reply.raw.end();
  // The status and headers go out now, the commit point, whatever the first body bytes wait for (the scrub holds
  // back the end of each chunk): a download cut off before them still reaches the client as a cut-off body.
  reply.raw.flushHeaders();
  const source = Readable.fromWeb(response.body as import("node:stream/web").ReadableStream);
  return forwardBody(reply, source, secrets, tap);
}

/**
 * Pipes an upstream body to the client without the credentials the router knows (`secrets`); `tap` sees each chunk
 * as it is forwarded. Returns why the upstream cut the body off, if it did (the client's own disconnect is not a
 * cut-off: the caller sees it).
 */
async function forwardBody(
  reply: FastifyReply,
  source: Readable,
  secrets: readonly string[],
  tap?: UsageReader,
): Promise<string | undefined> {
  // Which side broke first: a client that went away is not the target's fault (the caller sees its signal).
  let upstreamError: unknown;
  let clientLeft = false;
  source.once("error", (error) => void (upstreamError ??= error));
  reply.raw.once(
    "close",
    () => void (clientLeft = upstreamError === undefined && answerState(reply.raw) === "cut-off"),
  );
  const streamed =
    secrets.length > 0 ? pipeline(source, new SecretScrub(secrets), reply.raw) : pipeline(source, reply.raw);
  // Beside the pipe, set up above: it sees each chunk as it is forwarded, and the pipe's backpressure pauses both.
  if (tap) source.on("data", (chunk: Uint8Array) => tap.add(chunk));
  await streamed.catch(() => {});
  return upstreamError !== undefined && !clientLeft
    ? `network error: ${errorText(upstreamError)} (terminated)`
    : undefined;
}

/**
 * An answer with a declared length, read whole and scrubbed, then sent with the length it has after the scrub
 * (answerLength `scrubbed`). Returns why the body was cut off, as streamAnswer: the client then gets the status and
 * headers and a cut connection, as for a download cut off mid-way.
 */
async function sendScrubbedWhole(
  input: ProxyInput,
  response: Response,
  secrets: readonly string[],
  tap?: UsageReader,
): Promise<string | undefined> {
  const { reply } = input;
  let bytes: Buffer;
  try {
    bytes = Buffer.from(await response.arrayBuffer());
    tap?.add(bytes);
  } catch (error) {
    reply.raw.writeHead(response.status);
    reply.raw.flushHeaders();
    reply.raw.destroy();
    return `network error: ${errorText(error)} (terminated)`;
  }
  const body = SecretScrub.all(bytes, secrets);
  reply.raw.setHeader("content-length", body.length);
  reply.raw.writeHead(response.status);
  reply.raw.end(body);
  return undefined;
}
