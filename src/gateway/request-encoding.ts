// A request body sent compressed (`Content-Encoding: gzip`, as some HTTP clients and proxies send a large JSON body;
// the Codex CLI's request compression sends `zstd`) is decoded before the gateway reads it, instead of being parsed as
// the compressed bytes ("not valid JSON: Unexpected token '\u001f'", which said nothing of the encoding). The decoded
// bytes are the body from then on: a passthrough or the wildcard proxy sends them on, so the header is dropped too. A
// coding this Node cannot decode is a 415 naming the header and the codings it takes. The decoded size counts against
// `gateway.bodyLimitBytes` as an uncompressed body's does (a small compressed body may hold gigabytes).
import type { FastifyRequest } from "fastify";
import type { Transform } from "node:stream";
import zlib from "node:zlib";
import { GatewayError } from "./errors.ts";
import { bodyTooLargeText } from "./streamed-body.ts";
import { ownRecord } from "../own-record.ts";

type Decode = (body: Buffer, options: { maxOutputLength: number }) => Buffer;

/** The codings this Node's zlib decodes; zstd from Node 22.15 on. */
const DECODERS: Record<string, Decode> = ownRecord({
  gzip: zlib.gunzipSync,
  "x-gzip": zlib.gunzipSync,
  deflate: zlib.inflateSync,
  br: zlib.brotliDecompressSync,
  ...(typeof (zlib as { zstdDecompressSync?: unknown }).zstdDecompressSync === "function"
    ? { zstd: (zlib as unknown as { zstdDecompressSync: Decode }).zstdDecompressSync }
    : {}),
});

type StreamDecoder = () => Transform;
/**
 * The same codings as streams, for a body read as it arrives (a compressed form upload read up to its model field,
 * multipart-model.ts); `deflate` is the zlib format (RFC 9110 8.4.1.2).
 */
const STREAM_DECODERS: Record<string, StreamDecoder> = ownRecord({
  gzip: () => zlib.createGunzip(),
  "x-gzip": () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
  ...(typeof (zlib as { createZstdDecompress?: unknown }).createZstdDecompress === "function"
    ? { zstd: () => (zlib as unknown as { createZstdDecompress: StreamDecoder }).createZstdDecompress() }
    : {}),
});

/** A stream decoding `coding` (one content-coding, lower case), or undefined for one this Node cannot decode. */
export const streamDecoder = (coding: string): Transform | undefined => STREAM_DECODERS[coding]?.();

/** Whether this Node decodes `coding` (one content-coding, lower case) as a stream. */
export const decodesAsStream = (coding: string): boolean => Object.hasOwn(STREAM_DECODERS, coding);

/** `body` with the request's content codings undone (the last one applied first), and the header dropped. */
export function decodedBody(request: FastifyRequest, body: Buffer, limitBytes: number): Buffer {
  const header = request.headers["content-encoding"];
  if (header === undefined) return body;
  const codings = header
    .split(",")
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== "" && coding !== "identity");
  let decoded = body;
  for (const coding of codings.reverse()) {
    const decode = DECODERS[coding];
    if (!decode)
      throw new GatewayError(
        415,
        "invalid_request",
        `Content-Encoding: ${header}: the gateway decodes ${Object.keys(DECODERS).join(", ")} (or no encoding); send the body in one of them or uncompressed`,
      );
    try {
      decoded = decode(decoded, { maxOutputLength: limitBytes });
    } catch (error) {
      if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE")
        throw new GatewayError(413, "too_large", `${bodyTooLargeText(limitBytes)} (once decoded from ${coding})`);
      throw new GatewayError(
        400,
        "invalid_request",
        `request body: not valid ${coding} data, as Content-Encoding: ${header} says it is (${(error as Error).message})`,
      );
    }
  }
  delete request.headers["content-encoding"];
  return decoded;
}
