// Reading a proxied answer's usage as its bytes pass to the client, in bounded memory, by its content-type:
// - one JSON document: scanned as it passes (proxy-usage-scan.ts), which keeps only its usage record's values, wherever
//   they sit and however long the document is;
// - an event stream (`text/event-stream`: Chat Completions or legacy Completions with `stream: true`, Responses,
//   Anthropic, Gemini's `alt=sse`): read event by event, each event's `data:` lines joined as the SSE spec joins them
//   and read as one JSON value at the event's end (a blank line, or the stream's);
// - NDJSON (`application/x-ndjson`: Ollama's `/api/chat` and `/api/generate`): read line by line, each line one value.
// An event's data or a line is parsed only when it names a usage field with a value other than null (one longer than
// WHOLE_READ_BYTES is scanned as the document is, from the bound on), and the records found are merged field by field, later over earlier: a
// stream's last record is its total (OpenAI's final chunk, Gemini's last `usageMetadata`, Ollama's `done: true`
// line), and Anthropic's `message_delta` output count completes its `message_start` input count. The answer's id is
// the first one such a value has beside its record (a Chat Completions chunk's `id` is the same in every chunk).
// Nothing here throws into the pipe it sits beside: a reader that fails reads nothing more, and the answer books no
// usage, as one without a record.
import {
  type ProxiedUsage,
  recordUsage,
  type UsageReader,
  type UsageRecord,
  type UsageShape,
  usageRecord,
} from "./proxy-usage.ts";
import { UsageScan } from "./proxy-usage-scan.ts";

/**
 * The longest stream event or line parsed whole. It is held while the answer streams to the client, so this bounds
 * the memory one proxied stream holds beside it and the parse (~10-20 ms of main thread at the bound); a longer one is
 * scanned (proxy-usage-scan.ts) from there on, the bytes held first included.
 */
export const WHOLE_READ_BYTES = 4 * 1024 * 1024;

/** JSON, and one document: `application/json`, `application/<x>+json`. */
const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;
const SSE_TYPE = /^text\/event-stream\s*(?:;|$)/i;
const NDJSON_TYPE = /^application\/(?:x-)?ndjson\s*(?:;|$)/i;

/** What a BoundedText gives: its text whole, or the scan that read a longer one. */
export type TakenText = { text: Buffer } | { scan: UsageScan };

/** A stream event's data or a line as it passes: kept whole up to a bound, then scanned instead of kept. */
export class BoundedText {
  private chunks: Uint8Array[] = [];
  private kept = 0;
  private scan: UsageScan | undefined;

  constructor(private readonly wholeBytes = WHOLE_READ_BYTES) {}

  add(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    if (this.scan) return this.scan.add(chunk);
    this.chunks.push(chunk);
    this.kept += chunk.byteLength;
    if (this.kept <= this.wholeBytes) return;
    this.scan = new UsageScan();
    for (const held of this.chunks) this.scan.add(held);
    this.chunks = [];
    this.kept = 0;
  }

  /** The text so far, or its scan, and starts over. */
  take(): TakenText {
    const taken: TakenText = this.scan ? { scan: this.scan } : { text: Buffer.concat(this.chunks) };
    this.chunks = [];
    this.kept = 0;
    this.scan = undefined;
    return taken;
  }
}

/** A JSON text's usage record: parsed whole, or as its scan read it. */
function textRecord(taken: TakenText): UsageRecord | undefined {
  if ("scan" in taken) return taken.scan.record();
  try {
    return usageRecord(JSON.parse(taken.text.toString("utf8")));
  } catch {
    return undefined;
  }
}

/** One JSON document's usage: scanned as it passes, read at its end. */
class DocumentUsage implements UsageReader {
  private readonly scan = new UsageScan();

  add(chunk: Uint8Array): void {
    this.scan.add(chunk);
  }

  usage(): ProxiedUsage | undefined {
    try {
      return recordUsage(this.scan.record());
    } catch {
      return undefined;
    }
  }

  responseId(): string | undefined {
    return this.scan.record()?.id;
  }
}

const QUOTE = 0x22;
const COLON = 0x3a;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const NEWLINE = Buffer.from("\n");
const NULL = Buffer.from("null");
/** The names a usage record's text holds (`usage` in `usageMetadata`, `eval_count` in `prompt_eval_count` too). */
const USAGE_MARKERS = ["usage", "billed_units", "eval_count"].map((name) => Buffer.from(name));
const isJSONSpace = (byte: number | undefined) => byte === SPACE || byte === LF || byte === CR || byte === 0x09;

/**
 * Whether a JSON text may hold a usage record, without parsing it: a usage field's name as a key (its closing quote,
 * then a colon) with a value other than null. Most stream chunks name none, and a Chat Completions stream with
 * `stream_options.include_usage` names `"usage":null` in every chunk but its last: neither is parsed. The name in a
 * string that happens to look like a key costs one parse, no more.
 */
export function mayHoldUsage(text: Buffer): boolean {
  for (const marker of USAGE_MARKERS)
    for (let at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + marker.length)) {
      let index = text.indexOf(QUOTE, at + marker.length);
      if (index < 0) break; // no key ends after this name, nor after a later one
      index++;
      while (isJSONSpace(text[index])) index++;
      if (text[index] !== COLON) continue;
      index++;
      while (isJSONSpace(text[index])) index++;
      if (index < text.length && !text.subarray(index, index + NULL.length).equals(NULL)) return true;
    }
  return false;
}

