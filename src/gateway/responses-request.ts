// OpenAI Responses request -> pi-ai Context. Pure: the gateway's /v1/responses handler calls it, the router does the
// rest. What the router cannot serve (stored conversations) is a 400 naming the field and what was expected. Hosted
// tools (web_search, namespaces of sub-agent tools, ...) run on OpenAI's servers, not on a model, so no target can
// honour them: they are left out and named in `ignoredTools` for the response header, so that clients such as the
// Codex CLI, which always send them, still work. Valid input the router has no pi-ai form for (file parts, images by
// file id or remote URL, item references, hosted tools' call items) is named in `untranslatable`: a Responses target
// sent the client's own body takes it, a translated request cannot (chat-handler.ts refuses it).
import type {
  AssistantMessage,
  Context,
  ImageContent,
  Message,
  SimpleStreamOptions,
  TextContent,
  ThinkingLevel,
  ToolCall,
} from "@mariozechner/pi-ai";
import { z } from "zod";
import { oneOf } from "../config/zod-issue-text.ts";
import { numberBetween, openAIToolSchema, orNull, shapeName } from "./tool-schema.ts";
import { checkToolChoice, checkToolResult } from "./tool-turns.ts";
import { type ClientContext, dataUrlImage, historyAssistant, textBlock, toolResultBlocks } from "./client-messages.ts";
import { bodyPath, bodySchemaError, GatewayError } from "./errors.ts";
import { reasoningInputBlock } from "./responses-reasoning.ts";
import { type IgnoredTool, withoutHostedTools } from "./hosted-tools.ts";
import { ownRecord } from "../own-record.ts";

const textPart = z.object({ type: z.enum(["input_text", "output_text", "text"]), text: z.string() });
const imagePart = z.object({
  type: z.literal("input_image"),
  image_url: z.string().optional(),
  detail: z.string().optional(),
});
const refusalPart = z.object({ type: z.literal("refusal"), refusal: z.string() });
type ContentPart = z.infer<typeof textPart> | z.infer<typeof imagePart> | z.infer<typeof refusalPart>;
// Looked up by the type a client sends: without a prototype, `"type": "__proto__"` is an unknown type, not a 500.
const PART_SCHEMAS: Record<string, z.ZodType<ContentPart>> = ownRecord({
  input_text: textPart,
  output_text: textPart,
  text: textPart,
  input_image: imagePart,
  refusal: refusalPart,
});
/** Content parts of the Responses API that pi-ai has no form for. */
const UNMODELLED_PARTS = ["input_file", "input_audio"];
const PART_TYPES = [...Object.keys(PART_SCHEMAS), ...UNMODELLED_PARTS];

// Content is checked part by part (contentParts): a union of shapes would be reported at `input` alone.
const PARTS = "a string or an array of content parts";
const parts = z.union([z.string(), z.array(z.unknown())], {
  // As every other field says it: what was sent, or that it is missing.
  error: ({ input }) =>
    input === undefined ? `missing: this key is required (${PARTS})` : `expected ${PARTS}, got ${shapeName(input)}`,
});
const messageItem = z.object({
  type: z.literal("message").optional(),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: parts,
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
  output: parts,
});
// Reasoning items from an earlier turn: one with encrypted content (a Responses target's own) goes back into its
// turn for a target of that API (responses-reasoning.ts); the others, the gateway's own among them, are left out.
const reasoningItem = z.object({ type: z.literal("reasoning") }).loose();
const ITEM_SCHEMAS: Record<string, z.ZodType> = ownRecord({
  message: messageItem,
  function_call: functionCallItem,
  function_call_output: functionCallOutputItem,
  reasoning: reasoningItem,
});
/** Input items of the Responses API that pi-ai has no form for: hosted tools' calls, references to stored items. */
const UNMODELLED_ITEMS = [
  "item_reference",
  "file_search_call",
  "web_search_call",
  "computer_call",
  "computer_call_output",
  "code_interpreter_call",
  "image_generation_call",
  "local_shell_call",
  "local_shell_call_output",
  "shell_call",
  "shell_call_output",
  "apply_patch_call",
  "apply_patch_call_output",
  "mcp_list_tools",
  "mcp_approval_request",
  "mcp_approval_response",
  "mcp_call",
  "custom_tool_call",
  "custom_tool_call_output",
  "tool_search_call",
  "tool_search_output",
  "compaction",
];
const ITEM_TYPES = [...Object.keys(ITEM_SCHEMAS), ...UNMODELLED_ITEMS];

type MessageItem = Omit<z.infer<typeof messageItem>, "content"> & { content: string | ContentPart[] };
type FunctionCallOutputItem = Omit<z.infer<typeof functionCallOutputItem>, "output"> & {
  output: string | ContentPart[];
};
type InputItem =
  | MessageItem
  | z.infer<typeof functionCallItem>
  | FunctionCallOutputItem
  | z.infer<typeof reasoningItem>;

