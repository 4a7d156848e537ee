// A JSON document's usage record, read from its bytes as they pass, wherever the record sits and however long the
// document is: an OpenAI embeddings answer of thousands of vectors (`usage` after them), a Cohere or Voyage answer that
// puts it first, Ollama's counts after a long `context` list. The scan follows the document's nesting (strings and
// their escapes included) and keeps only the values of the members a usage record is (as usageRecord reads them):
// `usage`, `usageMetadata`, `prompt_eval_count` and `eval_count` at the top (and the answer's `id`, which goes with the
// record), and `meta.billed_units`, `response.usage`, `message.usage` one level down; a member of the same name deeper
// in (a `usage` inside `data[3]`) is not the document's. Each value kept is bounded (CAPTURE_BYTES) and parsed at the
// document's end. It is a tight loop over each chunk that allocates nothing per byte; strings, the bulk of a base64
// embeddings answer, are skipped by indexOf.
// A key spelled with an escape (`"us\u0061ge"`) is not recognised; nothing sends one. Never throws.
import { type UsageRecord, usageRecord } from "./proxy-usage.ts";

/** The most of one member's value kept; a longer one (no usage record is) is dropped. */
export const CAPTURE_BYTES = 64 * 1024;
/** Keys longer than this are no name the scan looks for. */
const KEY_BYTES = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
/** 1 for the bytes the nesting is made of (quotes, braces, brackets), 0 for the rest: one lookup per byte deep in. */
const NESTING = new Uint8Array(256);
for (const byte of [QUOTE, OPEN_BRACE, CLOSE_BRACE, OPEN_BRACKET, CLOSE_BRACKET]) NESTING[byte] = 1;
const isSpace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** The top-level members kept whole. */
const TOP_KEPT = new Set(["usage", "usageMetadata", "prompt_eval_count", "eval_count", "id"]);
/** The top-level objects whose one member is kept: Cohere's `meta.billed_units`, and two stream events' `usage`. */
const NESTED_KEPT: Record<string, string> = { meta: "billed_units", response: "usage", message: "usage" };

/** Reads a JSON document's usage record as its bytes come (add), and gives it at the end (record). */
export class UsageScan {
  private depth = 0;
  private inString = false;
  /** The string's last byte in the previous chunk was an unpaired backslash: its first byte here is escaped. */
  private escaped = false;
  private started = false;
  private closed = false;
  private broken = false;
  /** A key is due next in the root object (depth 1), or in the kept parent's object (depth 2). */
  private keyDue1 = false;
  private keyDue2 = false;
  /** The depth-2 object is a member of NESTED_KEPT: the name of its member to keep. */
  private innerKept: string | undefined;
  /** The key being read (its raw bytes, at the depth it sits), and what its value is to the scan. */
  private readonly key = new Uint8Array(KEY_BYTES);
  private keyLength = -1;
  private keyDepth = 0;
  /** After a key: its value starts at the next byte that is no space or colon. */
  private valueDue = false;
  private valueKept: string | undefined;
  private valueParent: string | undefined;
  /** The value being kept: its member's path and depth, and its bytes so far (undefined past the bound). */
  private capture: { path: string; depth: number; parts: Buffer[] | undefined; length: number } | undefined;
  private readonly values = new Map<string, Buffer>();

  add(chunk: Uint8Array): void {
    if (this.broken || chunk.length === 0) return;
    try {
      this.scan(chunk);
    } catch {
      this.broken = true; // cannot happen short of memory: the document then has no record
    }
  }

