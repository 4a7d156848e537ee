// What a passthrough attempt reads of the upstream's own answer, per protocol: the SSE stream is forwarded block by
// block and only scanned for the commit point (the first real text or tool call, or sustained thinking), usage,
// the stop reason and errors. Only the model name is rewritten (the client
// sees the name it asked for, as on the translating path) and, for OpenAI, a usage record the client did not ask for
// is dropped.
import { calculateCost, type Api, type AssistantMessage, type Model, type StopReason } from "@mariozechner/pi-ai";
import { isObject } from "../is-object.ts";
import { zeroUsage } from "../runtime/zero-usage.ts";
import type { ReasoningLeftOut } from "../runtime/client-history.ts";
import type { ErrorCategory, Protocol } from "./errors.ts";
import type { JsonEdits } from "./json-edit.ts";

export interface TokenCounts {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

/** One SSE block (without its trailing blank line) as read, and what it means. */
export interface ScanStep {
  /** What goes to the client: the block with its separator, rewritten, or "" (dropped). */
  text: string;
  substantive?: boolean;
  thinkingChars?: number;
  /**
   * Thinking has begun before any of its text: an Anthropic thinking block's start, whose text may never come
   * (`thinking.display: "omitted"`, a `redacted_thinking` block), or an OpenAI Responses reasoning item's.
   */
  thinkingBegun?: boolean;
  /**
   * ...and the target sends nothing while it thinks (an OpenAI reasoning item; Anthropic sends pings): the stall
   * deadline is then timeouts.thinkingStallMs until the answer's text or a tool call begins (a substantive step, also
   * after the commit point).
   */
  silentThinking?: boolean;
  end?: "done" | "error";
  /** The error's own text (its JSON), for the failure classifier. */
  errorText?: string;
}

export interface StreamScanner {
  block(block: string): ScanStep;
  /** The upstream closed the stream without a terminal block: whether what came is a complete answer. */
  completeAtEnd(): boolean;
  /**
   * An error block in this protocol, for an answer cut off after the commit point (`category`: its type, where the
   * protocol's errors carry one the client acts on: Anthropic's overloaded_error).
   */
  errorBlock(message: string, category?: ErrorCategory): string;
  /** The whole answer as the API's non-streaming body (a scanner made to assemble one). */
  body(): string;
  /**
   * How much of `blocks` (SseBlocks.take's text) goes to the client as it is, unread: whole blocks from the start,
   * only once the answer is committed, and only those that cannot change what the scanner knows (usage, the stop
   * reason, the end, an error). The rest is read block by block.
   */
  unreadLength?(blocks: string): number;
  /** Blocks that went to the client unread (the unreadLength part): the scanner counts the text they stream. */
  forwardedUnread?(blocks: string): void;
  readonly tokens: TokenCounts;
  readonly stopReason: StopReason;
  /**
   * The target's refusal stop as its API wrote it (`stop_reason refusal`, `finish_reason content_filter`), which
   * pi-ai's StopReason has no word for; undefined for any other stop.
   */
  readonly refusal: string | undefined;
  readonly content: AssistantMessage["content"];
  /**
   * The upstream's id of the answer (a chat chunk's `id`, Anthropic's message id, the Responses response id), as it
   * first came: an OpenRouter target's answer is looked up by it to pin its upstream (upstream-pin.ts).
   */
  readonly responseId: string | undefined;
  /** The encrypted content of each reasoning item the answer handed the client so far (Responses only). */
  issuedReasoning?(): string[];
}

/**
 * What every dialect's scanner keeps: the counts, the stop reason, whether the commit point passed, and the text the
 * answer streamed. The content is only read to estimate usage the target did not report (an answer cut off, failed
 * or cancelled before its usage record): where deltas are not parsed it is their string values as the target wrote
 * them (JSON-escaped, not decoded: a rough character count, which is all the estimate needs).
 */
export abstract class ScannerBase implements StreamScanner {
  readonly tokens = zeroTokens();
  stopReason: StopReason = "stop";
  refusal: string | undefined;
  responseId: string | undefined;
  protected committed = false;
  private readonly streamed: string[] = [];