const functionTool = z.object({
  type: z.literal("function"),
  name: z.string().min(1),
  description: z.string().nullish(),
  parameters: openAIToolSchema().nullish(),
  strict: z.boolean().nullish(),
});

export const responsesRequestSchema = z
  .object({
    // Optional: the X-Model header may name it instead (requestedModel says when neither does).
    model: z.string().min(1).optional(),
    // Each item is checked by inputItems: its type says which schema applies.
    input: z.union([z.string(), z.array(z.custom<InputItem>())], {
      error: "expected a string or an array of input items",
    }),
    instructions: z.string().nullish(),
    tools: orNull(z.array(functionTool)),
    tool_choice: z.unknown().optional(),
    stream: z.boolean().nullish(),
    max_output_tokens: z.number().int().positive().nullish(),
    // OpenAI's ranges: a value outside them is refused here, not sent on to a target of another API that takes it.
    temperature: numberBetween(0, 2).nullish(),
    top_p: numberBetween(0, 1).nullish(),
    reasoning: z
      .object({ effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]).nullish() })
      .loose()
      .nullish(),
    previous_response_id: z.null().optional(),
    provider: z.unknown().optional(),
  })
  .loose();

export type ResponsesRequest = z.infer<typeof responsesRequestSchema> & {
  /** Hosted tools that were left out, e.g. `{ type: "web_search" }`, `{ type: "namespace", name: "multi_agent_v1" }`. */
  ignoredTools: IgnoredTool[];
  /**
   * Valid input left out of `input` (the client's own body keeps it for a passthrough) because pi-ai has no form
   * for it: `body.input[0].content[1] (type "input_file")`.
   */
  untranslatable: string[];
};

const invalid = (path: string, message: string) => new GatewayError(400, "invalid_request", `${path}: ${message}`);

type Loose = Record<string, unknown>;
const isObject = (value: unknown): value is Loose =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A schema issue of one part of the input, with its place in the whole body. */
const issueAt = (where: readonly PropertyKey[], error: z.ZodError) => {
  const issue = error.issues[0]!;
  return bodySchemaError({ ...issue, path: [...where, ...issue.path] });
};

const REMOTE = /^https?:\/\//i;

/** `role`: the message's; a tool output's parts have none. */
function contentParts(
  list: unknown[],
  where: readonly PropertyKey[],
  untranslatable: string[],
  role?: string,
): ContentPart[] {
  return list.flatMap((part, index): ContentPart[] => {
    const at = bodyPath([...where, index]);
    const type = isObject(part) ? part.type : undefined;
    if (typeof type === "string" && UNMODELLED_PARTS.includes(type)) {
      untranslatable.push(`${at} (type "${type}")`);
      return [];
    }
    if (type === "input_image" && isObject(part) && part.image_url == null) {
      if (part.file_id == null) throw invalid(at, "an input_image needs image_url (a data: or https: URL) or file_id");
      untranslatable.push(`${at} (an input_image by file_id)`);
      return [];
    }
    // A target needs the bytes, and fetching a URL on a client's behalf is a server-side request risk: only a target
    // sent the client's own body (which fetches it itself) takes it.
    if (type === "input_image" && isObject(part) && typeof part.image_url === "string" && REMOTE.test(part.image_url)) {
      untranslatable.push(`${at} (an input_image by URL)`);
      return [];
    }
    // pi-ai's system prompt and an assistant turn's history are text: the image would be left out without a word.
    if (type === "input_image" && role !== undefined && role !== "user") {
      untranslatable.push(`${at} (an input_image in ${role === "assistant" ? "an" : "a"} ${role} message)`);
      return [];
    }
    const schema = typeof type === "string" ? PART_SCHEMAS[type] : undefined;
    if (!schema) throw invalid(`${at}.type`, oneOf(PART_TYPES, type));
    const parsed = schema.safeParse(part, { reportInput: true });
    if (!parsed.success) throw issueAt([...where, index], parsed.error);
    return [parsed.data];
  });
}

/** Each item by its own type's schema, so that a 400 names the item's field rather than the whole `input`. */
function inputItems(list: readonly unknown[], untranslatable: string[]): InputItem[] {
  return list.flatMap((item, index): InputItem[] => {
    const where = ["input", index];
    if (!isObject(item)) throw invalid(bodyPath(where), "expected an input item (an object)");
    // A message may leave out its type (the SDK's EasyInputMessage).
    const type = item.type ?? (item.role !== undefined ? "message" : undefined);
    if (typeof type === "string" && UNMODELLED_ITEMS.includes(type)) {
      untranslatable.push(`${bodyPath(where)} (type "${type}")`);
      return [];
    }
    const schema = typeof type === "string" ? ITEM_SCHEMAS[type] : undefined;
    if (!schema)
      throw invalid(
        `${bodyPath(where)}.type`,
        `expected a message (with a role) or ${oneOf(ITEM_TYPES, type).slice("expected ".length)}`,
      );
    const parsed = schema.safeParse(item, { reportInput: true });
    if (!parsed.success) throw issueAt(where, parsed.error);
    const data = parsed.data as Loose;
    // A message's content and a tool output's parts; a reasoning item's content (reasoning_text parts) is its own.
    const field = type === "message" ? "content" : type === "function_call_output" ? "output" : undefined;
    if (field && Array.isArray(data[field]))
      data[field] = contentParts(data[field], [...where, field], untranslatable, data.role as string | undefined);
    return [data as InputItem];
  });
}

