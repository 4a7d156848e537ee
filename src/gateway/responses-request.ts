// OpenAI Responses request -> pi-ai Context. Pure: the gateway's /v1/responses handler calls it, the router does the
// rest. What the router cannot serve (stored conversations, remote image URLs) is a 400 naming the field and what
// was expected. Hosted tools (web_search, namespaces of sub-agent tools, ...) run on OpenAI's servers, not on a
// model, so no target can honour them: they are left out and named in `ignoredTools` for the response header, so
// that clients such as the Codex CLI, which always send them, still work.
import type {
  AssistantMessage,
  Context,
  ImageContent,
  Message,
  SimpleStreamOptions,
  TextContent,
  ToolCall,
} from "@mariozechner/pi-ai";
import { z } from "zod";
import { type ClientContext, dataUrlImage, historyAssistant, textBlock } from "./client-messages.ts";
import { bodySchemaError, GatewayError } from "./errors.ts";
import { reasoningInputBlock } from "./responses-reasoning.ts";

const textPart = z.object({ type: z.enum(["input_text", "output_text", "text"]), text: z.string() });
const imagePart = z.object({
  type: z.literal("input_image"),
  image_url: z.string().optional(),
  detail: z.string().optional(),
});
const refusalPart = z.object({ type: z.literal("refusal"), refusal: z.string() });
const contentPart = z.union([textPart, imagePart, refusalPart]);

const messageItem = z.object({
  type: z.literal("message").optional(),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(contentPart)]),
});
const functionCallItem = z.object({
  type: z.literal("function_call"),
  // The item's own id (`fc_...`), kept beside its call_id for a Responses target.
  id: z.string().min(1).optional(),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
});
const functionCallOutputItem = z.object({
  type: z.literal("function_call_output"),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(contentPart)]),
});
// Reasoning items from an earlier turn: one with encrypted content (a Responses target's own) goes back into its
// turn for a target of that API (responses-reasoning.ts); the others, the gateway's own among them, are left out.
const reasoningItem = z.object({ type: z.literal("reasoning") }).loose();
const inputItem = z.union([messageItem, functionCallItem, functionCallOutputItem, reasoningItem]);

const functionTool = z.object({
  type: z.literal("function"),
  name: z.string().min(1),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});

export const responsesRequestSchema = z
  .object({
    // Optional: the X-Model header may name it instead (requestedModel says when neither does).
    model: z.string().min(1).optional(),
    input: z.union([z.string(), z.array(inputItem)]),
    instructions: z.string().nullish(),
    tools: z.array(functionTool).optional(),
    tool_choice: z.unknown().optional(),
    stream: z.boolean().nullish(),
    max_output_tokens: z.number().int().positive().nullish(),
    temperature: z.number().nullish(),
    reasoning: z
      .object({ effort: z.enum(["minimal", "low", "medium", "high", "xhigh"]).nullish() })
      .loose()
      .nullish(),
    previous_response_id: z.null().optional(),
    provider: z.unknown().optional(),
  })
  .loose();

export type ResponsesRequest = z.infer<typeof responsesRequestSchema> & {
  /** Hosted tool types (and names) that were left out, e.g. ["web_search", "namespace:multi_agent_v1"]. */
  ignoredTools: string[];
};

const invalid = (path: string, message: string) => new GatewayError(400, "invalid_request", `${path}: ${message}`);

/** Validates a Responses API body; a 400 names the field (`body.input[2].arguments`) and what was expected. */
export function parseResponsesRequest(body: unknown): ResponsesRequest {
  if (body && typeof body === "object" && (body as { previous_response_id?: unknown }).previous_response_id != null) {
    throw invalid(
      "body.previous_response_id",
      "stored responses are not kept by this gateway; send the whole conversation in `input`",
    );
  }
  const ignoredTools: string[] = [];
  const tools = (body as { tools?: unknown })?.tools;
  if (Array.isArray(tools)) {
    const served = tools.filter((tool: { type?: unknown; name?: unknown }) => {
      if (tool?.type === "function") return true;
      ignoredTools.push(typeof tool?.name === "string" ? `${String(tool.type)}:${tool.name}` : String(tool?.type));
      return false;
    });
    body = { ...(body as object), tools: served };
  }
  const parsed = responsesRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw bodySchemaError(parsed.error.issues[0]!);
  }
  return { ...parsed.data, ignoredTools };
}

