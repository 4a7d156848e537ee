// The OpenAI Responses dialect of a passthrough attempt: /responses under the base URL (as the openai SDK calls it),
// the client's body with the target's model and without the router's `provider` field, and a scanner of the named
// events. The response object of response.created and the terminal event carries the model (renamed to the name the
// client asked for) and, at the end, the usage; a non-streaming client gets the terminal event's response object,
// which holds every output item.
import type { ReasoningLeftOut } from "../runtime/client-history.ts";
import { reasoningKey } from "../runtime/reasoning-key.ts";
import type { JsonEdits } from "./json-edit.ts";
import { errorBody } from "./errors.ts";
import { isGatewayItemId } from "./responses-response.ts";
import { itemEndEvents, REASONING_PART, type ReasoningParts } from "./responses-item-end.ts";
import {
  blocksBefore,
  eventJson,
  FLAT_JSON_OBJECT,
  objectMember,
  ROUTER_FIELDS_OUT,
  parseBlock,
  ScannerBase,
  type PassthroughDialect,
  type ScanStep,
  type TokenCounts,
} from "./passthrough-scan.ts";
import { IndexedParts } from "./indexed-parts.ts";

type Loose = Record<string, any>;

const count = (value: unknown): number =>
  typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : 0;

/** Responses usage in pi-ai's terms: input_tokens include the cached ones. */
function responsesTokens(into: TokenCounts, usage: Loose | undefined): void {
  if (!usage) return;
  const cached = count((usage.input_tokens_details as Loose | undefined)?.cached_tokens);
  into.cacheRead = cached;
  into.input = Math.max(0, count(usage.input_tokens) - cached);
  into.output = count(usage.output_tokens);
}

/** The key of the streamed text in a delta event (output text, reasoning, a function call's arguments). */
const STREAMED = /"delta":"/g;

const TERMINAL = new Set(["response.completed", "response.incomplete"]);
const WITH_RESPONSE = new Set(["response.created", "response.in_progress", ...TERMINAL, "response.failed"]);
/**
 * Any text that may hold an event the scanner reads after the commit point (a response object, an output item's start
 * or end, a content part's start, or an error). Items and parts are few; reading their ends keeps each run of unread
 * deltas within one item.
 */
const READ_AFTER_COMMIT =
  /response\.(?:created|in_progress|completed|incomplete|failed|output_item\.(?:added|done)|content_part\.added)|error/;

/** Where the last forwarded event's `sequence_number` value starts. */
const SEQUENCE_KEY = '"sequence_number":';

/** Delta strings as the target wrote them (JSON-escaped), decoded; a cut that split an escape leaves them as sent. */
function decoded(escaped: string): string {
  try {
    return JSON.parse(`"${escaped}"`);
  } catch {
    return escaped;
  }
}

/** An event of a reasoning item's part: which list of parts it names, and what it does to the part. */
interface ReasoningStep {
  parts: keyof ReasoningParts;
  does: "added" | "delta" | "textDone" | "partDone";
}

const REASONING_EVENTS = new Map<string, ReasoningStep>([
  ["response.reasoning_summary_part.added", { parts: "summary", does: "added" }],
  ["response.reasoning_summary_text.delta", { parts: "summary", does: "delta" }],
  ["response.reasoning_summary_text.done", { parts: "summary", does: "textDone" }],
  ["response.reasoning_summary_part.done", { parts: "summary", does: "partDone" }],
  ["response.content_part.added", { parts: "content", does: "added" }],
  ["response.reasoning_text.delta", { parts: "content", does: "delta" }],
  ["response.reasoning_text.done", { parts: "content", does: "textDone" }],
  ["response.content_part.done", { parts: "content", does: "partDone" }],
]);

/**
 * An output item the stream had not finished, with the text its deltas streamed (a message's text, a call's arguments,
 * a custom tool's call's input; a reasoning item: each summary and content part's): `incomplete` where the item has a
 * status, as api.openai.com ends an item of a response it could not finish (and the translating path its own
 * reasoning items).
 */
