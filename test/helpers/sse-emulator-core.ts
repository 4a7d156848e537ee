// Shared plumbing for the OpenAI and Anthropic HTTP emulators: the node:http server on 127.0.0.1, the reply
// queue, call recording, and the failure behaviours (delays, resets, stalls, drops) that both dialects share.
// A dialect only says how a reply looks on the wire: its error body and its SSE frames.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface EmulatorReply {
  status?: number;
  errorMessage?: string;
  errorType?: string;
  body?: string;
  headers?: Record<string, string>;
  retryAfterSeconds?: number;
  delayBeforeHeadersMs?: number;
  resetBeforeHeaders?: boolean;
  text?: string | string[];
  /** The model's refusal in place of an answer: OpenAI Chat `delta.refusal` chunks (content null), a Responses
   *  message item with a `refusal` content part and its response.refusal.delta events. An addition to the shared
   *  reply shape, which only those two dialects read. */
  refusal?: string | string[];
  thinking?: string;
  /** Responses only: the reasoning item's id and the `encrypted_content` api.openai.com adds when the request asks
   *  for `reasoning.encrypted_content`; `thinking` is the item's summary. */
  reasoningItem?: { id: string; encryptedContent?: string };
  toolCall?: { id?: string; name: string; arguments: Record<string, unknown> };
  /** Responses only: a custom (freeform) tool's call, its input streamed in two halves (the Codex CLI's apply_patch). */
  customToolCall?: { id?: string; name: string; input: string };
  chunkDelayMs?: number;
  /** Silence before the first content chunk, after the frames that open the answer (a model reasoning unseen). */
  pauseBeforeContentMs?: number;
  /** After this many content chunks every remaining frame goes out in one write: a chunk of many blocks. */
  burstAfterChunks?: number;
  stallAfterChunks?: number;
  dropAfterChunks?: number;
  emptyStream?: boolean;
  malformedSse?: boolean;
  usage?: { input: number; output: number; cacheRead?: number; cacheWrite?: number } | null;
  /** Raw provider stop value overriding the natural one: openai finish_reason ("length", "content_filter"),
   *  anthropic stop_reason ("max_tokens", "refusal"), responses incomplete_details.reason ("length" for
   *  max_output_tokens, "content_filter"). An addition to the shared reply shape. */
  finishReason?: string;
  /** An error record sent inside a 200 stream after `afterChunks` content chunks (the stream then ends): what
   *  api.openai.com sends as `data: {"error":{...}}` and api.anthropic.com as `event: error`. */
  streamError?: { message: string; type: string; afterChunks?: number; sequenceNumber?: number };
}

export interface RecordedCall {
  index: number;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  /** The body's bytes as they arrived, as text. */
  rawBody: string;
  receivedAt: number;
  /** The client closed the connection before the reply was complete (an aborted upstream request). */
  closedBeforeEnd?: boolean;
  /** The exchange is over: the reply was sent completely or the connection closed. Unset while a stream is open. */
  closed?: boolean;
  /** When the exchange ended (reply complete or connection closed), epoch ms. */
  endedAt?: number;
}

export interface Emulator {
  url: string;
  port: number;
  calls: RecordedCall[];
  /** Calls whose stream is still open (neither finished nor closed by either side). */
  openCalls(): number;
  enqueue(...replies: EmulatorReply[]): void;
  setDefault(reply: EmulatorReply | ((call: RecordedCall) => EmulatorReply)): void;
  reset(): void;
  close(): Promise<void>;
}

/** One SSE record. `content` frames carry model output and are what stall/drop counts. */
export interface SseFrame {
  text: string;
  content: boolean;
}

export interface EmulatorDialect {
  /** Path the real provider SDK posts to, e.g. "/v1/chat/completions". */
  path: string;
  /** What goes into models.json as baseUrl, given "http://127.0.0.1:PORT". */
  baseUrl(origin: string): string;
  errorBody(status: number, reply: EmulatorReply): string;
  frames(reply: EmulatorReply, call: RecordedCall, model: string): SseFrame[];
  /** Bytes that look like a stream but are neither valid SSE nor JSON. */
  malformedBody(): string;
  /** The provider's in-stream error record (`sequenceNumber`: the Responses event's own, which api.openai.com sends). */
  streamErrorFrame(error: { message: string; type: string; sequenceNumber?: number }): string;
  /** A refusal of the request as it came, before any queued reply is taken (which then answers the next call). */
  refusal?(call: RecordedCall): EmulatorReply | undefined;
}

