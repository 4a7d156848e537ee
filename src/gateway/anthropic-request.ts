// An Anthropic Messages request as pi-ai's Context and options: system prompt, tools, text/image/thinking blocks,
// tool_use turns and tool_result blocks (pi-ai keeps tool results as their own messages).
import type {
  AssistantMessage,
  ImageContent,
  Message,
  SimpleStreamOptions,
  TextContent,
  Tool,
  ToolCall,
} from "@mariozechner/pi-ai";
import { z } from "zod";
import { numberBetween, objectToolSchema } from "./tool-schema.ts";
import { thinkingOn } from "./anthropic-thinking.ts";
import { type ClientContext, dataUrlImage, historyAssistant, levelForBudget, textBlock } from "./client-messages.ts";
import { bodySchemaError, GatewayError } from "./errors.ts";
import { type IgnoredTool, withoutHostedTools } from "./hosted-tools.ts";

const block = z.looseObject({ type: z.string() });
const content = z.union([z.string(), z.array(block)]);

/** The body `/v1/messages/count_tokens` takes: a Messages request without its output cap. */
export const anthropicCountTokensSchema = z.looseObject({
  // Optional: the X-Model header may name it instead (requestedModel says when neither does).
  model: z.string().min(1).optional(),
  max_tokens: z.number().int().positive().optional(),
  // "system" turns inside the conversation are sent by newer clients (Claude Code 2.1) for mid-conversation context.
  messages: z.array(z.looseObject({ role: z.enum(["user", "assistant", "system"]), content })).min(1),
  system: content.optional(),
  tools: z
    .array(
      z.looseObject({
        name: z.string().min(1),
        description: z.string().optional(),
        // Anthropic's API takes an object schema only ({"type": "object", ...}).
        input_schema: objectToolSchema().optional(),
      }),
    )
    .optional(),
  stream: z.boolean().optional(),
  // Anthropic's ranges, narrower than OpenAI's (a temperature of 1.5 is an OpenAI client's, never a Messages one's).
  temperature: numberBetween(0, 1).optional(),
  top_p: numberBetween(0, 1).optional(),
  thinking: z.looseObject({ type: z.string(), budget_tokens: z.number().optional() }).optional(),
  provider: z.unknown().optional(),
});
/**
 * A `/v1/messages` body: Anthropic's API requires `max_tokens`, so a request without it is refused rather than given a
 * cap of the gateway's choosing (a translation) or sent on without one (a passthrough the target refuses).
 */
export const anthropicRequestSchema = anthropicCountTokensSchema.extend({
  max_tokens: z
    .number({
      error: (issue) =>
        issue.input === undefined ? "required (the most tokens to generate, an integer above 0)" : undefined,
    })
    .int()
    .positive(),
});
export type AnthropicRequest = z.infer<typeof anthropicCountTokensSchema> & {
  /**
   * Server tools (`web_search_20250305`, `bash_20250124`, any type but `custom`) left out of a translation, which has
   * no form for them: `{ type: "web_search_20250305", name: "web_search" }`. A passthrough to an Anthropic target sends
   * them as they came.
   */
  ignoredTools: IgnoredTool[];
};

type Block = Record<string, any>;

function image(source: Block, where: string): ImageContent {
  if (source?.type === "base64" && typeof source.data === "string")
    return { type: "image", mimeType: String(source.media_type ?? "image/png"), data: source.data };
  if (source?.type === "url" && typeof source.url === "string" && source.url.startsWith("data:"))
    return dataUrlImage(source.url, `${where}.source.url`);
  // Targets of every API are sent the image's bytes: the gateway fetches nothing.
  const given =
    source?.type === "url" ? "an image by URL is not supported" : `got type ${JSON.stringify(source?.type)}`;
  throw new GatewayError(
    400,
    "invalid_request",
    `${where}.source: ${given}; send a base64 source, {"type":"base64","media_type":"image/png","data":"..."}`,
  );
}

const blocksOf = (value: string | Block[]): Block[] =>
  typeof value === "string" ? [{ type: "text", text: value }] : value;
const systemText = (value: string | Block[]): string =>
  blocksOf(value)
    .map((item) => String(item.text ?? ""))
    .join("\n\n");

function toolResultContent(value: unknown, where: string): (TextContent | ImageContent)[] {
  if (value === undefined) return [];
  if (typeof value === "string") return [textBlock(value)];
  if (!Array.isArray(value))
    throw new GatewayError(400, "invalid_request", `${where}: expected a string or an array of blocks`);
  // A document (pi-ai has none) is left out, not sent as empty text; client-settings.ts names it.
  return value.flatMap((item: Block, index): (TextContent | ImageContent)[] =>
    item.type === "image"
      ? [image(item.source, `${where}[${index}]`)]
      : item.type === "document"
        ? []
        : [textBlock(String(item.text ?? ""))],
  );
}