function partialItem(item: Loose, escaped: string, reasoning?: ReasoningParts, refusal?: boolean): Loose {
  if (item.type === "reasoning") {
    const ended: Loose = { ...item, status: "incomplete" };
    for (const kind of ["summary", "content"] as const) {
      const parts = reasoning?.[kind] ?? [];
      if (parts.length > 0) ended[kind] = parts.map(({ text }) => ({ type: REASONING_PART[kind].type, text }));
    }
    return ended;
  }
  const text = decoded(escaped);
  const ended = "status" in item ? { ...item, status: "incomplete" } : item;
  // A refusal streams as a message's `refusal` part: it stays one, not answer text.
  if (item.type === "message")
    return {
      ...ended,
      content: [refusal ? { type: "refusal", refusal: text } : { type: "output_text", text, annotations: [] }],
    };
  if (item.type === "function_call") return { ...ended, arguments: text };
  if (item.type === "custom_tool_call") return { ...ended, input: text };
  return ended;
}

/**
 * The item under way: where its deltas start in the streamed text, a reasoning item's parts so far, and whether a
 * message's part is a refusal.
 */
interface OpenItem {
  index: number;
  item: Loose;
  from: number;
  reasoning?: ReasoningParts;
  refusal?: boolean;
}

class ResponsesScanner extends ScannerBase {
  private response: Loose = {};
  /** The output items the stream finished, by output_index, for a failure event the gateway adds. */
  private readonly items = new IndexedParts<Loose>();
  /** The item under way, where its deltas start in the streamed text, and a reasoning item's parts so far. */
  private open?: OpenItem;
  /** The text last forwarded, for the sequence number of a failure event the gateway adds after it. */
  private lastForwarded = "";
  /** How many events went to the client: the failure event's number when the target numbers none of its events. */
  private forwardedEvents = 0;

  constructor(private readonly clientModel: string) {
    super();
  }

  block(block: string): ScanStep {
    const step = this.read(block);
    // An error (the target's `error` event or response.failed) is not forwarded: the gateway's own response.failed
    // takes its place, numbered after the last event the client did get.
    if (step.end !== "error") this.forwarded(step.text);
    return step;
  }

  private read(block: string): ScanStep {
    const text = `${block}\n\n`;
    const { event, data } = parseBlock(block);
    // The target's error as it wrote it, read by the failure classifier even when it is cut short.
    if (event === "error") return { text, end: "error", errorText: data };
    // Every block read here is parsed (deltas after the commit point mostly pass unread, passthrough.ts): one that is
    // not valid JSON, or an event without the object the client's SDK reads into, is the target's failure.
    const fields = eventJson(data);
    if (event === undefined) return { text };
    if (WITH_RESPONSE.has(event)) return this.withResponse(event, fields);
    if (event === "response.output_item.added" || event === "response.output_item.done") this.trackItem(event, fields);
    if (event === "response.content_part.added" && this.open?.item.type === "message") this.trackPart(fields);
    if (event.endsWith(".delta")) this.countStreamed(block, STREAMED);
    const reasoningStep = REASONING_EVENTS.get(event);
    if (reasoningStep && fields && this.open?.reasoning) this.trackReasoning(reasoningStep, fields);
    // After the commit point (made 1.5 s into a reasoning item), an item that is no reasoning begins the answer: the
    // longer deadline of silent thinking is over (output items are read after the commit point; deltas are not, but
    // for a reasoning item's).
    if (this.committed)
      return event === "response.output_item.added" && this.open !== undefined && this.open.item.type !== "reasoning"
        ? { text, substantive: true }
        : { text };
    // A refusal (a `refusal` content part's deltas) is the target's answer as much as output text is.
    if (event === "response.output_text.delta" || event === "response.refusal.delta") {
      const delta = fields?.delta;
      return typeof delta === "string" && delta !== "" ? this.commit(text) : { text };
    }
    if (event === "response.output_item.added") {
      const type = this.open?.item.type;
      if (type === "function_call" || type === "custom_tool_call") return this.commit(text);
      // The model has begun to reason: its summary (if any) may come only after a long silence.
      return type === "reasoning" ? { text, thinkingBegun: true, silentThinking: true } : { text };
    }
    if (event === "response.reasoning_summary_text.delta" || event === "response.reasoning_text.delta") {
      const delta = fields?.delta;
      return { text, thinkingChars: typeof delta === "string" ? delta.length : 0 };
    }
    return { text };
  }

  /**
   * After the commit point only the events that hold the response object (its model is renamed; the terminal one
   * carries usage and the end) and errors are read: the blocks before the first one whose text names one of them (even
   * inside a delta's text) go out as they came; that block and the ones after it are read. Most of a long answer is
   * output text deltas. A reasoning item's events are all read: its summary and reasoning text, part by part, are
   * what it ends with when the answer breaks off in it.
   */
  unreadLength(blocks: string): number {
    return this.committed && !this.open?.reasoning ? blocksBefore(blocks, READ_AFTER_COMMIT) : 0;
  }

