// OpenAI Responses request -> pi-ai Context. Pure: the gateway's /v1/responses handler calls it, the router does the
// rest. What the router cannot serve (stored conversations, remote image URLs) is a 400 naming the field and what
// was expected. Hosted tools (web_search, namespaces of sub-agent tools, ...) run on OpenAI's servers, not on a
// model, so no target can honour them: they are left out and named in `ignoredTools` for the response header, so
// that clients such as the Codex CLI, which always send them, still work.
import type { Context, ImageContent, Message, TextContent, ToolCall } from "@mariozechner/pi-ai";
import { z } from "zod";

const textPart = z.object({ type: z.enum(["input_text", "output_text", "text"]), text: z.string() });
const imagePart = z.object({ type: z.literal("input_image"), image_url: z.string().optional(), detail: z.string().optional() });
const refusalPart = z.object({ type: z.literal("refusal"), refusal: z.string() });
const contentPart = z.union([textPart, imagePart, refusalPart]);

const messageItem = z.object({
  type: z.literal("message").optional(),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(contentPart)]),
});
const functionCallItem = z.object({
  type: z.literal("function_call"),
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
});
const functionCallOutputItem = z.object({
  type: z.literal("function_call_output"),
  call_id: z.string().min(1),
  output: z.union([z.string(), z.array(contentPart)]),
});
// Reasoning items from an earlier turn carry another model's encrypted state: accepted and left out.
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
    model: z.string().min(1),
    input: z.union([z.string(), z.array(inputItem)]),
    instructions: z.string().nullish(),
    tools: z.array(functionTool).optional(),
    tool_choice: z.unknown().optional(),
    stream: z.boolean().nullish(),
    max_output_tokens: z.number().int().positive().nullish(),
    temperature: z.number().nullish(),
    reasoning: z.object({ effort: z.enum(["minimal", "low", "medium", "high", "xhigh"]).nullish() }).loose().nullish(),
    previous_response_id: z.null().optional(),
    provider: z.unknown().optional(),
  })
  .loose();

export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;

export interface ParsedResponsesRequest {
  model: string;
  stream: boolean;
  context: Context;
  maxTokens?: number;
  temperature?: number;
  reasoning?: "minimal" | "low" | "medium" | "high" | "xhigh";
  /** The body's OpenRouter-style `provider` object, for the gateway's preference parser. */
  provider?: unknown;
  /** Hosted tool types (and names) that were left out, e.g. ["web_search", "namespace:multi_agent_v1"]. */
  ignoredTools: string[];
}

export class ResponsesRequestError extends Error {
  constructor(readonly path: string, message: string) {
    super(path ? `${path}: ${message}` : message);
  }
}

/** Parses and translates a Responses API body; throws ResponsesRequestError naming the field. */
export function parseResponsesRequest(body: unknown, now: number): ParsedResponsesRequest {
  if (body && typeof body === "object" && "previous_response_id" in body && (body as { previous_response_id?: unknown }).previous_response_id != null) {
    throw new ResponsesRequestError("previous_response_id", "stored responses are not kept by this gateway; send the whole conversation in `input`");
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
    const issue = parsed.error.issues[0];
    throw new ResponsesRequestError(issue.path.join("."), issue.message);
  }
  const request = parsed.data;
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
  return {
    model: request.model,
    stream: request.stream === true,
    context,
    ...(request.max_output_tokens ? { maxTokens: request.max_output_tokens } : {}),
    ...(typeof request.temperature === "number" ? { temperature: request.temperature } : {}),
    ...(request.reasoning?.effort ? { reasoning: request.reasoning.effort } : {}),
    ...(request.provider !== undefined ? { provider: request.provider } : {}),
    ignoredTools,
  };
}

function systemText(request: ResponsesRequest): string | undefined {
  const parts: string[] = [];
  if (request.instructions) parts.push(request.instructions);
  if (Array.isArray(request.input)) {
    for (const item of request.input) {
      if (item.type !== "reasoning" && "role" in item && (item.role === "system" || item.role === "developer")) parts.push(plainText(item.content));
    }
  }
  return parts.length ? parts.join("\n\n") : undefined;
}

