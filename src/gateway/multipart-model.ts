// A multipart/form-data upload's `model` field: OpenAI's audio transcriptions and translations and its image edits
// send the model as a form field beside the file, and a route's name (`audio`, `auto-router/audio`) there would reach
// the provider as the model it is asked for. FormModelScan finds the first `model` field that is no file as the body
// comes, chunk by chunk; MultipartModelRewrite uses it to set that field to the target's model id as the upload streams
// through, never holding the body: only the part headers and the model field's value wait for their end (each at most
// FIELD_LIMIT_BYTES, past which the body is passed on unchanged), and the tail of a chunk that could begin a part's
// delimiter waits for the next chunk. readFormModel reads a form up to that field, to route a request by it
// (proxy.ts), holding what came before it; readCompressedFormModel does so for a form sent compressed, decoded only to
// find that field.
import type { IncomingMessage } from "node:http";
import { type Readable, Transform, type TransformCallback } from "node:stream";
import { GatewayError } from "./errors.ts";
import { streamDecoder } from "./request-encoding.ts";
import { bodyTooLargeText, LimitedBody } from "./streamed-body.ts";

/** Past this many bytes of a part's headers or of the model field's value, the body is passed on unchanged. */
const FIELD_LIMIT_BYTES = 16 * 1024;

/** The boundary of a `multipart/form-data` content-type, quoted or not; undefined for any other type. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\/form-data\s*(?:;|$)/i.test(contentType)) return undefined;
  const match = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))/i.exec(contentType);
  return match ? (match[1] ?? match[2]) : undefined;
}

/** Whether a part's headers name a form field `model` that is not a file. */
function isModelField(headers: string): boolean {
  const disposition = /^content-disposition\s*:(.*)$/im.exec(headers)?.[1];
  if (!disposition || !/^\s*form-data\s*(?:;|$)/i.test(disposition)) return false;
  if (/;\s*filename\*?\s*=/i.test(disposition)) return false;
  return /;\s*name\s*=\s*(?:"model"|model)\s*(?:;|$)/i.test(disposition);
}

type State = "start" | "body" | "delimiter-end" | "headers" | "model" | "done";

/** What a scan of a form found: its first `model` field that is no file, or why there is none to read. */
export type FormScanResult =
  /** The field's value, and where it lies in the body (byte offsets, `end` exclusive). */
  | { kind: "model"; value: Buffer; start: number; end: number }
  /** The form closed (or the body is no form) without one. */
  | { kind: "none" }
  /** A part's headers or the model field's value ran past FIELD_LIMIT_BYTES: the form is not read further. */
  | { kind: "unreadable"; why: string };

/**
 * Finds the first `model` form field that is no file in a multipart/form-data body fed chunk by chunk. Each byte that
 * no later chunk can change is handed to `pass` as soon as it is known (the model field's value waits for its end);
 * only the tail of a chunk that could begin a part's delimiter, a part's headers and the model field's value wait.
 */
export class FormModelScan {
  private readonly delimiter: Buffer;
  private readonly first: Buffer;
  private pending: Buffer = Buffer.alloc(0);
  /** Where `pending` begins in the body. */
  private offset = 0;
  private state: State = "start";

  constructor(
    boundary: string,
    private readonly pass: (bytes: Buffer) => void,
  ) {
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
    this.first = Buffer.from(`--${boundary}`);
  }

  /** The bytes fed and not yet passed on: after a result, those that followed what was scanned. */
  rest(): Buffer {
    const pending = this.pending;
    this.offset += pending.length;
    this.pending = Buffer.alloc(0);
    return pending;
  }

  /** Scans the next chunk; undefined while the result is not known yet (no more chunk may be fed after one). */
  feed(chunk: Buffer): FormScanResult | undefined {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    return this.advance(false);
  }

  /** The body ended: what it holds. */
  end(): FormScanResult {
    return this.advance(true) ?? { kind: "none" };
  }