/** A stream's usage records, merged as they come: later over earlier, field by field. */
class MergedRecords {
  private readonly merged = new Map<UsageShape, Record<string, unknown>>();
  /** The first id a record came with. */
  id: string | undefined;

  add(taken: TakenText): void {
    if ("text" in taken && !mayHoldUsage(taken.text)) return;
    const record = textRecord(taken);
    if (!record) return;
    this.id ??= record.id;
    // A field a later event leaves null (Anthropic's message_delta may) keeps the count an earlier one gave.
    const fields = { ...this.merged.get(record.shape) };
    for (const [name, value] of Object.entries(record.fields)) if (value != null) fields[name] = value;
    this.merged.set(record.shape, fields);
  }

  usage(): ProxiedUsage | undefined {
    for (const shape of ["usage", "usageMetadata", "billed_units", "ollama"] as const) {
      const fields = this.merged.get(shape);
      if (fields) return recordUsage({ shape, fields });
    }
    return undefined;
  }
}

/** A stream's usage: its records read as its bytes come, merged; a reader that fails reads nothing more. */
abstract class StreamUsage implements UsageReader {
  protected readonly records = new MergedRecords();
  private failed = false;

  add(chunk: Uint8Array): void {
    if (this.failed) return;
    try {
      this.read(chunk);
    } catch {
      this.failed = true;
    }
  }

  usage(): ProxiedUsage | undefined {
    if (this.failed) return undefined;
    try {
      this.end();
      return this.records.usage();
    } catch {
      return undefined;
    }
  }

  responseId(): string | undefined {
    return this.failed ? undefined : this.records.id;
  }

  protected abstract read(chunk: Uint8Array): void;
  /** The stream has ended: what is under way is read as if it had. */
  protected abstract end(): void;
}

/** NDJSON: each line one JSON value. */
class NdjsonUsage extends StreamUsage {
  private readonly line = new BoundedText();

  protected read(chunk: Uint8Array): void {
    let start = 0;
    for (let end = chunk.indexOf(LF); end >= 0; start = end + 1, end = chunk.indexOf(LF, start)) {
      this.line.add(chunk.subarray(start, end));
      this.records.add(this.line.take());
    }
    this.line.add(chunk.subarray(start));
  }

  protected end(): void {
    this.records.add(this.line.take()); // a last line without its newline
  }
}

const DATA_FIELD = Buffer.from("data:");

/**
 * An event stream, as the SSE spec reads one: lines end with LF, CRLF or a lone CR; a `data` line's value (after
 * `data:` and one optional space) is one line of its event's data, which are joined with "\n"; a blank line ends the
 * event, whose data is then read as one JSON value (Anthropic's, OpenAI's and Gemini's events each send theirs on one
 * line, but the spec lets a server spread it over several). Comments (`:`), `event:`, `id:` and `retry:` lines are
 * no data. Only the event's data is kept, as a BoundedText: an event longer than its bound is scanned.
 */
class EventStreamUsage extends StreamUsage {
  private readonly data = new BoundedText();
  private dataLines = 0;
  /** Where the line under way is: in its field name (`matched` bytes of `data:` so far), a data value, or no data. */
  private line: "name" | "valueStart" | "value" | "other" = "name";
  private matched = 0;
  /** The last chunk ended with a CR: an LF starting the next one ends the same line. */
  private afterCR = false;

  protected read(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    let start = 0;
    if (this.afterCR && chunk[0] === LF) start = 1;
    this.afterCR = false;
    let lf = chunk.indexOf(LF, start);
    let cr = chunk.indexOf(CR, start);
    while (lf >= 0 || cr >= 0) {
      const end = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      this.addToLine(chunk.subarray(start, end));
      this.endLine();
      start = end + 1;
      if (end === cr) {
        if (start === chunk.length) this.afterCR = true;
        else if (chunk[start] === LF) start++;
      }
      if (lf >= 0 && lf < start) lf = chunk.indexOf(LF, start);
      if (cr >= 0 && cr < start) cr = chunk.indexOf(CR, start);
    }
    this.addToLine(chunk.subarray(start));
  }

  protected end(): void {
    this.endLine(); // a last line without its end
    this.endEvent(); // a last event without its blank line
  }

  private addToLine(bytes: Uint8Array): void {
    let index = 0;
    for (; this.line === "name" && index < bytes.length; index++) {
      if (bytes[index] !== DATA_FIELD[this.matched]) this.line = "other";
      else if (++this.matched === DATA_FIELD.length) this.line = "valueStart";
    }
    if (this.line === "valueStart" && index < bytes.length) {
      this.startDataLine();
      if (bytes[index] === SPACE) index++;
      this.line = "value";
    }
    if (this.line === "value" && index < bytes.length) this.data.add(bytes.subarray(index));
  }

  private endLine(): void {
    if (this.line === "name" && this.matched === 0)
      this.endEvent(); // a blank line
    // `data` alone or `data:` alone: an empty data line.
    else if (this.line === "valueStart" || (this.line === "name" && this.matched === DATA_FIELD.length - 1))
      this.startDataLine();
    this.line = "name";
    this.matched = 0;
  }

  private startDataLine(): void {
    if (this.dataLines++ > 0) this.data.add(NEWLINE);
  }

  private endEvent(): void {
    if (this.dataLines === 0) return; // no data: no event
    this.dataLines = 0;
    this.records.add(this.data.take());
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
  if (SSE_TYPE.test(type)) return new EventStreamUsage();
  if (NDJSON_TYPE.test(type)) return new NdjsonUsage();
  return undefined;
}