  abstract block(block: string): ScanStep;
  abstract errorBlock(message: string, category?: ErrorCategory): string;
  abstract body(): string;

  get content(): AssistantMessage["content"] {
    return this.streamed.length > 0 ? [{ type: "text", text: this.streamed.join("") }] : [];
  }

  /** Keeps the string values that follow `key` (a RegExp with the g flag, ending at the value's opening quote). */
  protected countStreamed(text: string, key: RegExp): void {
    key.lastIndex = 0;
    for (let match = key.exec(text); match; match = key.exec(text)) {
      const start = match.index + match[0].length;
      const end = closingQuote(text, start);
      if (end < 0) return;
      if (end > start) this.streamed.push(text.slice(start, end));
      key.lastIndex = end + 1;
    }
  }

  /** The answer's id, from the first event that names one. */
  protected answerId(id: unknown): void {
    if (this.responseId === undefined && typeof id === "string" && id !== "") this.responseId = id;
  }

  /** Only a stream that ends with its own terminal event is complete. */
  completeAtEnd(): boolean {
    return false;
  }

  /** The commit point: this block holds the first real output. */
  protected commit(text: string): ScanStep {
    this.committed = true;
    return { text, substantive: true };
  }
}

/** The protocol-specific half of a passthrough: the upstream path, the body it sends, the scanner of the answer. */
export interface PassthroughDialect {
  api: string;
  protocol: Protocol;
  /** The body's member holding the conversation (the Responses API's `input`). */
  conversation: "messages" | "input";
  /** The request path under the target's base URL (the SDKs' own: /v1/messages, /chat/completions). */
  path(baseUrl: string): string;
  /**
   * What changes in the client's body besides the target's model id (and `stream`, set for a client that asked for
   * no stream): the router's own fields taken out, what the API needs added. `withoutReasoning`: the client's
   * encrypted reasoning items the target cannot read (all: it refused them; some: it refused their issuer's before).
   */
  edits(client: Record<string, unknown>, withoutReasoning?: ReasoningLeftOut): JsonEdits;
  /**
   * The keys of the string values an answer's text streams in, as in ScannerBase.countStreamed (a RegExp with the g
   * flag, ending at the value's opening quote): a credential split across two of them is found (streamed-values-scrub.ts).
   * Absent: the scanner reads every streamed piece itself (Chat Completions).
   */
  streamedValues?: RegExp;
  /**
   * The member that events of a type (their name, which their data's `type` repeats) hold as an object, which the
   * client's SDK reads into: checked in the events that go to the client unread too (brokenEvent).
   */
  holds?: ReadonlyMap<string, string>;
  /**
   * The data of the events most often forwarded unread (text deltas), as a pattern that only valid JSON holding what
   * `holds` names matches: such an event is checked without a parse (brokenEvent), most of a long answer.
   */
  plainEvent?: RegExp;
  /** `assemble`: the client did not ask for a stream; the events are put together into its body. */
  scanner(client: Record<string, unknown>, clientModel: string, assemble: boolean): StreamScanner;
  /** Whether the client's body suits this target as it is (absent: every target of the API). */
  fits?(target: Model<Api>, client: Record<string, unknown>): boolean;
}

/** What an answer said, as far as it was read: its usage, its content, its id (absent: it named none). */
export interface AnswerRead {
  tokens: TokenCounts;
  content: AssistantMessage["content"];
  responseId?: string | undefined;
}

/**
 * The message the runtime books for a passthrough attempt: the usage read from the stream, priced from the model, and
 * the upstream's answer id (an OpenRouter target's answer is pinned by it).
 */
export function answerMessage(
  target: Model<Api>,
  answer: AnswerRead,
  stopReason: StopReason,
  now: number,
  errorMessage?: string,
): AssistantMessage {
  const { tokens, responseId } = answer;
  const usage = { ...zeroUsage(), ...tokens };
  usage.totalTokens = tokens.input + tokens.output + tokens.cacheRead + tokens.cacheWrite;
  calculateCost(target, usage);
  return {
    role: "assistant",
    content: answer.content,
    api: target.api,
    provider: target.provider,
    model: target.id,
    ...(responseId !== undefined ? { responseId } : {}),
    usage,
    stopReason,
    ...(errorMessage !== undefined ? { errorMessage } : {}),
    timestamp: now,
  };
}

/** The router's own `provider` preferences are taken out of the client's body; nothing else changes. */
export const ROUTER_FIELDS_OUT = (): JsonEdits => ({ set: {}, remove: ["provider"] });

export const zeroTokens = (): TokenCounts => ({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0 });

const count = (value: unknown): number | undefined =>
  typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;

/** Anthropic usage fields onto the counts; absent fields leave a count as it was. */
export function anthropicTokens(into: TokenCounts, usage: Record<string, unknown> | undefined): void {
  if (!usage) return;
  into.input = count(usage.input_tokens) ?? into.input;
  into.output = count(usage.output_tokens) ?? into.output;
  into.cacheRead = count(usage.cache_read_input_tokens) ?? into.cacheRead;
  into.cacheWrite = count(usage.cache_creation_input_tokens) ?? into.cacheWrite;
}

/**
 * OpenAI usage in pi-ai's terms (as its openai-completions provider reads it): prompt_tokens include cached and
 * cache-write tokens, and some providers count this request's cache writes in cached_tokens too.
 */
export function openAITokens(into: TokenCounts, usage: Record<string, unknown> | undefined): void {
  if (!usage) return;
  const details = usage.prompt_tokens_details as Record<string, unknown> | undefined;
  const reported = count(details?.cached_tokens) ?? count(usage.prompt_cache_hit_tokens) ?? 0;
  const written = count(details?.cache_write_tokens) ?? 0;
  into.cacheWrite = written;
  into.cacheRead = written > 0 ? Math.max(0, reported - written) : reported;
  into.input = Math.max(0, (count(usage.prompt_tokens) ?? 0) - into.cacheRead - written);
  into.output = count(usage.completion_tokens) ?? into.output;
}

/** The `data:` payload of an SSE block (joined when it spans lines) and its `event:` name. */
export function parseBlock(block: string): { event?: string; data: string } {
  let event: string | undefined;
  let data = "";
  let start = 0;
  while (start <= block.length) {
    let end = block.indexOf("\n", start);
    if (end === -1) end = block.length;
    const line = block.charCodeAt(end - 1) === 13 ? block.slice(start, end - 1) : block.slice(start, end);
    if (line.startsWith("data:")) {
      const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
      data = data ? `${data}\n${value}` : value;
    } else if (line.startsWith("event:")) event = line.slice(line.charCodeAt(6) === 32 ? 7 : 6);
    start = end + 1;
  }
  return { event, data };
}

/** Splits a byte stream's text into complete SSE blocks; a block cut by a chunk boundary waits for the next chunk. */
export class SseBlocks {
  private rest = "";