  forwardedUnread(blocks: string): void {
    this.forwarded(blocks);
    this.countStreamed(blocks, STREAMED);
  }

  /** Whole blocks that went to the client (each ends in a blank line; a run of blank lines ends one block). */
  private forwarded(blocks: string): void {
    this.lastForwarded = blocks;
    let end = -2;
    for (let at = blocks.indexOf("\n\n"); at >= 0; at = blocks.indexOf("\n\n", at + 2)) {
      if (at > end + 2) this.forwardedEvents++;
      end = at;
    }
  }

  private streamedText(): string {
    const [block] = this.content;
    return block?.type === "text" ? block.text : "";
  }

  /** An output item's start or end (its `item`, which the openai SDK's stream reads into, is an object). */
  private trackItem(event: string, fields: Loose | undefined): void {
    const item = objectMember(fields, "item", event);
    const index = fields!.output_index;
    if (typeof index !== "number") throw new Error(`a ${event} event whose \`output_index\` is no number`);
    if (event === "response.output_item.done") {
      this.items.set(index, item);
      this.open = undefined;
    } else
      this.open = {
        index,
        item,
        from: this.streamedText().length,
        ...(item.type === "reasoning" ? { reasoning: { summary: [], content: [] } } : {}),
      };
  }

  /** A message's part under way: a refusal (its deltas are `response.refusal.delta`) or text. */
  private trackPart(fields: Loose | undefined): void {
    if (this.open && fields?.output_index === this.open.index)
      this.open.refusal = (fields.part as Loose | undefined)?.type === "refusal";
  }

  /** An event of the reasoning item under way's parts (an event of another item's is left alone). */
  private trackReasoning(step: ReasoningStep, fields: Loose): void {
    const open = this.open;
    if (!open?.reasoning || (fields.output_index !== undefined && fields.output_index !== open.index)) return;
    const parts = open.reasoning[step.parts];
    const index = fields[REASONING_PART[step.parts].index] ?? 0;
    // Parts come in order, each index after the last: any other is none of this item's.
    if (!Number.isInteger(index) || index < 0 || index > parts.length) return;
    const part = (parts[index] ??= { text: "" });
    if (step.does === "delta") {
      if (typeof fields.delta === "string") part.text += fields.delta;
    } else if (step.does === "textDone") {
      if (typeof fields.text === "string") part.text = fields.text;
      part.textDone = true;
    } else if (step.does === "partDone") {
      const text = (fields.part as Loose | undefined)?.text;
      if (typeof text === "string") part.text = text;
      part.partDone = true;
    }
  }

  /** The items the stream finished, then the one under way with what it had streamed: the answer so far. */
  private outputSoFar(): Loose[] {
    const open = this.open;
    return this.items.inOrder(open && { index: open.index, part: this.openSoFar(open) });
  }

  /** The item under way, with what it had streamed. */
  private openSoFar(open: OpenItem): Loose {
    return partialItem(open.item, this.streamedText().slice(open.from), open.reasoning, open.refusal);
  }

  /**
   * The number after the last forwarded event's (events are numbered from 0); when it had none, the number of events
   * forwarded (as if the target had numbered them).
   */
  private nextSequence(): number {
    const at = this.lastForwarded.lastIndexOf(SEQUENCE_KEY);
    if (at < 0) return this.forwardedEvents;
    const value = Number.parseInt(
      this.lastForwarded.slice(at + SEQUENCE_KEY.length, at + SEQUENCE_KEY.length + 16),
      10,
    );
    return Number.isSafeInteger(value) ? value + 1 : this.forwardedEvents;
  }

  private withResponse(event: string, parsed: Loose | undefined): ScanStep {
    const response: Loose = objectMember(parsed, "response", event);
    this.answerId(response.id);
    response.model = this.clientModel;
    this.response = response;
    const text = `event: ${event}\ndata: ${JSON.stringify(parsed)}\n\n`;
    if (event === "response.failed") {
      return { text, end: "error", errorText: JSON.stringify(response.error ?? { message: "response.failed" }) };
    }
    if (!TERMINAL.has(event)) return { text };
    responsesTokens(this.tokens, response.usage as Loose | undefined);
    const output = (response.output as Loose[] | undefined) ?? [];
    if ((response.incomplete_details as Loose | undefined)?.reason === "content_filter")
      this.refusal = "incomplete_details.reason content_filter";
    this.stopReason =
      event === "response.incomplete"
        ? "length"
        : output.some((item) => item?.type === "function_call" || item?.type === "custom_tool_call")
          ? "toolUse"
          : "stop";
    return { text, end: "done" };
  }

