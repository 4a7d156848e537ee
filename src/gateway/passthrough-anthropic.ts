// The Anthropic Messages dialect of a passthrough attempt: /v1/messages under the base URL (as the Anthropic SDK
// calls it), the client's body with the target's model and without the router's `provider` field, and a scanner of
// the named SSE events. Text deltas are not read after the commit point: usage and the stop reason come from
// message_start and message_delta, which always carry them, so a streaming client's text deltas then pass unread
// (passthrough.ts only checks that each is whole: valid JSON holding its delta).
import type { StopReason } from "@mariozechner/pi-ai";
import { fitAnthropicThinking, withoutThinkingEdits } from "../runtime/anthropic-thinking.ts";
import { type ErrorCategory, errorBody } from "./errors.ts";
import type { JsonEdits } from "./json-edit.ts";
import { AnthropicAssembler } from "./passthrough-assemble.ts";
import {
  anthropicTokens,
  blocksBefore,
  eventJson,
  JSON_INTEGER,
  JSON_STRING,
  objectMember,
  ROUTER_FIELDS_OUT,
  parseBlock,
  ScannerBase,
  type PassthroughDialect,
  type ScanStep,
} from "./passthrough-scan.ts";
import { ownRecord } from "../own-record.ts";

/** The member of each event that the Anthropic SDK's stream reads into. */
const HOLDS = new Map([
  ["message_start", "message"],
  ["content_block_start", "content_block"],
  ["content_block_delta", "delta"],
  ["message_delta", "delta"],
]);

/** A content_block_delta as Anthropic writes it (text, thinking, a tool call's JSON): only valid JSON of it matches. */
const PLAIN_DELTA = new RegExp(
  `^\\{"type":"content_block_delta","index":${JSON_INTEGER},"delta":\\{"type":"[a-z_]+","[a-z_]+":${JSON_STRING}\\}\\}$`,
);

/** Any text that may hold an event the scanner reads after the commit point. */
const READ_AFTER_COMMIT = /message_|error/;

/** The keys of the streamed text in a content_block_delta (text, thinking, a tool call's JSON), with the quote. */
const STREAMED = /"(?:text|thinking|partial_json)":"/g;

const STOP_REASONS: Record<string, StopReason> = ownRecord({
  end_turn: "stop",
  stop_sequence: "stop",
  max_tokens: "length",
  tool_use: "toolUse",
});

class AnthropicScanner extends ScannerBase {
  constructor(
    private readonly clientModel: string,
    private readonly assembler: AnthropicAssembler | undefined,
  ) {
    super();
  }

  block(block: string): ScanStep {
    const text = `${block}\n\n`;
    const { event, data } = parseBlock(block);
    // The target's error as it wrote it, read by the failure classifier even when it is cut short.
    if (event === "error") return { text, end: "error", errorText: data };
    // Every block read here is parsed (text deltas after the commit point mostly pass unread, passthrough.ts): one
    // that is not valid JSON, or an event without the object the client's SDK reads into, is the target's failure.
    const parsed = eventJson(data);
    const holds = event === undefined ? undefined : HOLDS.get(event);
    if (holds !== undefined) objectMember(parsed, holds, event!);
    this.assembler?.add(event, parsed);
    switch (event) {
      case "content_block_delta": {
        this.countStreamed(block, STREAMED);
        if (this.committed) return { text };
        const delta = parsed?.delta as Record<string, unknown> | undefined;
        if (delta?.type === "text_delta" && typeof delta.text === "string" && delta.text !== "")
          return this.commit(text);
        if (delta?.type === "thinking_delta" && typeof delta.thinking === "string")
          return { text, thinkingChars: delta.thinking.length };
        return { text };
      }
      case "content_block_start": {
        if (this.committed) return { text };
        const type = (parsed?.content_block as Record<string, unknown> | undefined)?.type;
        if (type === "tool_use" || type === "server_tool_use") return this.commit(text);
        // The model thinks from here, even when none of its thinking is shown: with `thinking.display: "omitted"` the
        // block's text never comes (only pings, then its signature), and a redacted block has none.
        return type === "thinking" || type === "redacted_thinking" ? { text, thinkingBegun: true } : { text };
      }
      case "message_start": {
        const message = parsed!.message as Record<string, unknown>;
        this.answerId(message.id);
        anthropicTokens(this.tokens, message.usage as Record<string, unknown> | undefined);
        message.model = this.clientModel;
        return { text: `event: message_start\ndata: ${JSON.stringify(parsed)}\n\n` };
      }
      case "message_delta": {
        anthropicTokens(this.tokens, parsed?.usage as Record<string, unknown> | undefined);
        const reason = (parsed?.delta as Record<string, unknown> | undefined)?.stop_reason;
        if (typeof reason === "string") {
          this.stopReason = STOP_REASONS[reason] ?? "stop";
          // "sensitive": Anthropic's safety filter, which pi-ai treats as a refusal too.
          if (reason === "refusal" || reason === "sensitive") this.refusal = `stop_reason ${reason}`;
        }
        return { text };
      }
      case "message_stop":
        return { text, end: "done" };
      default:
        return { text };
    }
  }

  /**
   * After the commit point a streaming client's blocks are only forwarded, except message_delta (usage, stop reason),
   * message_stop and error: the blocks before the first one whose text names one of them (even inside a delta's
   * text) go out as they came; that block and the ones after it are read. Most of a long answer is text deltas.
   */
  unreadLength(blocks: string): number {
    return this.committed && !this.assembler ? blocksBefore(blocks, READ_AFTER_COMMIT) : 0;
  }

  forwardedUnread(blocks: string): void {
    this.countStreamed(blocks, STREAMED);
  }

  body(): string {
    return this.assembler!.body(this.clientModel);
  }

  errorBlock(message: string, category: ErrorCategory = "api_error"): string {
    return `event: error\ndata: ${JSON.stringify(errorBody("anthropic", category, message))}\n\n`;
  }
}

/**
 * The router's fields out, and the history fitted to Anthropic's thinking rules when turns another API served broke
 * them (anthropic-thinking.ts): unsigned thinking left out, thinking off (with the edits that clear thinking) when the
 * tool calls the last turn answers came without it.
 */
function anthropicEdits(client: Record<string, unknown>): JsonEdits {
  const edits = ROUTER_FIELDS_OUT();
  const fit = fitAnthropicThinking(client);
  if (!fit) return edits;
  const set: Record<string, unknown> = fit.messages ? { messages: fit.messages } : {};
  const remove = [...edits.remove];
  if (fit.thinkingOff) {
    remove.push("thinking");
    const management = withoutThinkingEdits(client.context_management);
    if (management === undefined && client.context_management !== undefined) remove.push("context_management");
    else if (management !== client.context_management) set.context_management = management;
  }
  return { set, remove };
}

export const ANTHROPIC_PASSTHROUGH: PassthroughDialect = {
  api: "anthropic-messages",
  conversation: "messages",
  protocol: "anthropic",
  streamedValues: STREAMED,
  holds: HOLDS,
  plainEvent: PLAIN_DELTA,
  path: () => "/v1/messages",
  edits: anthropicEdits,
  scanner: (_client, clientModel, assemble) =>
    new AnthropicScanner(clientModel, assemble ? new AnthropicAssembler() : undefined),
};