type InputItem = z.infer<typeof inputItem>;

function toMessages(input: string | InputItem[], now: number): Message[] {
  if (typeof input === "string") return [{ role: "user", content: input, timestamp: now }];
  const messages: Message[] = [];
  const toolNames = new Map<string, string>();
  let assistant: Extract<Message, { role: "assistant" }> | undefined;
  const closeAssistant = () => {
    if (assistant) messages.push(assistant);
    assistant = undefined;
  };
  const openAssistant = () => (assistant ??= emptyAssistant(now));
  input.forEach((item, index) => {
    if (item.type === "reasoning") return;
    if (item.type === "function_call") {
      toolNames.set(item.call_id, item.name);
      openAssistant().content.push(toolCall(item, index));
      return;
    }
    if (item.type === "function_call_output") {
      closeAssistant();
      messages.push({
        role: "toolResult",
        toolCallId: item.call_id,
        toolName: toolNames.get(item.call_id) ?? "",
        content: typeof item.output === "string" ? [{ type: "text", text: item.output }] : userParts(item.output, `input[${index}].output`),
        isError: false,
        timestamp: now,
      });
      return;
    }
    if (item.role === "system" || item.role === "developer") return;
    if (item.role === "assistant") {
      const text = plainText(item.content);
      if (text) openAssistant().content.push({ type: "text", text });
      return;
    }
    closeAssistant();
    messages.push({
      role: "user",
      content: typeof item.content === "string" ? item.content : userParts(item.content, `input[${index}].content`),
      timestamp: now,
    });
  });
  closeAssistant();
  return messages;
}

function toolCall(item: z.infer<typeof functionCallItem>, index: number): ToolCall {
  let args: unknown;
  try {
    args = item.arguments.trim() ? JSON.parse(item.arguments) : {};
  } catch {
    throw new ResponsesRequestError(`input[${index}].arguments`, "expected a JSON object encoded as a string");
  }
  if (!args || typeof args !== "object" || Array.isArray(args)) {
    throw new ResponsesRequestError(`input[${index}].arguments`, "expected a JSON object encoded as a string");
  }
  return { type: "toolCall", id: item.call_id, name: item.name, arguments: args as Record<string, unknown> };
}

function userParts(parts: z.infer<typeof contentPart>[], path: string): (TextContent | ImageContent)[] {
  return parts.map((part, index) => {
    if (part.type === "refusal") return { type: "text", text: part.refusal };
    if (part.type !== "input_image") return { type: "text", text: part.text };
    const image = dataUrlImage(part.image_url);
    if (!image) throw new ResponsesRequestError(`${path}[${index}].image_url`, "expected a data URL (data:image/<type>;base64,...); remote image URLs are not fetched");
    return image;
  });
}

const DATA_URL = /^data:(image\/[a-z0-9.+-]+);base64,(.+)$/is;

function dataUrlImage(url: string | undefined): ImageContent | undefined {
  const match = url ? DATA_URL.exec(url) : null;
  return match ? { type: "image", mimeType: match[1].toLowerCase(), data: match[2] } : undefined;
}

function plainText(content: string | z.infer<typeof contentPart>[]): string {
  if (typeof content === "string") return content;
  return content.map((part) => (part.type === "input_image" ? "" : part.type === "refusal" ? part.refusal : part.text)).join("");
}

// An assistant turn replayed by the client belongs to no target the router knows, so pi-ai treats it as another
// model's output (thinking becomes text, signatures are dropped) whichever target serves the next turn.
function emptyAssistant(now: number): Extract<Message, { role: "assistant" }> {
  return {
    role: "assistant",
    content: [],
    api: "openai-responses",
    provider: "gateway-client",
    model: "gateway-client",
    usage: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, totalTokens: 0, cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, total: 0 } },
    stopReason: "stop",
    timestamp: now,
  };
}
