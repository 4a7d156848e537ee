// Bodies of other content types than JSON (file uploads, form posts) reach the wildcard proxy as a stream, forwarded
// unbuffered, under the same `gateway.bodyLimitBytes` as JSON bodies: a declared Content-Length over the limit is
// refused before anything is forwarded, and a body without one is cut where it passes the limit; the proxy then
// answers 413 (proxy.ts). The rest of the upload is read and dropped, on a connection kept open: a client still
// sending its body (as undici does before it reads an answer) would otherwise see the connection break, not the 413.
import type { FastifyRequest } from "fastify";
import { type Readable, Transform, type TransformCallback } from "node:stream";
import { GatewayError } from "./errors.ts";

export const bodyTooLargeText = (limitBytes: number): string =>
  `request body is larger than the gateway's limit of ${limitBytes} bytes (gateway.bodyLimitBytes in the routes file, read when the gateway starts)`;

/** A streamed request body that counts its bytes; `tooLarge` once it passed the limit (it is then destroyed). */
export class LimitedBody extends Transform {
  tooLarge = false;
  /** Its first bytes begin like a JSON document (`{` or `[`), whatever its content-type said. */
  startsLikeJson = false;
  private seen = 0;

  constructor(readonly limitBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen <= this.limitBytes) return callback(null, chunk);
    this.tooLarge = true;
    callback(new GatewayError(413, "too_large", bodyTooLargeText(this.limitBytes)));
  }
}

/** `{` or `[` first, after white space: a JSON document, whatever content-type it came with. */
const JSON_START = /^\s*[[{]/;

/**
 * The body a non-JSON request is served with, handed to `ready` once its first bytes are known (put back before it
 * is streamed on): `startsLikeJson` says whether they begin like JSON, so the proxy never forwards a JSON body whose
 * model it did not read as if it had none. Already `tooLarge` (and never read) when its declared length is.
 */
export function streamedBody(
  request: FastifyRequest,
  payload: NodeJS.ReadableStream,
  limitBytes: number,
  ready: (body: LimitedBody) => void,
): void {
  const body = new LimitedBody(limitBytes);
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limitBytes) {
    body.tooLarge = true; // node reads and drops the unread body once the answer is sent
    return ready(body);
  }
  const stream = payload as Readable;
  let started = false;
  const start = (chunk?: Buffer) => {
    if (started) return;
    started = true;
    stream.off("data", first);
    stream.off("end", empty);
    stream.off("close", empty);
    if (chunk) {
      stream.pause();
      stream.unshift(chunk);
      body.startsLikeJson = JSON_START.test(chunk.subarray(0, 64).toString("latin1"));
    }
    body.once("error", () => {
      stream.unpipe(body);
      stream.resume();
    });
    ready(stream.pipe(body));
  };
  const first = (chunk: Buffer) => start(chunk);
  const empty = () => start();
  stream.on("data", first);
  stream.once("end", empty);
  stream.once("close", empty); // a client gone before its body began: served nothing, as before
}

/** How long the rest of a refused upload is read and dropped before the answer goes out anyway. */
export const REFUSED_BODY_DRAIN_MS = 10_000;

/**
 * Resolves once the rest of a request body the gateway will not use has been read and dropped (at most
 * REFUSED_BODY_DRAIN_MS). An answer sent while the client is still sending goes out with `Connection: close` (Node
 * will not keep a connection whose request it did not read to its end): the client, still writing its upload, then
 * sees the connection break (EPIPE, "Connection error." in the official SDKs, which upload it again) instead of the
 * 413. Drained first, the connection stays open and the client reads the answer.
 */
export function drainedBody(raw: NodeJS.ReadableStream & { complete?: boolean }): Promise<void> {
  if (raw.complete) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(done, REFUSED_BODY_DRAIN_MS);
    raw.once("end", done);
    raw.once("close", done);
    raw.once("error", done);
    raw.resume();
  });
}
