// A proxied answer's body streamed through to the client without the credentials the gateway sent its target: an
// upstream endpoint that echoes its request (a debug or echo path behind `endpointPrefixes: []`) would otherwise
// hand the target's key to the client. Only the exact values sent are looked for, byte for byte, so any body (JSON,
// text, a file download) passes unchanged unless it holds one of them.
import { Transform, type TransformCallback } from "node:stream";
import { REDACTED } from "../state/redact.ts";

/** Shorter values are no secrets (the same floor as the redaction of texts). */
const MINIMUM_SECRET_LENGTH = 12;
const REPLACEMENT = Buffer.from(REDACTED);

/**
 * The credential values an attempt sends: its API key and the values of its own headers (a scheme's token too, as in
 * `Bearer <token>`), each at least 12 characters; longest first, so a longer value wins over one it contains.
 */
export function sentSecrets(auth: { apiKey?: string; headers?: Record<string, string | null> }): string[] {
  const values = new Set<string>();
  const add = (value: string | null | undefined) => {
    if (!value) return;
    if (value.length >= MINIMUM_SECRET_LENGTH) values.add(value);
    const token = value.slice(value.lastIndexOf(" ") + 1);
    if (token !== value && token.length >= MINIMUM_SECRET_LENGTH) values.add(token);
  };
  add(auth.apiKey);
  for (const value of Object.values(auth.headers ?? {})) add(value);
  return [...values].sort((a, b) => b.length - a.length);
}

/** Replaces each secret in the stream with [REDACTED], also across chunk boundaries. */
export class SecretScrub extends Transform {
  private readonly secrets: Buffer[];
  /** Bytes held back at the end of a chunk: the start of a secret the next chunk may complete. */
  private readonly holdBack: number;
  private tail: Buffer = Buffer.alloc(0);

  constructor(secrets: readonly string[]) {
    super();
    this.secrets = secrets.map((secret) => Buffer.from(secret));
    this.holdBack = Math.max(0, ...this.secrets.map((secret) => secret.length - 1));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const data = this.tail.length > 0 ? Buffer.concat([this.tail, chunk]) : chunk;
    this.tail = this.scrub(data, Math.max(0, data.length - this.holdBack));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.scrub(this.tail, this.tail.length);
    this.tail = Buffer.alloc(0);
    callback();
  }

  /**
   * Pushes `data` with every secret starting before `limit` replaced, up to `limit` (or the end of the last replaced
   * secret, if later); returns the rest, to be read again with what follows.
   */
  private scrub(data: Buffer, limit: number): Buffer {
    let from = 0;
    for (;;) {
      const found = this.nextSecret(data, from);
      if (!found || found.at >= limit) break;
      if (found.at > from) this.push(data.subarray(from, found.at));
      this.push(REPLACEMENT);
      from = found.at + found.length;
    }
    const end = Math.max(from, limit);
    if (end > from) this.push(data.subarray(from, end));
    return Buffer.from(data.subarray(end));
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
