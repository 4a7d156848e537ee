// pi-ai's AssistantMessageEvent stream as OpenAI chat.completion.chunk records (usage with
// stream_options.include_usage, then [DONE]; an error record before [DONE] after the commit point; a target's
// refusal as finish_reason content_filter), and a final message as a chat.completion body.
import type { AssistantMessage, StopReason } from "@mariozechner/pi-ai";
import { randomUUID } from "node:crypto";
import { clientToolCallId } from "./client-messages.ts";
import { errorBody } from "./errors.ts";
import type { AnswerEvent } from "./refusal.ts";

const FINISH_REASONS: Partial<Record<StopReason, string>> = { stop: "stop", length: "length", toolUse: "tool_calls" };

/** OpenAI's prompt_tokens include cache reads and writes; cached_tokens are the reads (hits) alone. */
function usageOf(message: AssistantMessage) {
  const cached = message.usage?.cacheRead ?? 0;
  const prompt = (message.usage?.input ?? 0) + cached + (message.usage?.cacheWrite ?? 0);
  const completion = message.usage?.output ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: cached },
  };
}

const newId = () => `chatcmpl-${randomUUID().replace(/-/g, "")}`;
const seconds = (epochMs: number) => Math.floor(epochMs / 1000);

/** `refused`: the target refused (refusal.ts): OpenAI's own `content_filter` finish, with the text it wrote. */
export function openAICompletion(message: AssistantMessage, model: string, now: number, refused = false) {
  const text = message.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("");
  const reasoning = message.content
    .flatMap((block) => (block.type === "thinking" && !block.redacted ? [block.thinking] : []))
    .join("");
  const toolCalls = message.content.flatMap((block) =>
    block.type === "toolCall"
      ? [
          {
            id: clientToolCallId(block.id),
            type: "function",
            function: { name: block.name, arguments: JSON.stringify(block.arguments) },
          },
        ]
      : [],
  );
  return {
    id: newId(),
    object: "chat.completion",
    created: seconds(now),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: text.length > 0 || toolCalls.length === 0 ? text : null,
          ...(reasoning ? { reasoning_content: reasoning } : {}),
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: refused ? "content_filter" : (FINISH_REASONS[message.stopReason] ?? "stop"),
      },
    ],
    usage: usageOf(message),
  };
}

export class OpenAIStreamEncoder {
  private readonly id = newId();
  private readonly created: number;
  /** pi-ai content index -> the client's tool_calls index. */
  private readonly toolIndexes = new Map<number, number>();

  constructor(
    private readonly model: string,
    now: number,
    private readonly includeUsage: boolean,
  ) {
    this.created = seconds(now);
  }

  private chunk(delta: Record<string, unknown>, finishReason: string | null = null): string {
    return `data: ${JSON.stringify({ id: this.id, object: "chat.completion.chunk", created: this.created, model: this.model, choices: [{ index: 0, delta, finish_reason: finishReason }] })}\n\n`;
  }

  private toolIndex(contentIndex: number): number {
    let index = this.toolIndexes.get(contentIndex);
    if (index === undefined) {
      index = this.toolIndexes.size;
      this.toolIndexes.set(contentIndex, index);
    }
    return index;
  }

  encode(event: AnswerEvent): string {
    switch (event.type) {
      case "start":
        return this.chunk({ role: "assistant", content: "" });
      case "text_delta":
        return this.chunk({ content: event.delta });
      case "thinking_delta":
        return this.chunk({ reasoning_content: event.delta });
      case "toolcall_start": {
        const block = event.partial.content[event.contentIndex];
        const call = block?.type === "toolCall" ? block : undefined;
        return this.chunk({
          tool_calls: [
            {
              index: this.toolIndex(event.contentIndex),
              id: clientToolCallId(call?.id ?? ""),
              type: "function",
              function: { name: call?.name ?? "", arguments: "" },
            },
          ],
        });
      }
      case "toolcall_delta":
        return this.chunk({
          tool_calls: [{ index: this.toolIndex(event.contentIndex), function: { arguments: event.delta } }],
        });
      case "done":
        return this.finish(FINISH_REASONS[event.reason] ?? "stop", event.message);
      case "refusal":
        return this.finish("content_filter", event.message);
      case "error":
        return `data: ${JSON.stringify(errorBody("openai", "api_error", event.error.errorMessage ?? "the target failed after it had started answering"))}\n\ndata: [DONE]\n\n`;
      default:
        return "";
    }
  }

  /** The chunk with the finish reason, then usage (when asked for) and [DONE]. */
  private finish(finishReason: string, message: AssistantMessage): string {
    const usage = this.includeUsage
      ? `data: ${JSON.stringify({ id: this.id, object: "chat.completion.chunk", created: this.created, model: this.model, choices: [], usage: usageOf(message) })}\n\n`
      : "";
    return this.chunk({}, finishReason) + usage + "data: [DONE]\n\n";
  }
}