  /**
   * The text of the complete blocks in `chunk` (plus what an earlier chunk left), up to and including the blank line
   * after the last of them; "" while no block is complete. Line ends are `\n`.
   */
  take(chunk: string): string {
    const joined = this.rest ? this.rest + chunk : chunk;
    const text = joined.includes("\r\n") ? joined.replace(/\r\n/g, "\n") : joined;
    const end = text.lastIndexOf("\n\n");
    if (end < 0) {
      this.rest = text;
      return "";
    }
    this.rest = text.slice(end + 2);
    return text.slice(0, end + 2);
  }

  /** The blocks of text that take() returned, each without its blank-line separator. */
  static split(text: string): string[] {
    if (text === "") return [];
    const blocks = text.split("\n\n");
    blocks.pop();
    return blocks.filter((block) => block.trim() !== "");
  }

  /** What is left when the stream ends (a last block without its blank line). */
  flush(): string[] {
    const rest = this.rest;
    this.rest = "";
    return rest.trim() === "" ? [] : [rest];
  }
}

/**
 * The length of the whole blocks at the start of `blocks` (SseBlocks.take's text, whose blocks all end in "\n\n")
 * before the block holding the first match of `marker`; all of it when nothing matches.
 */
export function blocksBefore(blocks: string, marker: RegExp): number {
  const match = marker.exec(blocks);
  if (!match) return blocks.length;
  const boundary = blocks.lastIndexOf("\n\n", match.index);
  return boundary < 0 ? 0 : boundary + 2;
}

/** The index of the quote that closes the JSON string whose text starts at `start` (-1: none in `text`). */
export function closingQuote(text: string, start: number): number {
  for (let at = text.indexOf('"', start); at >= 0; at = text.indexOf('"', at + 1)) if (!escapedAt(text, at)) return at;
  return -1;
}

/** Whether the character at `at` is escaped (an odd run of backslashes before it). */
export function escapedAt(text: string, at: number): boolean {
  let backslashes = 0;
  while (text.charCodeAt(at - 1 - backslashes) === 92) backslashes++;
  return backslashes % 2 === 1;
}

/**
 * An event's JSON object; undefined for an empty `data:` or JSON that is no object. JSON that does not parse (an event
 * cut short) throws: the target's failure (passthrough.ts), as an SDK on the translating path fails on it, rather than
 * an event the client's SDK cannot parse.
 */
export function eventJson(data: string): Record<string, unknown> | undefined {
  if (data === "" || data.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (error) {
    throw new Error(`an event that is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return isObject(value) ? value : undefined;
}

/**
 * `event`'s member `name`, which the client's SDK reads into: an event (`eventName`) without it as an object throws,
 * as eventJson does for one cut short.
 */
export function objectMember(
  event: Record<string, unknown> | undefined,
  name: string,
  eventName: string,
): Record<string, unknown> {
  const member = event?.[name];
  if (!isObject(member)) throw new Error(`a ${eventName} event whose \`${name}\` is no object`);
  return member;
}

/** A JSON string, only as JSON allows one. */
export const JSON_STRING = String.raw`"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"`;
/** A JSON integer. */
export const JSON_INTEGER = String.raw`-?(?:0|[1-9]\d*)`;
const JSON_SCALAR = String.raw`(?:${JSON_STRING}|${JSON_INTEGER}(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null|\[\])`;
const FLAT_MEMBER = `${JSON_STRING}:${JSON_SCALAR}`;
/** A JSON object whose members hold only strings, numbers, literals or empty arrays (a Responses delta event). */
export const FLAT_JSON_OBJECT = new RegExp(`^\\{(?:${FLAT_MEMBER}(?:,${FLAT_MEMBER})*)?\\}$`);

/**
 * The first of `blocks` (SseBlocks.take's text: whole blocks, each ending in a blank line) whose data is not valid
 * JSON, or lacks the object `holds` names for its type, as where it starts and what is wrong; undefined when none
 * is (an event `plain` matches is one without a parse). For blocks that go to the client unread: one a target cut
 * short would reach the client as it came, which its SDK fails parsing.
 */
export function brokenEvent(
  blocks: string,
  holds?: ReadonlyMap<string, string>,
  plain?: RegExp,
): { at: number; why: string } | undefined {
  for (let at = 0; at < blocks.length; ) {
    const found = blocks.indexOf("\n\n", at);
    const end = found < 0 ? blocks.length : found;
    const field = blocks.indexOf("data:", at);
    if (field >= 0 && field < end) {
      // Mostly one data line, the block's last: its value is the rest of the block.
      const lineEnd = blocks.indexOf("\n", field);
      const data =
        (field === at || blocks.charCodeAt(field - 1) === 10) && (lineEnd < 0 || lineEnd >= end)
          ? blocks.slice(blocks.charCodeAt(field + 5) === 32 ? field + 6 : field + 5, end)
          : parseBlock(blocks.slice(at, end)).data;
      if (plain?.test(data)) {
        at = end + 2;
        continue;
      }
      try {
        const event = eventJson(data);
        const member = typeof event?.type === "string" ? holds?.get(event.type) : undefined;
        if (member !== undefined) objectMember(event, member, event!.type as string);
      } catch (error) {
        return { at, why: (error as Error).message };
      }
    }
    at = end + 2;
  }
  return undefined;
}

export const safeJson = (text: string): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
};
