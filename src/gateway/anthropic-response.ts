// pi-ai's AssistantMessageEvent stream as Anthropic Messages SSE (message_start, content_block_start/delta/stop,
// message_delta with usage, message_stop; `error` after the commit point; a target's refusal as stop_reason
// `refusal`), and a final message as the JSON body.
import type { AssistantMessage, AssistantMessageEvent, StopReason } from "@mariozechner/pi-ai";
import { randomUUID } from "node:crypto";
import { anthropicToolUseId } from "./client-messages.ts";
import { errorBody } from "./errors.ts";
import type { AnswerEvent } from "./refusal.ts";

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

const STOP_REASONS: Partial<Record<StopReason, string>> = {
  stop: "end_turn",
  length: "max_tokens",
  toolUse: "tool_use",
};

/**
 * A thinking block's signature as the client may send it back: only one an Anthropic target made. pi-ai keeps other
 * APIs' reasoning state in the same field (an OpenAI target's is the name "reasoning_content"), which no Anthropic
 * client or target can use; the block then has an empty signature, and the gateway drops it when it comes back.
 */
const signatureOf = (message: Pick<AssistantMessage, "api">, signature: string | undefined): string =>
  message.api === "anthropic-messages" ? (signature ?? "") : "";

/** The opaque data of the redacted thinking block an event is of (an Anthropic target's), else undefined. */
function redactedData(event: BlockEvent): string | undefined {
  const block = event.partial.content[event.contentIndex];
  if (block?.type !== "thinking" || !block.redacted) return undefined;
  return signatureOf(event.partial, block.thinkingSignature) || undefined;
}

function usageOf(message: AssistantMessage) {
  return {
    input_tokens: message.usage?.input ?? 0,
    output_tokens: message.usage?.output ?? 0,
    cache_read_input_tokens: message.usage?.cacheRead ?? 0,
    cache_creation_input_tokens: message.usage?.cacheWrite ?? 0,
  };
}

/** `refused`: the target refused (refusal.ts): Anthropic's own `refusal` stop reason, with the text it wrote. */
export function anthropicMessage(
  message: AssistantMessage,
  model: string,
  id = `msg_${randomUUID().replace(/-/g, "")}`,
  refused = false,
) {
  const content = message.content.flatMap((block): Record<string, unknown>[] => {
    if (block.type === "text") return [{ type: "text", text: block.text }];
    if (block.type === "thinking") {
      const signature = signatureOf(message, block.thinkingSignature);
      if (block.redacted) return signature ? [{ type: "redacted_thinking", data: signature }] : [];
      return [{ type: "thinking", thinking: block.thinking, signature }];
    }
    return [{ type: "tool_use", id: anthropicToolUseId(block.id), name: block.name, input: block.arguments }];
  });
  return {
    id,
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: refused ? "refusal" : (STOP_REASONS[message.stopReason] ?? "end_turn"),
    stop_sequence: null,
    usage: usageOf(message),
  };
}

type BlockKind = "text" | "thinking" | "toolCall";
type BlockEvent = Extract<AssistantMessageEvent, { contentIndex: number }>;

/** One content block as the client sees it; a text or thinking block of pi-ai's may become several (see below). */
interface Segment {
  contentIndex: number;
  kind: BlockKind;
  /** The client's block index, given when its content_block_start is written. */
  index?: number;
  /** What arrived while another block was open, written when this one's turn comes. */
  held: BlockEvent[];
  ended: boolean;
  closed: boolean;
}

const kindOf = (event: BlockEvent): BlockKind =>
  event.type.startsWith("text") ? "text" : event.type.startsWith("thinking") ? "thinking" : "toolCall";

/**
 * One encoder per response. Anthropic's stream has one content block open at a time (start, deltas, stop, then the
 * next), while pi-ai's events need not: its Chat Completions provider ends every block only when the stream ends, and
 * goes back to a text or thinking block after a tool call began. So a text or thinking block is closed when another
 * block starts, and a later delta of it opens a new block of its kind with the rest (a second text block is what an
 * Anthropic answer holds too). A tool call's input must stay in one block: while one is open, any other block's
 * events wait and are written in order once the tool call ends. The client's block indexes count the blocks written.
 */
export class AnthropicStreamEncoder {
  private readonly id = `msg_${randomUUID().replace(/-/g, "")}`;
  private readonly current = new Map<number, Segment>();
  private readonly waiting: Segment[] = [];
  private open: Segment | undefined;
  private written = 0;

  constructor(private readonly model: string) {}

  encode(event: AnswerEvent): string {
    switch (event.type) {
      case "start":
        return sse("message_start", {
          type: "message_start",
          message: {
            id: this.id,
            type: "message",
            role: "assistant",
            model: this.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { ...usageOf(event.partial), output_tokens: 0 },
          },
        });
      case "text_start":
      case "thinking_start":
      case "toolcall_start":
        return this.begin(this.segment(event), event);
      case "text_delta":
      case "thinking_delta":
      case "toolcall_delta":
        return this.delta(event);
      case "text_end":
      case "thinking_end":
      case "toolcall_end":
        return this.end(event);
      case "done":
        return this.finish(STOP_REASONS[event.reason] ?? "end_turn", event.message);
      case "refusal":
        return this.finish("refusal", event.message);
      case "error":
        return sse(
          "error",
          errorBody(
            "anthropic",
            "category" in event ? event.category : "api_error",
            event.error.errorMessage ?? "the target failed after it had started answering",
          ),
        );
    }
  }