/**
 * Each function_call_output answers a function_call earlier in `input`, as OpenAI requires. A conversation that refers
 * to stored items (`item_reference`) may hold the call there: only a Responses target can tell.
 */
function checkCallOutputs(items: readonly unknown[]): void {
  if (items.some((item) => isObject(item) && item.type === "item_reference")) return;
  const calls = new Set<string>();
  items.forEach((item, index) => {
    if (!isObject(item)) return;
    if (item.type === "function_call" && typeof item.call_id === "string") calls.add(item.call_id);
    if (item.type === "function_call_output")
      checkToolResult(item.call_id, `body.input[${index}].call_id`, calls, "function_call_output");
  });
}

/** Validates a Responses API body; a 400 names the field (`body.input[2].arguments`) and what was expected. */
export function parseResponsesRequest(body: unknown): ResponsesRequest {
  if (body && typeof body === "object" && (body as { previous_response_id?: unknown }).previous_response_id != null) {
    throw invalid(
      "body.previous_response_id",
      "stored responses are not kept by this gateway; send the whole conversation in `input`",
    );
  }
  if (body && typeof body === "object" && (body as { conversation?: unknown }).conversation != null) {
    throw invalid(
      "body.conversation",
      "stored conversations are not kept by this gateway; send the whole conversation in `input`",
    );
  }
  const asSent = body as Loose;
  const { body: served, ignoredTools } = withoutHostedTools(body, (tool) => tool?.type === "function");
  body = served;
  const parsed = responsesRequestSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) {
    throw bodySchemaError(parsed.error.issues[0]!);
  }
  checkToolChoice(asSent.tool_choice, asSent.tools, (tool) => tool?.name);
  if (Array.isArray(parsed.data.input)) checkCallOutputs(parsed.data.input);
  const untranslatable: string[] = [];
  const input =
    typeof parsed.data.input === "string" ? parsed.data.input : inputItems(parsed.data.input, untranslatable);
  return { ...parsed.data, input, ignoredTools, untranslatable };
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
  const reasoning = reasoningLevel(request.reasoning);
  if (reasoning) options.reasoning = reasoning;
  // Tool results are their own items here (function_call_output): every user message is a prompt.
  let promptIndex: number | undefined;
  context.messages.forEach((message, index) => {
    if (message.role === "user") promptIndex = index;
  });
  return { context, options, promptIndex };
}

/**
 * The reasoning a request's `reasoning` asks for, as pi-ai's level; `none` asks for none. A summary asked without an
 * effort (the Codex CLI's default) asks for the model's default reasoning: OpenAI's is `medium`, and pi-ai's
 * streamSimple has no option for the summary itself.
 */
export function reasoningLevel(reasoning: unknown): ThinkingLevel | undefined {
  if (!isObject(reasoning)) return undefined;
  const effort = reasoning.effort;
  if (typeof effort === "string" && effort !== "") return effort === "none" ? undefined : (effort as ThinkingLevel);
  return summaryOnly(reasoning) ? "medium" : undefined;
}

/** A reasoning summary asked for without an effort. */
export const summaryOnly = (reasoning: unknown): boolean =>
  isObject(reasoning) &&
  (reasoning.effort === undefined || reasoning.effort === null || reasoning.effort === "") &&
  typeof reasoning.summary === "string" &&
  reasoning.summary !== "";

function systemText(request: ResponsesRequest): string | undefined {
  const parts: string[] = [];
  if (request.instructions) parts.push(request.instructions);
  if (Array.isArray(request.input)) {
    for (const item of request.input) {
      if (item.type !== "reasoning" && "role" in item && (item.role === "system" || item.role === "developer")) {
        const text = plainText(item.content);
        if (text) parts.push(text);
      }
    }
  }
  return parts.length ? parts.join("\n\n") : undefined;
}

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
        content: toolResultBlocks(
          typeof item.output === "string" ? [textBlock(item.output)] : userParts(item.output, `${where}.output`),
        ),
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

function userParts(parts: ContentPart[], where: string): (TextContent | ImageContent)[] {
  return parts.map((part, index) => {
    if (part.type === "refusal") return textBlock(part.refusal);
    if (part.type !== "input_image") return textBlock(part.text);
    return dataUrlImage(part.image_url ?? "", `${where}[${index}].image_url`);
  });
}

function plainText(content: string | ContentPart[]): string {
  if (typeof content === "string") return content;
  return content
    .map((part) => (part.type === "input_image" ? "" : part.type === "refusal" ? part.refusal : part.text))
    .join("");
}
