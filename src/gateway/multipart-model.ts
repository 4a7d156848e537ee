// A streamed multipart/form-data upload's `model` field, rewritten as the body passes to the target: OpenAI's audio
// transcriptions and translations and its image edits send the model as a form field beside the file, and a route's
// name (`audio`, `auto-router/audio`) there would reach the provider as the model it is asked for. The body is never
// held: only the part headers and the model field's value wait for their end (each at most FIELD_LIMIT_BYTES, past
// which the body is passed on unchanged), and the tail of a chunk that could begin a part's delimiter waits for the
// next chunk. Only the first `model` field that is no file is rewritten.
import { Transform, type TransformCallback } from "node:stream";

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

/** Rewrites the first `model` form field of a multipart/form-data body with `boundary` to `modelId`. */
export class MultipartModelRewrite extends Transform {
  private readonly delimiter: Buffer;
  private readonly first: Buffer;
  private readonly modelId: Buffer;
  private pending: Buffer = Buffer.alloc(0);
  private state: State = "start";

  constructor(boundary: string, modelId: string) {
    super();
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
    this.first = Buffer.from(`--${boundary}`);
    this.modelId = Buffer.from(modelId);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.state === "done") return callback(null, chunk);
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.advance(false);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.advance(true);
    if (this.pending.length) this.push(this.pending);
    this.pending = Buffer.alloc(0);
    callback();
  }

  /** Passes on what is decided, keeping in `pending` only what the next chunk may change. */
  private advance(ended: boolean): void {
    for (;;) {
      const pending = this.pending;
      if (this.state === "start") {
        // The body's first delimiter has no CRLF before it; a preamble before it is scanned as a part's body.
        if (pending.length < this.first.length && !ended && this.first.subarray(0, pending.length).equals(pending))
          return;
        if (pending.subarray(0, this.first.length).equals(this.first)) {
          this.pass(this.first.length);
          this.state = "delimiter-end";
        } else this.state = "body";
        continue;
      }
      if (this.state === "body" || this.state === "model") {
        const at = pending.indexOf(this.delimiter);
        if (at < 0) {
          if (this.state === "model" && pending.length > FIELD_LIMIT_BYTES) return this.giveUp();
          // The tail that could begin the delimiter waits; the model field's value waits whole for its end.
          if (this.state === "body") this.pass(Math.max(0, pending.length - (this.delimiter.length - 1)));
          return;
        }
        if (this.state === "model") {
          this.push(this.modelId);
          this.pending = pending.subarray(at);
          return this.giveUp(); // the one field rewritten: the rest passes on as it comes
        }
        this.pass(at + this.delimiter.length);
        this.state = "delimiter-end";
        continue;
      }
      if (this.state === "delimiter-end") {
        // `--` closes the body (the epilogue follows); CRLF begins a part's headers.
        if (pending.length < 2) return;
        if (pending[0] === 0x2d && pending[1] === 0x2d) return this.giveUp();
        this.state = "headers";
        continue;
      }
      if (this.state === "headers") {
        const end = pending.indexOf("\r\n\r\n");
        if (end < 0) return pending.length > FIELD_LIMIT_BYTES ? this.giveUp() : undefined;
        const model = isModelField(pending.subarray(0, end).toString("latin1"));
        this.pass(end + 4);
        this.state = model ? "model" : "body";
        continue;
      }
      return;
    }
  }

  /** Pushes the first `bytes` of what is pending. */
  private pass(bytes: number): void {
    if (bytes > 0) this.push(this.pending.subarray(0, bytes));
    this.pending = this.pending.subarray(bytes);
  }

  /** Passes everything on unchanged from here on. */
  private giveUp(): void {
    this.state = "done";
    if (this.pending.length) this.push(this.pending);
    this.pending = Buffer.alloc(0);
  }
}
