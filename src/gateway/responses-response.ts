// The OpenAI Responses response object: the body of a non-streaming answer and of the stream's opening and terminal
// events (`response.created`, `response.completed` / `.incomplete` / `.failed`), its output items and its usage.
import type { AssistantMessage, Usage } from "@mariozechner/pi-ai";
import { randomUUID } from "node:crypto";
import { toolCallParts } from "./client-messages.ts";
import { type ReasoningTextPart, type SummaryPart, targetReasoningItem } from "./responses-reasoning.ts";

export type OutputItem =
  | {
      id: string;
      type: "message";
      status: string;
      role: "assistant";
      content: { type: "output_text"; text: string; annotations: [] }[];
    }
  | { id: string; type: "function_call"; status: string; call_id: string; name: string; arguments: string }
  | {
      id: string;
      type: "reasoning";
      status?: string;
      summary: SummaryPart[];
      content?: ReasoningTextPart[];
      /** Only on a Responses target's own item (responses-reasoning.ts), which the client sends back. */
      encrypted_content?: string;
    };

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";

export interface ResponseMeta {
  id: string;
  /** The model name the client asked for (a route), echoed back as OpenAI does. */
  model: string;
  createdAtSeconds: number;
  /**
   * The client asked for a reasoning summary (`reasoning.summary`): another API's thinking reaches it as the summary
   * it reads, not as reasoning text (which the common clients do not show).
   */
  summary: boolean;
  /** The request's tool settings, which a response echoes as api.openai.com does. */
  tools?: ResponseTools;
}

/**
 * A Responses request's settings that its response echoes (the tools it was served with, hosted ones left out): the
 * real API's response always carries them, the SDK's types say so, and a client may read them back.
 */
export interface ResponseTools {
  tools?: unknown[] | undefined;
  tool_choice?: unknown;
  parallel_tool_calls?: unknown;
  instructions?: unknown;
  max_output_tokens?: unknown;
  metadata?: unknown;
  reasoning?: { effort?: unknown; summary?: unknown } | null | undefined;
  temperature?: unknown;
  text?: unknown;
  top_p?: unknown;
  truncation?: unknown;
}

export const responseMeta = (model: string, now: number, summary = false, tools?: ResponseTools): ResponseMeta => ({
  id: `resp_${randomUUID().replace(/-/g, "")}`,
  model,
  createdAtSeconds: Math.floor(now / 1000),
  summary,
  tools,
});

/** Whether a request's `reasoning.summary` asks for a summary ("auto", "concise", "detailed"; not "none" or null). */
export function asksSummary(reasoning: Record<string, unknown> | null | undefined): boolean {
  const summary = reasoning?.summary;
  return typeof summary === "string" && summary !== "none";
}

/** Another API's thinking as the client's reasoning item: a summary when it asked for one, else reasoning text. */
export const gatewayReasoningItem = (meta: ResponseMeta, id: string, text: string): OutputItem =>
  meta.summary
    ? { id, type: "reasoning", summary: [{ type: "summary_text", text }] }
    : { id, type: "reasoning", summary: [], content: [{ type: "reasoning_text", text }] };

/** A length stop is `incomplete` (max_output_tokens), anything else that ended is `completed`. */
export const finalStatus = (message: AssistantMessage): ResponseStatus =>
  message.stopReason === "length" ? "incomplete" : "completed";

/** An output item's id: the response's own id with a kind prefix and the item's position. */
export const itemId = (meta: ResponseMeta, prefix: string, position: number): string =>
  `${prefix}_${meta.id.replace(/^resp_/, "")}_${position}`;

/** Whether `id` is one itemId made (a response id is `resp_` and 32 hex digits), not a target's own. */
export const isGatewayItemId = (id: unknown, prefix: string): boolean =>
  typeof id === "string" && id.startsWith(`${prefix}_`) && /^[0-9a-f]{32}_\d+$/.test(id.slice(prefix.length + 1));

