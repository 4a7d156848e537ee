// An answer on its way to the client without the credentials the router knows (the target's own among them,
// remembered when its attempt resolved them: remembered-credentials.ts): an upstream that echoes its request (a debug
// or echo endpoint, a misbehaving proxy) would otherwise hand the operator's key to a client that holds only the
// gateway token. Only those exact values are looked for, so any answer (JSON, SSE, text, a file download) passes
// unchanged unless it holds one of them. The wildcard proxy scrubs bytes (SecretScrub), the chat endpoints the text
// they write (TextScrub), both with the same scan.
import { Transform, type TransformCallback } from "node:stream";
import type { AssistantMessageEvent } from "@mariozechner/pi-ai";
import { REDACTED } from "../state/redact.ts";
import type { AnswerEvent } from "./refusal.ts";
import { rememberedCredentialValues } from "../state/remembered-credentials.ts";

const REPLACEMENT = Buffer.from(REDACTED);

/**
 * The secrets of one list, compiled once: every event of every answer is scanned, so a chunk that holds none costs one
 * regex pass (irregexp skips ahead on the secrets' first characters), and a possible start of one at its end is looked
 * for only where its last characters could all belong to a secret (an SSE event ends in a newline: none can).
 */
class SecretScan {
  private readonly pattern: RegExp;
  private readonly characters: Set<number>;
  private readonly longest: number;

  /** `secrets` longest first: of several that start at the same index the longest is replaced. */
  constructor(private readonly secrets: readonly string[]) {
    const escaped = secrets.map((secret) => secret.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&"));
    this.pattern = new RegExp(escaped.length > 0 ? escaped.join("|") : "(?!)", "g");
    this.characters = new Set(secrets.flatMap((secret) => [...secret].map((character) => character.charCodeAt(0))));
    this.longest = Math.max(0, ...secrets.map((secret) => secret.length));
  }

  /**
   * Reports each stretch of `data` without a secret (`clean`) and each secret in it (`secret`), in order, and returns
   * where its end could begin a secret (its length when it cannot): that part waits for what comes next.
   */
  run(data: string, clean: (from: number, to: number) => void, secret: () => void): number {
    let from = 0;
    this.pattern.lastIndex = 0;
    for (let match = this.pattern.exec(data); match; match = this.pattern.exec(data)) {
      if (match.index > from) clean(from, match.index);
      secret();
      from = this.pattern.lastIndex;
    }
    const held = this.partialSecretAt(data, from);
    if (held > from) clean(from, held);
    return held;
  }

  /** The earliest index from `from` where the rest of `data` is the start of a secret (its length when none is). */
  private partialSecretAt(data: string, from: number): number {
    // Only the last characters that all occur in some secret, and fewer than the longest one, can begin one.
    const earliest = Math.max(from, data.length - this.longest + 1);
    let run = data.length;
    while (run > earliest && this.characters.has(data.charCodeAt(run - 1))) run--;
    for (let at = run; at < data.length; at++) {
      const rest = data.length - at;
      for (const secret of this.secrets) {
        if (secret.length <= rest) continue;
        let index = 0;
        while (index < rest && data.charCodeAt(at + index) === secret.charCodeAt(index)) index++;
        if (index === rest) return at;
      }
    }
    return data.length;
  }
}

/** The scan of each list of secrets, kept while the list is (remembered-credentials.ts makes a new one on a change). */
const scans = new WeakMap<readonly string[], SecretScan>();
/** The same for bytes: each secret spelled as its UTF-8 bytes read as latin1, one character per byte. */
const byteScans = new WeakMap<readonly string[], SecretScan>();

function scanOf(secrets: readonly string[], bytes: boolean): SecretScan {
  const cache = bytes ? byteScans : scans;
  let scan = cache.get(secrets);
  if (!scan) {
    scan = new SecretScan(bytes ? secrets.map((secret) => Buffer.from(secret).toString("latin1")) : secrets);
    cache.set(secrets, scan);
  }
  return scan;
}

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
    if (this.tail.length > 0) this.push(this.tail);
    this.tail = Buffer.alloc(0);
    callback();
  }

  /** A whole body, scrubbed at once (the body itself when it holds none). */
  static all(data: Buffer, secrets: readonly string[]): Buffer {
    if (secrets.length === 0) return data;
    const parts: Buffer[] = [];
    let found = false;
    // What run() holds back as the possible start of a secret is the body's end here: it goes out as it is.
    const held = scanOf(secrets, true).run(
      data.toString("latin1"),
      (from, to) => parts.push(data.subarray(from, to)),
      () => {
        found = true;
        parts.push(REPLACEMENT);
      },
    );
    parts.push(data.subarray(held));
    return found ? Buffer.concat(parts) : data;
  }
}