  /** The document's usage record, once it has ended: undefined if it had none, or was not one JSON object. */
  record(): UsageRecord | undefined {
    if (this.broken || !this.closed) return undefined;
    const value: Record<string, unknown> = {};
    for (const [path, bytes] of this.values) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(bytes.toString("utf8"));
      } catch {
        continue; // a value that is no JSON is no record
      }
      const [parent, member] = path.split(".");
      if (member === undefined) value[parent!] = parsed;
      else value[parent!] = { [member]: parsed };
    }
    return usageRecord(value);
  }

  private scan(chunk: Uint8Array): void {
    const length = chunk.length;
    let index = 0;
    let captureFrom = this.capture ? 0 : -1;
    while (index < length) {
      if (this.inString) {
        // To the closing quote: the next quote after an even run of backslashes.
        let from = index;
        if (this.escaped) {
          this.escaped = false;
          from++;
        }
        let end = chunk.indexOf(QUOTE, from);
        while (end >= 0) {
          let backslashes = 0;
          while (end - backslashes - 1 >= from && chunk[end - backslashes - 1] === BACKSLASH) backslashes++;
          if (backslashes % 2 === 0) break;
          end = chunk.indexOf(QUOTE, end + 1);
        }
        const stop = end < 0 ? length : end;
        if (end < 0) {
          let backslashes = 0;
          while (length - backslashes - 1 >= from && chunk[length - backslashes - 1] === BACKSLASH) backslashes++;
          this.escaped = backslashes % 2 === 1;
        }
        if (this.keyLength >= 0) this.addToKey(chunk, index, stop);
        if (end < 0) break;
        this.inString = false;
        if (this.keyLength >= 0) this.endKey();
        index = end + 1;
        continue;
      }
      // Deep in (below the root's members, or below a member no record sits in): only the nesting counts, in a tight
      // loop, to the next string or to where the depth is one the scan reads again. The bulk of a long document.
      const floor = this.innerKept === undefined ? 2 : 3;
      if (this.depth >= floor) {
        let depth = this.depth;
        for (; index < length; index++) {
          const byte = chunk[index]!;
          if (NESTING[byte] === 0) continue;
          if (byte === QUOTE) break;
          if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
          else if ((byte === CLOSE_BRACE || byte === CLOSE_BRACKET) && --depth < floor) break;
        }
        this.depth = depth;
        if (index < length) {
          if (chunk[index] === QUOTE) this.inString = true;
          index++;
        }
        continue;
      }
      const byte = chunk[index]!;
      if (isSpace(byte)) {
        index++;
        continue;
      }
      if (this.closed || (!this.started && byte !== OPEN_BRACE)) {
        this.broken = true; // text after the document, or a document that is no object
        return;
      }
      if (this.valueDue) {
        if (byte === COLON) {
          index++;
          continue;
        }
        this.valueDue = false;
        if (this.valueKept !== undefined) {
          this.capture = { path: this.valueKept, depth: this.depth, parts: [], length: 0 };
          captureFrom = index;
        } else if (this.valueParent !== undefined && byte === OPEN_BRACE) this.innerKept = this.valueParent;
      }
      switch (byte) {
        case QUOTE:
          this.inString = true;
          if ((this.depth === 1 && this.keyDue1) || (this.depth === 2 && this.keyDue2)) {
            this.keyLength = 0;
            this.keyDepth = this.depth;
          }
          break;
        case OPEN_BRACE:
        case OPEN_BRACKET:
          this.started = true;
          this.depth++;
          if (this.depth === 1) this.keyDue1 = true;
          else if (this.depth === 2 && this.innerKept !== undefined) this.keyDue2 = byte === OPEN_BRACE;
          break;
        case CLOSE_BRACE:
        case CLOSE_BRACKET:
          if (this.capture && this.capture.depth === this.depth)
            captureFrom = this.endCapture(chunk, captureFrom, index);
          this.depth--;
          if (this.depth <= 1) this.innerKept = undefined;
          if (this.depth === 0) this.closed = true;
          break;
        case COMMA:
          if (this.capture && this.capture.depth === this.depth)
            captureFrom = this.endCapture(chunk, captureFrom, index);
          if (this.depth === 1) this.keyDue1 = true;
          else this.keyDue2 = true;
          break;
      }
      index++;
    }
    if (this.capture && captureFrom >= 0) this.keep(chunk, captureFrom, length);
  }

  private addToKey(chunk: Uint8Array, from: number, to: number): void {
    if (this.keyLength + to - from > KEY_BYTES) this.keyLength = KEY_BYTES + 1;
    else {
      this.key.set(chunk.subarray(from, to), this.keyLength);
      this.keyLength += to - from;
    }
  }

  private endKey(): void {
    const name = this.keyLength <= KEY_BYTES ? Buffer.from(this.key.buffer, 0, this.keyLength).toString("latin1") : "";
    this.keyLength = -1;
    this.valueDue = true;
    this.valueKept = undefined;
    this.valueParent = undefined;
    if (this.keyDepth === 1) {
      this.keyDue1 = false;
      if (TOP_KEPT.has(name)) this.valueKept = name;
      else if (Object.hasOwn(NESTED_KEPT, name)) this.valueParent = NESTED_KEPT[name];
      if (this.valueParent !== undefined) this.valueParent = `${name}.${this.valueParent}`;
    } else {
      this.keyDue2 = false;
      if (this.innerKept?.endsWith(`.${name}`)) this.valueKept = this.innerKept;
    }
  }

  /** The value kept ends before `at`: it is stored, and nothing more of this chunk is kept. */
  private endCapture(chunk: Uint8Array, from: number, at: number): number {
    this.keep(chunk, Math.max(from, 0), at);
    const { path, parts } = this.capture!;
    if (parts) this.values.set(path, Buffer.concat(parts));
    else this.values.delete(path);
    this.capture = undefined;
    return -1;
  }

  private keep(chunk: Uint8Array, from: number, to: number): void {
    const capture = this.capture!;
    if (!capture.parts || to <= from) return;
    capture.length += to - from;
    if (capture.length > CAPTURE_BYTES) capture.parts = undefined;
    else capture.parts.push(Buffer.from(chunk.subarray(from, to)));
  }
}