/** The output items of a finished message, for an answer that was not streamed. */
export function outputItemsOf(meta: ResponseMeta, message: AssistantMessage): OutputItem[] {
  // Thinking a target redacted holds nothing a client of this API can read or send back: pi-ai's "[Reasoning
  // redacted]" stand-in is no reasoning the target wrote, so it is left out.
  return message.content.flatMap((block, position): OutputItem | OutputItem[] => {
    if (block.type === "thinking" && block.redacted) return [];
    if (block.type === "text") {
      return {
        id: itemId(meta, "msg", position),
        type: "message",
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: block.text, annotations: [] }],
      };
    }
    if (block.type === "thinking") {
      const own = targetReasoningItem(block, message.api);
      if (own) return own;
      return gatewayReasoningItem(meta, itemId(meta, "rs", position), block.thinking);
    }
    const { callId, itemId: upstreamItemId } = toolCallParts(block.id);
    return {
      id: upstreamItemId ?? itemId(meta, "fc", position),
      type: "function_call",
      status: "completed",
      call_id: callId,
      name: block.name,
      arguments: JSON.stringify(block.arguments ?? {}),
    };
  });
}

export function responsesUsage(usage: Usage): Record<string, unknown> {
  const input = usage.input + usage.cacheRead + usage.cacheWrite;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage.cacheRead },
    output_tokens: usage.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + usage.output,
  };
}

/** Why a response is `incomplete`: its output limit, or a target's refusal (refusal.ts). */
export type IncompleteReason = "max_output_tokens" | "content_filter";

/** The response object; `output` and usage are empty while it is in progress. */
export function responseObject(
  meta: ResponseMeta,
  status: ResponseStatus,
  output: OutputItem[],
  message?: AssistantMessage,
  incompleteReason: IncompleteReason = "max_output_tokens",
): Record<string, unknown> {
  const ended = message !== undefined && status !== "in_progress";
  const cut = status === "incomplete" && incompleteReason === "max_output_tokens";
  // A length stop cut the last item: a message being written is incomplete, as api.openai.com marks it.
  const items = (ended ? output : []).map((item, index, all) =>
    cut && index === all.length - 1 && item.type === "message" ? { ...item, status: "incomplete" } : item,
  );
  return {
    id: meta.id,
    object: "response",
    created_at: meta.createdAtSeconds,
    status,
    model: meta.model,
    output: items,
    output_text: items
      .flatMap((item) => (item.type === "message" ? item.content.map((part) => part.text) : []))
      .join(""),
    error: status === "failed" ? { code: "server_error", message: message?.errorMessage ?? "the answer failed" } : null,
    incomplete_details: status === "incomplete" ? { reason: incompleteReason } : null,
    usage: ended ? responsesUsage(message.usage) : null,
    parallel_tool_calls: meta.tools?.parallel_tool_calls ?? true,
    tool_choice: meta.tools?.tool_choice ?? "auto",
    tools: meta.tools?.tools ?? [],
    ...echoedSettings(meta.tools),
  };
}

/** The request's other settings as api.openai.com's response gives them, its defaults where the request set none. */
function echoedSettings(request: ResponseTools | undefined): Record<string, unknown> {
  const reasoning = request?.reasoning;
  return {
    instructions: request?.instructions ?? null,
    max_output_tokens: request?.max_output_tokens ?? null,
    metadata: request?.metadata ?? {},
    reasoning: { effort: reasoning?.effort ?? null, summary: reasoning?.summary ?? null },
    temperature: request?.temperature ?? 1,
    text: request?.text ?? { format: { type: "text" } },
    top_p: request?.top_p ?? 1,
    truncation: request?.truncation ?? "disabled",
  };
}

/** The non-streaming answer to a Responses request; `refused`: incomplete for content_filter, with the text so far. */
export function responsesBody(
  message: AssistantMessage,
  model: string,
  now: number,
  summary = false,
  refused = false,
  tools?: ResponseTools,
): Record<string, unknown> {
  const meta = responseMeta(model, now, summary, tools);
  const output = outputItemsOf(meta, message);
  if (refused) return responseObject(meta, "incomplete", output, message, "content_filter");
  return responseObject(meta, finalStatus(message), output, message);
}
