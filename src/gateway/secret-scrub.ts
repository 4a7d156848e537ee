// A proxied answer's body streamed through to the client without the credentials the router knows (the target's
// own among them, remembered when its attempt resolved them: remembered-credentials.ts): an upstream endpoint that
// echoes its request (a debug or echo path behind `endpointPrefixes: []`) would otherwise hand the key to the
// client. Only those exact values are looked for, byte for byte, so any body (JSON, text, a file download) passes
// unchanged unless it holds one of them.
import { Transform, type TransformCallback } from "node:stream";
import { REDACTED } from "../state/redact.ts";

const REPLACEMENT = Buffer.from(REDACTED);

/**
 * Replaces each secret in the stream with [REDACTED], also across chunk boundaries: only a chunk's end that could be
 * the start of a secret waits for the next chunk, so a streamed answer is not held back otherwise.
 */
export class SecretScrub extends Transform {
  private readonly secrets: Buffer[];
  private tail: Buffer = Buffer.alloc(0);

  /** `secrets` longest first, so a longer value wins over one it contains. */
  constructor(secrets: readonly string[]) {
    super();
    this.secrets = secrets.map((secret) => Buffer.from(secret));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const data = this.tail.length > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
    const from = this.replaceSecrets(data);
    const held = this.partialSecretAt(data, from);
    if (held > from) this.push(data.subarray(from, held));
    this.tail = Buffer.from(data.subarray(held));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.tail.length > 0) this.push(this.tail);
    this.tail = Buffer.alloc(0);
    callback();
  }

  /** Pushes `data` up to its last whole secret, each replaced; returns where the rest begins. */
  private replaceSecrets(data: Buffer): number {
    let from = 0;
    for (let found = this.nextSecret(data, from); found; found = this.nextSecret(data, from)) {
      if (found.at > from) this.push(data.subarray(from, found.at));
      this.push(REPLACEMENT);
      from = found.at + found.length;
    }
    return from;
  }

  /** The earliest byte from `from` where the rest of `data` is the start of a secret (its length when none is). */
  private partialSecretAt(data: Buffer, from: number): number {
    let start = data.length;
    for (const secret of this.secrets) {
      for (let at = Math.max(from, data.length - secret.length + 1); at < start; at++) {
        if (data[at] === secret[0] && data.subarray(at).equals(secret.subarray(0, data.length - at))) {
          start = at;
          break;
        }
      }
    }
    return start;
  }

  /** The earliest secret in `data` from `from` (the longest one where several start at the same byte). */
  private nextSecret(data: Buffer, from: number): { at: number; length: number } | undefined {
    let best: { at: number; length: number } | undefined;
    for (const secret of this.secrets) {
      const at = data.indexOf(secret, from);
      if (at >= 0 && (!best || at < best.at)) best = { at, length: secret.length };
    }
    return best;
  }
}