export const DEFAULT_USAGE = { input: 12, output: 7 } as const;
const NOT_FOUND_STATUS = 404;

/** Split a JSON string into two halves so tool-call arguments arrive as more than one delta. */
export function splitInHalves(text: string): string[] {
  if (text.length < 2) return [text];
  const middle = Math.floor(text.length / 2);
  return [text.slice(0, middle), text.slice(middle)];
}

/** Split text into word-sized chunks (trailing spaces kept) so chunk counts are predictable. */
export function splitIntoChunks(text: string | string[] | undefined): string[] {
  if (text === undefined) return [];
  if (Array.isArray(text)) return text;
  return text.match(/\s*\S+\s*/g) ?? (text === "" ? [] : [text]);
}

export function sseData(payload: unknown): string {
  return `data: ${typeof payload === "string" ? payload : JSON.stringify(payload)}\n\n`;
}

export function sseEvent(event: string, payload: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
}

function defaultReply(name: string): (call: RecordedCall) => EmulatorReply {
  return (call) => ({ text: `Hello from ${name} (call ${call.index + 1}).`, usage: { ...DEFAULT_USAGE } });
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    request.on("data", (part: Buffer) => parts.push(part));
    request.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    request.on("error", reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Wait, but give up early when the client goes away, so a closed test never leaves timers behind. */
function waitUnlessClosed(response: ServerResponse, durationMs: number): Promise<void> {
  if (durationMs <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, durationMs);
    function done() {
      clearTimeout(timer);
      response.off("close", done);
      resolve();
    }
    response.on("close", done);
  });
}

// Responses whose connection is gone (client abort, reset, close()); writes to them are skipped.
const closedResponses = new WeakSet<ServerResponse>();

function isClosed(response: ServerResponse): boolean {
  return closedResponses.has(response) || response.destroyed || response.writableEnded;
}

function replyHeaders(reply: EmulatorReply, contentType: string): Record<string, string> {
  const headers: Record<string, string> = { "content-type": contentType, ...reply.headers };
  if (reply.retryAfterSeconds !== undefined) headers["retry-after"] = String(reply.retryAfterSeconds);
  return headers;
}