export function responsesToContext(request: ResponsesRequest, now: number): ClientContext {
  const context: Context = { messages: toMessages(request.input, now) };
  const system = systemText(request);
  if (system) context.systemPrompt = system;
  if (request.tools?.length) {
    context.tools = request.tools.map((tool) => ({
      name: tool.name,
      description: tool.description ?? "",
      parameters: (tool.parameters ?? { type: "object", properties: {} }) as never,
    }));
  }
  const options: SimpleStreamOptions = {};
  if (request.max_output_tokens) options.maxTokens = request.max_output_tokens;
  if (typeof request.temperature === "number") options.temperature = request.temperature;
  if (request.reasoning?.effort) options.reasoning = request.reasoning.effort;
  // Tool results are their own items here (function_call_output): every user message is a prompt.
  let promptIndex: number | undefined;
  context.messages.forEach((message, index) => {
    if (message.role === "user") promptIndex = index;
  });
  return { context, options, promptIndex };
}

function systemText(request: ResponsesRequest): string | undefined {
  const parts: string[] = [];
  if (request.instructions) parts.push(request.instructions);
  if (Array.isArray(request.input)) {
    for (const item of request.input) {
      if (item.type !== "reasoning" && "role" in item && (item.role === "system" || item.role === "developer"))
        parts.push(plainText(item.content));
    }
  }
  return parts.length ? parts.join("\n\n") : undefined;
}

type InputItem = z.infer<typeof inputItem>;

function toMessages(input: string | InputItem[], now: number): Message[] {
  if (typeof input === "string") return [{ role: "user", content: input, timestamp: now }];
  const messages: Message[] = [];
  const toolNames = new Map<string, string>();
  // call_id -> pi-ai's id of the call (`<call_id>|<item id>` when the client gave the item's id), for its result.
  const callIds = new Map<string, string>();
  let assistant: AssistantMessage["content"] | undefined;
  const closeAssistant = () => {
    if (assistant) messages.push(historyAssistant(assistant, "openai-responses", now));
    assistant = undefined;
  };
  input.forEach((item, index) => {
    const where = `body.input[${index}]`;
    if (item.type === "reasoning") {
      // Before the turn's function calls and message, as the target sent them.
      const block = reasoningInputBlock(item);
      if (block) (assistant ??= []).push(block);
      return;
    }
    if (item.type === "function_call") {
      toolNames.set(item.call_id, item.name);
      const call = toolCall(item, where);
      callIds.set(item.call_id, call.id);
      (assistant ??= []).push(call);
      return;
    }
    if (item.type === "function_call_output") {
      closeAssistant();
      messages.push({
        role: "toolResult",
        toolCallId: callIds.get(item.call_id) ?? item.call_id,
        toolName: toolNames.get(item.call_id) ?? "tool",
        content: typeof item.output === "string" ? [textBlock(item.output)] : userParts(item.output, `${where}.output`),
        isError: false,
        timestamp: now,
      });
      return;
    }
    if (item.role === "system" || item.role === "developer") return;
    if (item.role === "assistant") {
      const text = plainText(item.content);
      if (text) (assistant ??= []).push(textBlock(text));
      return;
    }
    closeAssistant();
    messages.push({
      role: "user",
      content: typeof item.content === "string" ? item.content : userParts(item.content, `${where}.content`),
      timestamp: now,
    });
  });
  closeAssistant();
  return messages;
}

function toolCall(item: z.infer<typeof functionCallItem>, where: string): ToolCall {
  let args: unknown;
  try {
    args = item.arguments.trim() ? JSON.parse(item.arguments) : {};
  } catch {
    args = undefined;
  }
  if (!args || typeof args !== "object" || Array.isArray(args))
    throw invalid(`${where}.arguments`, "expected a JSON object encoded as a string");
  // pi-ai's own form of a Responses call (what its openai-responses converter splits into call_id and id again).
  const id = item.id ? `${item.call_id}|${item.id}` : item.call_id;
  return { type: "toolCall", id, name: item.name, arguments: args as ToolCall["arguments"] };
}

function userParts(parts: z.infer<typeof contentPart>[], where: string): (TextContent | ImageContent)[] {
  return parts.map((part, index) => {
    if (part.type === "refusal") return textBlock(part.refusal);
    if (part.type !== "input_image") return textBlock(part.text);
    return dataUrlImage(part.image_url ?? "", `${where}[${index}].image_url`);
  });
}

function plainText(content: string | z.infer<typeof contentPart>[]): string {
  if (typeof content === "string") return content;
  return content
    .map((part) => (part.type === "input_image" ? "" : part.type === "refusal" ? part.refusal : part.text))
    .join("");
}