/**
 * The same for text written piece by piece (a chat answer's events): `take` returns what may go out now, `end` what
 * was held at the end. The credentials are those known when it is made: the attempt's own are resolved by then.
 */
export class TextScrub {
  private readonly scan: SecretScan | undefined;
  private tail = "";
  private data = "";
  private out = "";
  private readonly clean = (from: number, to: number) => void (this.out += this.data.slice(from, to));
  private readonly secret = () => void (this.out += REDACTED);

  /** `secrets` longest first, so a longer value wins over one it contains. */
  constructor(secrets: readonly string[] = rememberedCredentialValues()) {
    this.scan = secrets.length > 0 ? scanOf(secrets, false) : undefined;
  }

  take(text: string): string {
    if (!this.scan) return text;
    this.data = this.tail === "" ? text : this.tail + text;
    const held = this.scan.run(this.data, this.clean, this.secret);
    this.tail = held < this.data.length ? this.data.slice(held) : "";
    const out = this.out;
    this.data = this.out = "";
    return out;
  }

  end(): string {
    const tail = this.tail;
    this.tail = "";
    return tail;
  }

  /** A whole answer, scrubbed at once. */
  static all(text: string, secrets?: readonly string[]): string {
    const scrub = new TextScrub(secrets);
    return scrub.take(text) + scrub.end();
  }
}

type DeltaEvent = Extract<AssistantMessageEvent, { delta: string }>;

/**
 * A streamed answer's deltas scrubbed per content block as one text, before they are encoded: a credential split
 * across two deltas (a model streams a few characters at a time) is in no single encoded event for TextScrub to find.
 * What could begin a credential waits for the block's next delta, and goes out before the block's end (or the
 * answer's, when it breaks off).
 */
export class DeltaScrub {
  private readonly secrets: readonly string[];
  private readonly blocks = new Map<number, { scrub: TextScrub; type: DeltaEvent["type"] }>();

  constructor(secrets: readonly string[] = rememberedCredentialValues()) {
    this.secrets = secrets;
  }

  /**
   * Hands `emit` the events to encode for `event`: a delta scrubbed (none when all of it waits; the event itself when
   * nothing changed), and before a block's or the answer's end what waited.
   */
  pass(event: AnswerEvent, emit: (event: AnswerEvent) => void): void {
    if (this.secrets.length === 0) return emit(event);
    if (event.type === "text_delta" || event.type === "thinking_delta" || event.type === "toolcall_delta") {
      let block = this.blocks.get(event.contentIndex);
      if (!block) {
        block = { scrub: new TextScrub(this.secrets), type: event.type };
        this.blocks.set(event.contentIndex, block);
      }
      const delta = block.scrub.take(event.delta);
      if (delta !== "") emit(delta === event.delta ? event : { ...event, delta });
      return;
    }
    if (event.type === "text_end" || event.type === "thinking_end" || event.type === "toolcall_end")
      this.flush(event.contentIndex, event.partial, emit);
    else if (event.type === "done" || event.type === "error" || event.type === "refusal")
      for (const index of [...this.blocks.keys()])
        this.flush(index, event.type === "error" ? event.error : event.message, emit);
    emit(event);
  }

  /** What a block's scrub still holds, as one more delta of its kind. */
  private flush(
    contentIndex: number,
    partial: DeltaEvent["partial"],
    emit: (event: AssistantMessageEvent) => void,
  ): void {
    const block = this.blocks.get(contentIndex);
    if (!block) return;
    this.blocks.delete(contentIndex);
    const delta = block.scrub.end();
    if (delta !== "") emit({ type: block.type, contentIndex, delta, partial } as DeltaEvent);
  }
}