  /** Passes on what is decided, keeping in `pending` only what the next chunk may change. */
  private advance(ended: boolean): FormScanResult | undefined {
    for (;;) {
      const pending = this.pending;
      if (this.state === "start") {
        // The body's first delimiter has no CRLF before it; a preamble before it is scanned as a part's body.
        if (pending.length < this.first.length && !ended && this.first.subarray(0, pending.length).equals(pending))
          return undefined;
        if (pending.subarray(0, this.first.length).equals(this.first)) {
          this.passOn(this.first.length);
          this.state = "delimiter-end";
        } else this.state = "body";
        continue;
      }
      if (this.state === "body" || this.state === "model") {
        const at = pending.indexOf(this.delimiter);
        // Whatever the chunks' edges: a value past the limit is no model's name.
        if (this.state === "model" && (at < 0 ? pending.length : at) > FIELD_LIMIT_BYTES)
          return this.done({ kind: "unreadable", why: `its value is longer than ${FIELD_LIMIT_BYTES} bytes` });
        if (at < 0) {
          if (ended) return this.done({ kind: "none" });
          // The tail that could begin the delimiter waits; the model field's value waits whole for its end.
          if (this.state === "body") this.passOn(Math.max(0, pending.length - (this.delimiter.length - 1)));
          return undefined;
        }
        if (this.state === "model") {
          const found = {
            kind: "model" as const,
            value: pending.subarray(0, at),
            start: this.offset,
            end: this.offset + at,
          };
          this.pending = pending.subarray(at);
          this.offset += at;
          return this.done(found);
        }
        this.passOn(at + this.delimiter.length);
        this.state = "delimiter-end";
        continue;
      }
      if (this.state === "delimiter-end") {
        // `--` closes the body (the epilogue follows); CRLF begins a part's headers.
        if (pending.length < 2) return ended ? this.done({ kind: "none" }) : undefined;
        if (pending[0] === 0x2d && pending[1] === 0x2d) return this.done({ kind: "none" });
        this.state = "headers";
        continue;
      }
      if (this.state === "headers") {
        const end = pending.indexOf("\r\n\r\n");
        if ((end < 0 ? pending.length : end) > FIELD_LIMIT_BYTES)
          return this.done({ kind: "unreadable", why: `a part's headers are longer than ${FIELD_LIMIT_BYTES} bytes` });
        if (end < 0) return ended ? this.done({ kind: "none" }) : undefined;
        const model = isModelField(pending.subarray(0, end).toString("latin1"));
        this.passOn(end + 4);
        this.state = model ? "model" : "body";
        continue;
      }
      return undefined;
    }
  }

  /** Passes on the first `bytes` of what is pending. */
  private passOn(bytes: number): void {
    if (bytes > 0) this.pass(this.pending.subarray(0, bytes));
    this.pending = this.pending.subarray(bytes);
    this.offset += bytes;
  }

  private done(result: FormScanResult): FormScanResult {
    this.state = "done";
    return result;
  }
}

/** Rewrites the first `model` form field of a multipart/form-data body with `boundary` to `modelId`. */
export class MultipartModelRewrite extends Transform {
  private readonly scan: FormModelScan;
  private readonly modelId: Buffer;
  private finished = false;

  constructor(boundary: string, modelId: string) {
    super();
    this.scan = new FormModelScan(boundary, (bytes) => this.push(bytes));
    this.modelId = Buffer.from(modelId);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.finished) return callback(null, chunk);
    const result = this.scan.feed(chunk);
    if (result) this.finish(result);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (!this.finished) this.finish(this.scan.end());
    callback();
  }

  /** The one field rewritten (or none to rewrite): the rest passes on as it comes. */
  private finish(result: FormScanResult): void {
    this.finished = true;
    if (result.kind === "model") this.push(this.modelId);
    const rest = this.scan.rest();
    if (rest.length) this.push(rest);
  }
}

/** A form read up to its `model` field, to route its request by it. */
export interface ReadForm {
  /** The bytes read: the whole body when `whole`, else up to (at least) the end of the model field's value. */
  bytes: Buffer;
  /** The body ended within `bytes`, which can then be sent again (to another target). */
  whole: boolean;
  /** The first `model` field that is no file: its value, and where that lies in `bytes`. */
  model?: { value: string; start: number; end: number };
  /** Why the form could not be read as far as its model field. */
  unreadable?: string;
  /**
   * The body's Content-Encoding when it came compressed (readCompressedFormModel): `bytes` are then as they came,
   * compressed, and `model`'s offsets lie in the decoded form.
   */
  encoding?: string;
}

/** The client left before its form's model field arrived. */
export class FormClientGone extends Error {
  constructor() {
    super("the client closed the connection before the form's model field arrived");
  }
}

/**
 * Reads `body`, a multipart/form-data body with `boundary`, up to the end of its first `model` field that is no file
 * (the official clients send it after the file). A form without one is read whole, and so is a form whose model field
 * only the form's end follows (a transcription's `file` then `model`), so that both can be resent. The rest of a body
 * not read whole stays in `body`, paused, to be streamed after `bytes`. Rejects when the body fails (cut at the body
 * limit), or with FormClientGone when `request`'s connection closes first.
 */
