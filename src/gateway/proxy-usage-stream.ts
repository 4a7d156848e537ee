// Reading a proxied answer's usage as its bytes pass to the client, in bounded memory, by its content-type:
// - one JSON document: kept whole up to WHOLE_READ_BYTES and parsed at its end; past that, only its last TAIL_BYTES
//   are kept, where the APIs put `usage` (an OpenAI embeddings batch), and read by proxy-usage-tail.ts;
// - an event stream (`text/event-stream`: Chat Completions or legacy Completions with `stream: true`, Responses,
//   Anthropic, Gemini's `alt=sse`) and NDJSON (`application/x-ndjson`: Ollama's `/api/chat` and `/api/generate`): read
//   line by line, each `data:` line (SSE) or line (NDJSON) that names a usage field parsed as one JSON value (a longer
//   line than the bound by its tail), and the records found merged field by field, later over earlier: a stream's
//   last record is its total (OpenAI's final chunk, Gemini's last `usageMetadata`, Ollama's `done: true` line), and
//   Anthropic's `message_delta` output count completes its `message_start` input count.
// Nothing here throws into the pipe it sits beside: a reader that fails reads nothing more, and the answer books no
// usage, as one without a record.
import type { TokenCounts } from "./passthrough-scan.ts";
import { recordTokens, type UsageReader, type UsageRecord, type UsageShape, usageRecord } from "./proxy-usage.ts";
import { tailUsageRecord } from "./proxy-usage-tail.ts";

/**
 * The longest JSON document (or stream line) parsed whole. It is held while the answer streams to the client, so this
 * bounds the memory one proxied request holds beside it and the parse (~10-20 ms of main thread at the bound): it
 * holds any rerank answer and an OpenAI embeddings answer of about 500 inputs of 1,536 dimensions in base64.
 */
export const WHOLE_READ_BYTES = 4 * 1024 * 1024;
/** What is kept of a longer one: its end, where a usage record sits, with room to spare. */
export const TAIL_BYTES = 64 * 1024;

/** JSON, and one document: `application/json`, `application/<x>+json`. */
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;
const SSE_TYPE = /^text\/event-stream\s*(?:;|$)/i;
const NDJSON_TYPE = /^application\/(?:x-)?ndjson\s*(?:;|$)/i;

/** A line (or document) as it passes: kept whole up to a bound, then only its last `tailBytes`. */
export class BoundedText {
  private chunks: Uint8Array[] = [];
  private kept = 0;
  private whole = true;

  constructor(
    private readonly wholeBytes = WHOLE_READ_BYTES,
    private readonly tailBytes = TAIL_BYTES,
  ) {}

  add(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.kept += chunk.byteLength;
    if (this.whole && this.kept <= this.wholeBytes) return;
    this.whole = false;
    // Past the bound: the oldest chunks go while what remains still covers the tail.
    while (this.chunks.length > 1 && this.kept - this.chunks[0]!.byteLength >= this.tailBytes)
      this.kept -= this.chunks.shift()!.byteLength;
  }

  /** The text so far, whole or its tail, and starts over. */
  take(): { text: Buffer; whole: boolean } {
    const text = Buffer.concat(this.chunks);
    const taken = {
      text: this.whole ? text : text.subarray(Math.max(0, text.length - this.tailBytes)),
      whole: this.whole,
    };
    this.chunks = [];
    this.kept = 0;
    this.whole = true;
    return taken;
  }
}

/** A JSON text's usage record: parsed whole, or found in its tail. */
function textRecord({ text, whole }: { text: Buffer; whole: boolean }): UsageRecord | undefined {
  if (!whole) return tailUsageRecord(text.toString("utf8"));
  try {
    return usageRecord(JSON.parse(text.toString("utf8")));
  } catch {
    return undefined;
  }
}

/** One JSON document's usage: read at its end. */
class DocumentUsage implements UsageReader {
  private readonly text = new BoundedText();

  add(chunk: Uint8Array): void {
    try {
      this.text.add(chunk);
    } catch {} // cannot happen short of memory: the answer then books no usage
  }

  tokens(): TokenCounts | undefined {
    try {
      return recordTokens(textRecord(this.text.take()));
    } catch {
      return undefined;
    }
  }
}

/** The names a line must hold for it to be parsed: a line without any has no usage record (most stream chunks). */
const USAGE_MARKERS = ["usage", "billed_units", "eval_count"].map((name) => Buffer.from(name));
const NEWLINE = 0x0a;
const SSE_DATA = Buffer.from("data:");
/** The first bytes of a line are kept beside its text: a long SSE line's tail no longer shows its field name. */
const HEAD_BYTES = SSE_DATA.length;

/** A stream's usage: its lines' records, merged as they come. */
class LineUsage implements UsageReader {
  private readonly line = new BoundedText();
  private head = Buffer.alloc(0);
  private readonly merged = new Map<UsageShape, Record<string, unknown>>();
  private failed = false;

  constructor(private readonly sse: boolean) {}

  add(chunk: Uint8Array): void {
    if (this.failed) return;
    try {
      let start = 0;
      for (let end = chunk.indexOf(NEWLINE); end >= 0; start = end + 1, end = chunk.indexOf(NEWLINE, start)) {
        this.addToLine(chunk.subarray(start, end));
        this.endLine();
      }
      this.addToLine(chunk.subarray(start));
    } catch {
      this.failed = true;
    }
  }

  tokens(): TokenCounts | undefined {
    if (this.failed) return undefined;
    try {
      this.endLine(); // a last line without its newline
      for (const shape of ["usage", "usageMetadata", "billed_units", "ollama"] as const) {
        const fields = this.merged.get(shape);
        if (fields) return recordTokens({ shape, fields });
      }
    } catch {}
    return undefined;
  }

  private addToLine(bytes: Uint8Array): void {
    if (this.head.length < HEAD_BYTES)
      this.head = Buffer.concat([this.head, bytes.subarray(0, HEAD_BYTES - this.head.length)]);
    this.line.add(bytes);
  }

  private endLine(): void {
    const head = this.head;
    this.head = Buffer.alloc(0);
    const { text, whole } = this.line.take();
    if (this.sse && !head.equals(SSE_DATA)) return; // an event name, an id, a comment, a blank line
    let json = text;
    if (this.sse && whole) {
      json = text.subarray(SSE_DATA.length);
      if (json[0] === 0x20) json = json.subarray(1);
    }
    if (!USAGE_MARKERS.some((marker) => json.includes(marker))) return;
    const record = textRecord({ text: json, whole });
    if (!record) return;
    // A field a later event leaves null (Anthropic's message_delta may) keeps the count an earlier one gave.
    const fields = { ...this.merged.get(record.shape) };
    for (const [name, value] of Object.entries(record.fields)) if (value != null) fields[name] = value;
    this.merged.set(record.shape, fields);
  }
}

/**
 * The reader of this answer's usage, or undefined when it has none to read: a 2xx answer with a body that is one JSON
 * document, an event stream or NDJSON, by its content-type.
 */
export function usageReader(method: string, status: number, headers: Headers): UsageReader | undefined {
  if (method === "HEAD" || status < 200 || status >= 300 || status === 204) return undefined;
  const type = headers.get("content-type") ?? "";
  if (JSON_TYPE.test(type)) return new DocumentUsage();
  if (SSE_TYPE.test(type)) return new LineUsage(true);
  if (NDJSON_TYPE.test(type)) return new LineUsage(false);
  return undefined;
}
