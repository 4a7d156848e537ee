// An answer on its way to the client without the credentials the router knows (the target's own among them,
// remembered when its attempt resolved them: remembered-credentials.ts): an upstream that echoes its request (a debug
// or echo endpoint, a misbehaving proxy) would otherwise hand the operator's key to a client that holds only the
// gateway token. Only those exact values are looked for, so any answer (JSON, SSE, text, a file download) passes
// unchanged unless it holds one of them. The wildcard proxy scrubs bytes (SecretScrub), the chat endpoints the text
// they write (TextScrub, state/secret-scan.ts), both with the same scan; the deltas of a translated answer are
// scrubbed where every answer from a target is, pi's too (runtime/answer-scrub.ts).
import { Transform, type TransformCallback } from "node:stream";
import { REDACTED } from "../state/redact.ts";
import { type SecretScan, scanOf } from "../state/secret-scan.ts";

const REPLACEMENT = Buffer.from(REDACTED);

/**
 * Replaces each secret in a byte stream with [REDACTED], also across chunk boundaries: only a chunk's end that could
 * be the start of a secret waits for the next chunk, so a streamed answer is not held back otherwise.
 */
export class SecretScrub extends Transform {
  private readonly scan: SecretScan;
  private tail: Buffer = Buffer.alloc(0);

  /** `secrets` longest first, so a longer value wins over one it contains. */
  constructor(secrets: readonly string[]) {
    super();
    this.scan = scanOf(secrets, true);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const data = this.tail.length > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
    // Read as latin1, each character is one byte: the scan's indexes are the buffer's.
    const held = this.scan.run(
      data.toString("latin1"),
      (from, to) => this.push(data.subarray(from, to)),
      () => this.push(REPLACEMENT),
    );
    this.tail = Buffer.from(data.subarray(held));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.tail.length > 0) this.push(this.scan.cutShort(this.tail.toString("latin1")) ? REPLACEMENT : this.tail);
    this.tail = Buffer.alloc(0);
    callback();
  }

  /** A whole body, scrubbed at once (the body itself when it holds none). */
  static all(data: Buffer, secrets: readonly string[]): Buffer {
    if (secrets.length === 0) return data;
    const parts: Buffer[] = [];
    let found = false;
    // What run() holds back as the possible start of a secret is the body's end here: it goes out as it is, unless it
    // is a credential cut short.
    const scan = scanOf(secrets, true);
    const text = data.toString("latin1");
    const held = scan.run(
      text,
      (from, to) => parts.push(data.subarray(from, to)),
      () => {
        found = true;
        parts.push(REPLACEMENT);
      },
    );
    if (held < data.length && scan.cutShort(text.slice(held))) {
      found = true;
      parts.push(REPLACEMENT);
    } else parts.push(data.subarray(held));
    return found ? Buffer.concat(parts) : data;
  }
}