export function readFormModel(body: Readable, boundary: string, request: IncomingMessage): Promise<ReadForm> {
  // The last part's delimiter after the model field's value: `--` after it closes the form.
  const delimiterLength = Buffer.byteLength(`\r\n--${boundary}`);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const scan = new FormModelScan(boundary, () => {});
    let found: FormScanResult | undefined;
    /** Where the two bytes that say whether the form closes after its model field begin, until they are read. */
    let closingAt: number | undefined;
    const held = () => {
      const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
      chunks.splice(0, chunks.length, bytes);
      return bytes;
    };
    const cleanup = () => {
      body.off("data", onData);
      body.off("end", onEnd);
      body.off("error", onError);
      request.off("close", onClose);
    };
    const settle = (whole: boolean) => {
      cleanup();
      if (!whole) body.pause();
      resolve({
        bytes: held(),
        whole,
        ...(found?.kind === "model"
          ? { model: { value: found.value.toString(), start: found.start, end: found.end } }
          : {}),
        ...(found?.kind === "unreadable" ? { unreadable: found.why } : {}),
      });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (!found) {
        found = scan.feed(chunk);
        if (found?.kind === "unreadable") return settle(false);
        if (found?.kind === "model") closingAt = found.end + delimiterLength;
      }
      if (closingAt === undefined || length < closingAt + 2) return;
      const bytes = held();
      const closes = bytes[closingAt] === 0x2d && bytes[closingAt + 1] === 0x2d;
      closingAt = undefined;
      // Another part follows the model field: the rest streams on from here. Else only the form's end (and an
      // epilogue) is left, read with it.
      if (!closes) settle(false);
    };
    const onEnd = () => {
      found ??= scan.end();
      settle(true);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      if (request.complete) return;
      cleanup();
      reject(new FormClientGone());
    };
    if (request.destroyed && !request.complete) return reject(new FormClientGone());
    body.on("data", onData);
    body.once("end", onEnd);
    body.once("error", onError);
    request.once("close", onClose);
  });
}

/**
 * readFormModel for a body sent with one content-coding this Node decodes as a stream (request-encoding.ts): its
 * bytes are decoded only to find the model field, and held as they came (compressed), the rest left in `body` when it
 * was not read whole. The decoded form is held up to
 * `limitBytes` as an uncompressed one is (past it: the body limit's 413); a body that cannot be decoded is refused
 * with a 400 naming its Content-Encoding.
 */
export async function readCompressedFormModel(
  body: Readable,
  boundary: string,
  request: IncomingMessage,
  encoding: string,
  limitBytes: number,
): Promise<ReadForm> {
  const decoder = streamDecoder(encoding);
  if (!decoder) throw new Error(`no stream decoder for Content-Encoding ${encoding}`); // formToRoute checked it
  const decoded = new LimitedBody(limitBytes);
  const compressed: Buffer[] = [];
  let length = 0;
  // The compressed body is held anyway (up to the body limit): written on without waiting for the decoder.
  const onData = (chunk: Buffer) => {
    compressed.push(chunk);
    length += chunk.length;
    decoder.write(chunk);
  };
  const onEnd = () => decoder.end();
  const onError = (error: Error) => decoded.destroy(error);
  decoder.on("error", (error: Error) =>
    decoded.destroy(
      new GatewayError(
        400,
        "invalid_request",
        `request body: not valid ${encoding} data, as Content-Encoding: ${encoding} says it is (${error.message}), so its form field \`model\` could not be read to choose a target`,
      ),
    ),
  );
  decoder.pipe(decoded);
  body.on("data", onData);
  body.once("end", onEnd);
  body.once("error", onError);
  try {
    const form = await readFormModel(decoded, boundary, request);
    return { ...form, bytes: compressed.length === 1 ? compressed[0]! : Buffer.concat(compressed, length), encoding };
  } catch (error) {
    if (decoded.tooLarge)
      throw new GatewayError(413, "too_large", `${bodyTooLargeText(limitBytes)} (once decoded from ${encoding})`);
    throw error;
  } finally {
    body.off("data", onData);
    body.off("end", onEnd);
    body.off("error", onError);
    body.pause();
    decoder.unpipe(decoded);
    decoder.destroy();
    decoded.destroy();
  }
}
