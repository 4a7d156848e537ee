// pi-ai's AssistantMessageEvent stream as Anthropic Messages SSE (message_start, content_block_start/delta/stop,
// message_delta with usage, message_stop; `error` after the commit point), and a final message as the JSON body.
import type { AssistantMessage, AssistantMessageEvent, StopReason } from "@mariozechner/pi-ai";
import { randomUUID } from "node:crypto";
import { anthropicToolUseId } from "./client-messages.ts";
import { errorBody } from "./errors.ts";

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

function usageOf(message: AssistantMessage) {
  return {
    input_tokens: message.usage?.input ?? 0,
    output_tokens: message.usage?.output ?? 0,
    cache_read_input_tokens: message.usage?.cacheRead ?? 0,
    cache_creation_input_tokens: message.usage?.cacheWrite ?? 0,
  };
}

export function anthropicMessage(
  message: AssistantMessage,
  model: string,
  id = `msg_${randomUUID().replace(/-/g, "")}`,
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
    stop_reason: STOP_REASONS[message.stopReason] ?? "end_turn",
    stop_sequence: null,
    usage: usageOf(message),
  };
}

/** One encoder per response; pi-ai's content indexes are renumbered as the client's block indexes. */
export class AnthropicStreamEncoder {
  private readonly id = `msg_${randomUUID().replace(/-/g, "")}`;
  private readonly indexes = new Map<number, number>();

  constructor(private readonly model: string) {}

  private indexOf(contentIndex: number): number {
    let index = this.indexes.get(contentIndex);
    if (index === undefined) {
      index = this.indexes.size;
      this.indexes.set(contentIndex, index);
    }
    return index;
  }

  encode(event: AssistantMessageEvent): string {
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
        return sse("content_block_start", {
          type: "content_block_start",
          index: this.indexOf(event.contentIndex),
          content_block: { type: "text", text: "" },
        });
      case "text_delta":
        return sse("content_block_delta", {
          type: "content_block_delta",
          index: this.indexOf(event.contentIndex),
          delta: { type: "text_delta", text: event.delta },
        });
      case "thinking_start":
        return sse("content_block_start", {
          type: "content_block_start",
          index: this.indexOf(event.contentIndex),
          content_block: { type: "thinking", thinking: "", signature: "" },
        });
      case "thinking_delta":
        return sse("content_block_delta", {
          type: "content_block_delta",
          index: this.indexOf(event.contentIndex),
          delta: { type: "thinking_delta", thinking: event.delta },
        });
      case "thinking_end": {
        const index = this.indexOf(event.contentIndex);
        const block = event.partial.content[event.contentIndex];
        const signature = block?.type === "thinking" ? signatureOf(event.partial, block.thinkingSignature) : "";
        return (
          (signature
            ? sse("content_block_delta", {
                type: "content_block_delta",
                index,
                delta: { type: "signature_delta", signature },
              })
            : "") + sse("content_block_stop", { type: "content_block_stop", index })
        );
      }
      case "toolcall_start": {
        const block = event.partial.content[event.contentIndex];
        const call = block?.type === "toolCall" ? block : undefined;
        return sse("content_block_start", {
          type: "content_block_start",
          index: this.indexOf(event.contentIndex),
          content_block: {
            type: "tool_use",
            id: anthropicToolUseId(call?.id ?? ""),
            name: call?.name ?? "",
            input: {},
          },
        });
      }
      case "toolcall_delta":
        return sse("content_block_delta", {
          type: "content_block_delta",
          index: this.indexOf(event.contentIndex),
          delta: { type: "input_json_delta", partial_json: event.delta },
        });
      case "text_end":
      case "toolcall_end":
        return sse("content_block_stop", { type: "content_block_stop", index: this.indexOf(event.contentIndex) });
      case "done":
        return (
          sse("message_delta", {
            type: "message_delta",
            delta: { stop_reason: STOP_REASONS[event.reason] ?? "end_turn", stop_sequence: null },
            usage: usageOf(event.message),
          }) + sse("message_stop", { type: "message_stop" })
        );
      case "error":
        return sse(
          "error",
          errorBody(
            "anthropic",
            "api_error",
            event.error.errorMessage ?? "the target failed after it had started answering",
          ),
        );
    }
  }
}