/** A `/v1/messages` body (`schema`: count_tokens' body, which has no `max_tokens`). */
export function parseAnthropicRequest(
  raw: unknown,
  schema: z.ZodType<z.infer<typeof anthropicCountTokensSchema>> = anthropicRequestSchema,
): AnthropicRequest {
  const { body, ignoredTools } = withoutHostedTools(raw, (tool) => tool?.type === undefined || tool?.type === "custom");
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw bodySchemaError(parsed.error.issues[0]!);
  }
  return { ...parsed.data, ignoredTools };
}

/** The user blocks a translation keeps (anthropicToContext); documents and any other block are left out. */
const TRANSLATED_USER_BLOCKS = new Set(["text", "image", "tool_result"]);

/**
 * User messages made only of blocks a translation leaves out (`document` blocks, say): translated, the message would
 * vanish from the conversation, so only a target sent the client's own body can take the request.
 */
export function anthropicUntranslatable(request: AnthropicRequest): string[] {
  return request.messages.flatMap((message, index) => {
    const content = message.content;
    if (message.role !== "user" || !Array.isArray(content) || content.length === 0) return [];
    if (content.some((item) => TRANSLATED_USER_BLOCKS.has(item.type))) return [];
    const types = [...new Set(content.map((item) => item.type))].join(", ");
    return [`body.messages[${index}].content (only ${types} blocks, which a translation leaves out)`];
  });
}

export function anthropicToContext(request: AnthropicRequest, now: number): ClientContext {
  const messages: Message[] = [];
  let promptIndex: number | undefined;
  const system: string[] = request.system === undefined ? [] : [systemText(request.system as string | Block[])];
  const toolNames = new Map<string, string>();
  request.messages.forEach((message, messageIndex) => {
    const where = `body.messages[${messageIndex}].content`;
    const blocks = blocksOf(message.content as string | Block[]);
    // pi-ai's context has one system prompt: a mid-conversation system turn joins it.
    if (message.role === "system") return void system.push(systemText(blocks));
    if (message.role === "assistant") {
      const parts: AssistantMessage["content"] = [];
      for (const item of blocks) {
        if (item.type === "text") parts.push(textBlock(String(item.text ?? "")));
        else if (item.type === "thinking")
          parts.push({ type: "thinking", thinking: String(item.thinking ?? ""), thinkingSignature: item.signature });
        else if (item.type === "redacted_thinking")
          parts.push({ type: "thinking", thinking: "", thinkingSignature: item.data, redacted: true });
        else if (item.type === "tool_use") {
          toolNames.set(String(item.id), String(item.name));
          parts.push({
            type: "toolCall",
            id: String(item.id),
            name: String(item.name),
            arguments: (item.input ?? {}) as ToolCall["arguments"],
          });
        }
      }
      messages.push(historyAssistant(parts, "anthropic-messages", now));
      return;
    }
    const userParts: (TextContent | ImageContent)[] = [];
    let toolResultTurn = false;
    blocks.forEach((item, index) => {
      if (item.type === "tool_result") {
        toolResultTurn = true;
        const id = String(item.tool_use_id);
        messages.push({
          role: "toolResult",
          toolCallId: id,
          toolName: toolNames.get(id) ?? "tool",
          content: toolResultContent(item.content, `${where}[${index}].content`),
          isError: item.is_error === true,
          timestamp: now,
        });
      } else if (item.type === "text") userParts.push(textBlock(String(item.text ?? "")));
      else if (item.type === "image") userParts.push(image(item.source, `${where}[${index}]`));
    });
    if (userParts.length === 0) return;
    if (!toolResultTurn) promptIndex = messages.length;
    messages.push({ role: "user", content: userParts, timestamp: now });
  });
  const systemPrompt = system.filter((text) => text.length > 0).join("\n\n");
  const tools: Tool[] | undefined = request.tools?.map((tool) => ({
    name: tool.name,
    description: tool.description ?? "",
    parameters: (tool.input_schema ?? { type: "object", properties: {} }) as Tool["parameters"],
  }));
  const options: SimpleStreamOptions = {};
  if (request.max_tokens !== undefined) options.maxTokens = request.max_tokens;
  if (request.temperature !== undefined) options.temperature = request.temperature;
  if (thinkingOn(request.thinking)) options.reasoning = levelForBudget(request.thinking?.budget_tokens);
  return {
    context: { ...(systemPrompt ? { systemPrompt } : {}), messages, ...(tools?.length ? { tools } : {}) },
    options,
    promptIndex,
  };
}