async function writeStream(
  response: ServerResponse,
  reply: EmulatorReply,
  frames: SseFrame[],
  dialect: EmulatorDialect,
): Promise<void> {
  response.writeHead(200, {
    ...replyHeaders(reply, "text/event-stream"),
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
  response.flushHeaders();
  let contentSent = 0;
  let first = true;
  let burst = "";
  for (const frame of frames) {
    if (isClosed(response)) return;
    if (frame.content) {
      if (reply.streamError && contentSent >= (reply.streamError.afterChunks ?? 0)) break;
      if (reply.stallAfterChunks !== undefined && contentSent >= reply.stallAfterChunks) return; // left open on purpose
      if (reply.dropAfterChunks !== undefined && contentSent >= reply.dropAfterChunks) {
        // End the TCP connection (FIN after the written bytes) without the final chunk of the chunked body:
        // a reset would make the client discard output it had not parsed yet.
        response.socket?.end();
        return;
      }
    }
    if (reply.burstAfterChunks !== undefined && contentSent >= reply.burstAfterChunks) {
      burst += frame.text;
      if (frame.content) contentSent += 1;
      continue;
    }
    if (!first && reply.chunkDelayMs) await waitUnlessClosed(response, reply.chunkDelayMs);
    if (frame.content && contentSent === 0 && reply.pauseBeforeContentMs)
      await waitUnlessClosed(response, reply.pauseBeforeContentMs);
    if (isClosed(response)) return;
    response.write(frame.text);
    first = false;
    if (frame.content) contentSent += 1;
  }
  if (burst && !isClosed(response)) {
    if (reply.chunkDelayMs) await waitUnlessClosed(response, reply.chunkDelayMs);
    if (!isClosed(response)) response.write(burst);
  }
  if (reply.streamError && !isClosed(response)) response.write(dialect.streamErrorFrame(reply.streamError));
  response.end();
}

export async function startEmulator(dialect: EmulatorDialect, name: string, model: string): Promise<Emulator> {
  const calls: RecordedCall[] = [];
  const queue: EmulatorReply[] = [];
  const fallback = defaultReply(name);
  let defaultFor: (call: RecordedCall) => EmulatorReply = fallback;

  // A reply that asks for no output of its own (e.g. only a stall or a delay) still streams the default text,
  // and usage is reported unless the test says null.
  function withDefaults(reply: EmulatorReply, call: RecordedCall): EmulatorReply {
    const hasOutput =
      reply.text !== undefined ||
      reply.refusal !== undefined ||
      reply.thinking !== undefined ||
      reply.reasoningItem !== undefined ||
      reply.toolCall !== undefined ||
      reply.customToolCall !== undefined;
    return {
      ...reply,
      text: hasOutput || reply.emptyStream ? reply.text : fallback(call).text,
      usage: reply.usage === undefined ? { ...DEFAULT_USAGE } : reply.usage,
    };
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    response.on("close", () => closedResponses.add(response));
    const rawBody = await readBody(request);
    const call: RecordedCall = {
      index: calls.length,
      path: request.url ?? "",
      headers: { ...request.headers },
      body: parseJson(rawBody),
      rawBody,
      receivedAt: Date.now(),
    };
    calls.push(call);
    response.on("close", () => {
      if (!response.writableEnded) call.closedBeforeEnd = true;
      call.closed = true;
      call.endedAt = Date.now();
    });
    if (request.method !== "POST" || !call.path.startsWith(dialect.path)) {
      response.writeHead(NOT_FOUND_STATUS, { "content-type": "application/json" });
      response.end(
        dialect.errorBody(NOT_FOUND_STATUS, { errorMessage: `No route for ${request.method} ${call.path}` }),
      );
      return;
    }
    const reply = dialect.refusal?.(call) ?? queue.shift() ?? defaultFor(call);
    if (reply.delayBeforeHeadersMs) await waitUnlessClosed(response, reply.delayBeforeHeadersMs);
    if (isClosed(response)) return;
    if (reply.resetBeforeHeaders) {
      response.socket?.destroy();
      return;
    }
    const status = reply.status ?? 200;
    if (status < 200 || status > 299) {
      response.writeHead(status, replyHeaders(reply, "application/json"));
      response.end(reply.body ?? dialect.errorBody(status, reply));
      return;
    }
    if (reply.body !== undefined) {
      response.writeHead(status, replyHeaders(reply, "text/event-stream"));
      response.end(reply.body);
      return;
    }
    if (reply.malformedSse) {
      response.writeHead(status, replyHeaders(reply, "text/event-stream"));
      response.end(dialect.malformedBody());
      return;
    }
    await writeStream(response, reply, dialect.frames(withDefaults(reply, call), call, model), dialect);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.socket?.destroy());
  });
  // Idle keep-alive connections stay open a minute, as the providers' front ends keep them: with Node's 5 s default
  // a client reusing a socket the server is closing at that moment gets a connection error that no real API causes.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: dialect.baseUrl(`http://127.0.0.1:${port}`),
    port,
    calls,
    openCalls: () => calls.filter((call) => !call.closed).length,
    enqueue: (...replies) => {
      queue.push(...replies);
    },
    setDefault: (reply) => {
      defaultFor = typeof reply === "function" ? reply : () => reply;
    },
    reset: () => {
      queue.length = 0;
      calls.length = 0;
      defaultFor = fallback;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // ends stalled streams and idle keep-alive sockets
      }),
  };
}

/**
 * An answer's text as `count` one-word chunks ("w0 ", "w1 ", ...), with the words given at some positions instead:
 * event names inside the text, say, to check that a scanner reads such text rather than forwarding it unread.
 */
export function answerWords(count: number, at: Record<number, string> = {}): string[] {
  return Array.from({ length: count }, (_, index) => `${at[index] ?? `w${index}`} `);
}