  /** The open blocks closed, then message_delta with the stop reason and usage, and message_stop. */
  private finish(stopReason: string, message: AssistantMessage): string {
    return (
      this.closeAll() +
      sse("message_delta", {
        type: "message_delta",
        delta: { stop_reason: stopReason, stop_sequence: null },
        usage: usageOf(message),
      }) +
      sse("message_stop", { type: "message_stop" })
    );
  }

  private segment(event: BlockEvent): Segment {
    const segment: Segment = {
      contentIndex: event.contentIndex,
      kind: kindOf(event),
      held: [],
      ended: false,
      closed: false,
    };
    this.current.set(event.contentIndex, segment);
    return segment;
  }

  /** A new block: written now if no tool call is open or waiting (an open text or thinking block is closed first). */
  private begin(segment: Segment, event: BlockEvent): string {
    if (this.waiting.length === 0 && this.open?.kind !== "toolCall") {
      const closed = this.open ? this.stop(this.open) : "";
      this.open = segment;
      return closed + this.write(segment, event);
    }
    segment.held.push(event);
    this.waiting.push(segment);
    return "";
  }

  private delta(event: BlockEvent): string {
    const segment = this.current.get(event.contentIndex);
    if (!segment) return "";
    if (segment === this.open) return this.write(segment, event);
    if (!segment.closed) {
      segment.held.push(event);
      return "";
    }
    // A text or thinking block closed when another began: the rest of it goes into a new block of its kind.
    const startType = segment.kind === "text" ? "text_start" : "thinking_start";
    const next = this.segment(event);
    return (
      this.begin(next, { type: startType, contentIndex: event.contentIndex, partial: event.partial }) +
      this.delta(event)
    );
  }

  private end(event: BlockEvent): string {
    const segment = this.current.get(event.contentIndex);
    if (!segment || segment.ended) return "";
    segment.ended = true;
    if (segment.closed) return "";
    if (segment !== this.open) {
      segment.held.push(event);
      return "";
    }
    this.open = undefined;
    let out = this.write(segment, event) + this.stop(segment);
    // The blocks that waited, in order: each is written whole if it has ended, and the first that has not stays open.
    while (!this.open && this.waiting.length > 0) {
      const next = this.waiting.shift() as Segment;
      this.open = next;
      out += next.held.map((held) => this.write(next, held)).join("");
      next.held = [];
      if (next.ended) {
        out += this.stop(next);
        this.open = undefined;
      }
    }
    return out;
  }

  /** The end of the answer: whatever is still open or waiting is written and closed, in order. */
  private closeAll(): string {
    let out = this.open ? this.stop(this.open) : "";
    this.open = undefined;
    for (const segment of this.waiting.splice(0)) {
      out += segment.held.map((held) => this.write(segment, held)).join("");
      if (!segment.closed) out += this.stop(segment);
    }
    return out;
  }

  private stop(segment: Segment): string {
    if (segment.closed || segment.index === undefined) return "";
    segment.closed = true;
    return sse("content_block_stop", { type: "content_block_stop", index: segment.index });
  }

  /** One event of a segment as frames; its start gives the segment the next client block index. */
  private write(segment: Segment, event: BlockEvent): string {
    switch (event.type) {
      case "text_start":
        segment.index = this.written++;
        return sse("content_block_start", {
          type: "content_block_start",
          index: segment.index,
          content_block: { type: "text", text: "" },
        });
      case "thinking_start": {
        segment.index = this.written++;
        // An Anthropic target's redacted_thinking is one whole block, as a non-streamed answer gives it: its opaque data
        // was sent as a thinking block's signature, which Anthropic refuses when the client sends it back.
        const redacted = redactedData(event);
        return sse("content_block_start", {
          type: "content_block_start",
          index: segment.index,
          content_block:
            redacted !== undefined
              ? { type: "redacted_thinking", data: redacted }
              : { type: "thinking", thinking: "", signature: "" },
        });
      }
      case "toolcall_start": {
        segment.index = this.written++;
        const block = event.partial.content[event.contentIndex];
        const call = block?.type === "toolCall" ? block : undefined;
        return sse("content_block_start", {
          type: "content_block_start",
          index: segment.index,
          content_block: {
            type: "tool_use",
            id: anthropicToolUseId(call?.id ?? ""),
            name: call?.name ?? "",
            input: {},
          },
        });
      }
      case "text_delta":
        return sse("content_block_delta", {
          type: "content_block_delta",
          index: segment.index,
          delta: { type: "text_delta", text: event.delta },
        });
      case "thinking_delta":
        return sse("content_block_delta", {
          type: "content_block_delta",
          index: segment.index,
          delta: { type: "thinking_delta", thinking: event.delta },
        });
      case "toolcall_delta":
        return sse("content_block_delta", {
          type: "content_block_delta",
          index: segment.index,
          delta: { type: "input_json_delta", partial_json: event.delta },
        });
      case "thinking_end": {
        if (redactedData(event) !== undefined) return "";
        const block = event.partial.content[event.contentIndex];
        const signature = block?.type === "thinking" ? signatureOf(event.partial, block.thinkingSignature) : "";
        return signature
          ? sse("content_block_delta", {
              type: "content_block_delta",
              index: segment.index,
              delta: { type: "signature_delta", signature },
            })
          : "";
      }
      default:
        return "";
    }
  }
}