  body(): string {
    return JSON.stringify(this.response);
  }

  /** The encrypted content of the target's own reasoning items the client got so far, which it can send back. */
  issuedReasoning(): string[] {
    const own = this.response.output;
    const items: Loose[] = Array.isArray(own) && own.length > 0 ? own : this.items.inOrder();
    return items.flatMap((item) =>
      item?.type === "reasoning" && typeof item.encrypted_content === "string" && item.encrypted_content
        ? [item.encrypted_content]
        : [],
    );
  }

  /**
   * The translating path's failure event: the response so far (the target's own output when its response.failed had
   * one, else the items streamed so far), status failed, with the error, numbered after the last event the client got.
   * The item the stream had not finished is done first, incomplete, as on the translating path.
   */
  errorBlock(message: string): string {
    const error = (errorBody("openai", "api_error", message).error as Loose).message;
    const own = this.response.output;
    const output = Array.isArray(own) && own.length > 0 ? own : this.outputSoFar();
    const response = { ...this.response, output, status: "failed", error: { code: "server_error", message: error } };
    const ending = this.open ? itemEndEvents(this.openSoFar(this.open), this.open.index, this.open.reasoning) : [];
    let sequence = this.nextSequence();
    return [...ending, { type: "response.failed", response }]
      .map(({ type, ...fields }) => {
        const event = { type, sequence_number: sequence++, ...fields };
        return `event: ${type}\ndata: ${JSON.stringify(event)}\n\n`;
      })
      .join("");
  }
}

/**
 * A reasoning item the gateway made (`rs_<response>_<n>`, from another API's reasoning, without encrypted content):
 * the client sends it back in its input, and OpenAI refuses an item id it never issued ("Item with id 'rs_...' not
 * found"), so it is left out of the input a Responses target is sent.
 */
const madeReasoning = (item: Loose) =>
  item?.type === "reasoning" && !item.encrypted_content && isGatewayItemId(item.id, "rs");

/**
 * The input without the reasoning items a target cannot read (another OpenAI account or organisation made them: 400
 * `invalid_encrypted_content`), all of them or those of these keys, and each function call after a left-out item (up
 * to a reasoning item that stays; after all of them: every call) without its item id, which OpenAI pairs with the
 * reasoning item before it (the call_id that results answer stays).
 */
function withoutReasoningItems(input: Loose[], leftOut: ReasoningLeftOut): Loose[] {
  let afterLeftOut = leftOut === "all";
  return input.flatMap((item) => {
    if (item?.type === "reasoning") {
      afterLeftOut =
        leftOut === "all" ||
        (typeof item.encrypted_content === "string" && leftOut.has(reasoningKey(item.encrypted_content)));
      return afterLeftOut ? [] : [item];
    }
    if (!afterLeftOut || item?.type !== "function_call" || item.id === undefined) return [item];
    const { id: _id, ...call } = item;
    return [call];
  });
}

function responsesEdits(client: Loose, withoutReasoning?: ReasoningLeftOut): JsonEdits {
  const edits = ROUTER_FIELDS_OUT();
  if (!Array.isArray(client.input)) return edits;
  const input = client.input.some(madeReasoning)
    ? client.input.filter((item: Loose) => !madeReasoning(item))
    : client.input;
  if (withoutReasoning) return { ...edits, set: { input: withoutReasoningItems(input, withoutReasoning) } };
  return input === client.input ? edits : { ...edits, set: { input } };
}

/** A tool the client runs itself (a function, or a custom tool with free-text input), not one hosted by the API. */
const clientSideTool = (tool: Loose): boolean => tool?.type === "function" || tool?.type === "custom";

export const RESPONSES_PASSTHROUGH: PassthroughDialect = {
  api: "openai-responses",
  conversation: "input",
  protocol: "openai",
  streamedValues: STREAMED,
  plainEvent: FLAT_JSON_OBJECT,
  path: () => "/responses",
  edits: responsesEdits,
  scanner: (_client, clientModel) => new ResponsesScanner(clientModel),
  // Hosted tools (web search, ...) run only on some targets: such a request is translated, which leaves them out
  // on every target alike and names them in x-auto-router-ignored-tools. Function and custom (freeform, such as the
  // Codex CLI's apply_patch) tools run on the client: a Responses target gets them as they are.
  fits: (_target, client) => !Array.isArray(client.tools) || (client.tools as Loose[]).every(clientSideTool),
};
