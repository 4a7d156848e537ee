// An OpenAI Chat Completions request as pi-ai's Context and options: system/developer messages become the system
// prompt, tool calls and `tool` messages become pi-ai tool calls and tool results, data-URL images become images.
import type {
  AssistantMessage,
  ImageContent,
  Message,
  SimpleStreamOptions,
  TextContent,
  ThinkingLevel,
  Tool,
  ToolCall,
} from "@mariozechner/pi-ai";
import { z } from "zod";
import { oneOf } from "../config/zod-issue-text.ts";
import { integerBetween, numberBetween, openAIToolSchema, orNull, stringOrBlocks } from "./tool-schema.ts";
import { checkToolChoice, checkToolResult } from "./tool-turns.ts";
import { type ClientContext, dataUrlImage, historyAssistant, textBlock, toolResultBlocks } from "./client-messages.ts";
import { bodySchemaError, GatewayError } from "./errors.ts";
import { type IgnoredTool, type ToolShape, withoutHostedTools } from "./hosted-tools.ts";
import { ownRecord } from "../own-record.ts";

const content = stringOrBlocks("content parts", { nullable: true });

/**
 * The content part types OpenAI's Chat Completions API takes in a message of each role (the openai SDK's
 * Chat*MessageParam, openai 6): any other is refused here, before a target is asked (a Chat target sent the body would
 * refuse it after a wasted attempt; a translation would leave it out, its text lost). A tool message's image is taken
 * too, which OpenAI's own API refuses: agents send a screenshot so, and a translation carries it as the tool result's
 * image. A `function` message (the deprecated functions API) takes a string only and reaches a Chat target untouched.
 */
export const CHAT_PART_TYPES: Readonly<Record<string, readonly string[]>> = ownRecord({
  system: ["text"],
  developer: ["text"],
  user: ["text", "image_url", "input_audio", "file"],
  assistant: ["text", "refusal"],
  tool: ["text", "image_url"],
});
const ANY_ROLE_PART_TYPES: ReadonlySet<string> = new Set(Object.values(CHAT_PART_TYPES).flat());

/**
 * A part of a type its role's message does not take: `expected one of "text", ..., got "txt"; did you mean "text"?`,
 * or for a type of another role's message `expected "text", got "image_url": a system message takes no image_url parts`.
 */
function chatRules(body: Record<string, any>, issues: z.core.$RefinementCtx): void {
  body.messages.forEach((message: Record<string, any>, index: number) => {
    const known = CHAT_PART_TYPES[message.role];
    // Only an assistant message (its tool calls) and a deprecated function result may be without content, as in
    // OpenAI's API; a translation would send any other as an empty turn.
    if (known && message.role !== "assistant" && (message.content === undefined || message.content === null))
      issues.addIssue({
        code: "custom",
        path: ["messages", index, "content"],
        message:
          message.content === undefined
            ? "missing: this key is required (a string or an array of content parts)"
            : `expected a string or an array of content parts, got null: only an assistant message may have none`,
        input: message.content,
      });
    if (!known || !Array.isArray(message.content)) return;
    message.content.forEach((part: Record<string, any>, partIndex: number) => {
      if (known.includes(part.type)) return partShape(part, ["messages", index, "content", partIndex], issues);
      const elsewhere = ANY_ROLE_PART_TYPES.has(part.type)
        ? `: ${message.role === "assistant" ? "an" : "a"} ${message.role} message takes no ${part.type} parts`
        : "";
      issues.addIssue({
        code: "custom",
        path: ["messages", index, "content", partIndex, "type"],
        message: `${oneOf(known, part.type)}${elsewhere}`,
        input: part.type,
      });
    });
  });
}

/**
 * The string each translated part carries: OpenAI's API refuses the part without it, and a translation would send
 * "[object Object]" or nothing in its place.
 */
const PART_STRING: Readonly<Record<string, string>> = ownRecord({ text: "text", refusal: "refusal" });

function partShape(part: Record<string, any>, path: (string | number)[], issues: z.core.$RefinementCtx): void {
  const field = PART_STRING[part.type];
  if (field !== undefined && typeof part[field] !== "string")
    issues.addIssue({
      code: "custom",
      path: [...path, field],
      message: `expected a string${part[field] === undefined ? ` (a ${part.type} part needs its ${field})` : ""}`,
      input: part[field],
    });
  // OpenAI's form is {"url": ...}; a bare URL string, which some clients send, is taken too.
  const image = part.image_url;
  if (part.type === "image_url" && typeof image !== "string" && typeof image?.url !== "string")
    issues.addIssue({
      code: "custom",
      path: [...path, "image_url", ...(typeof image === "object" && image !== null ? ["url"] : [])],
      message:
        typeof image === "object" && image !== null
          ? "expected a string: the image's URL (a data: URL with base64 data)"
          : 'expected an object: {"url": "data:image/png;base64,..."}',
      input: image,
    });
}

const TOOL_CHOICES = ["none", "auto", "required"] as const;
const TOOL_CHOICE_OBJECT = 'an object such as {"type": "function", "function": {"name": ...}}';

export const openAIRequestSchema = z
  .looseObject({
    // Optional: the X-Model header may name it instead (requestedModel says when neither does).
    model: z.string().min(1).optional(),
    messages: z
      .array(
        z.looseObject({
          // `function`: a result of the deprecated functions API, which only a Chat target sent the body takes.
          role: z.enum(["system", "developer", "user", "assistant", "tool", "function"]),
          content: content.optional(),
          tool_calls: orNull(
            z.array(
              z.looseObject({
                id: z.string(),
                // A custom tool's call has `custom` instead (openAIUntranslatable).
                function: z.looseObject({ name: z.string(), arguments: orNull(z.string()) }).optional(),
              }),
            ),
          ),
          tool_call_id: orNull(z.string()),
        }),
      )
      .min(1),
    // Function tools only: parseOpenAIRequest takes custom tools out first.
    tools: orNull(
      z.array(
        z.looseObject({
          type: z.string().optional(),
          function: z.looseObject({
            name: z.string().min(1),
            description: orNull(z.string()),
            parameters: openAIToolSchema().nullish(),
          }),
        }),
      ),
    ),
    stream: orNull(z.boolean()),
    stream_options: z
      .looseObject({ include_usage: orNull(z.boolean()) })
      .nullable()
      .optional(),
    max_tokens: z.number().int().positive().nullable().optional(),
    max_completion_tokens: z.number().int().positive().nullable().optional(),
    // OpenAI's ranges: a value outside them is refused here, not sent on to a target of another API that takes it.
    temperature: numberBetween(0, 2).nullable().optional(),
    top_p: numberBetween(0, 1).nullable().optional(),
    n: integerBetween(1, 128).nullable().optional(),
    reasoning_effort: z.enum(["none", "minimal", "low", "medium", "high", "xhigh"]).nullable().optional(),
    // OpenAI's forms, refused here as its API refuses them: a translation would name them not carried instead.
    tool_choice: orNull(
      z.union([z.enum(TOOL_CHOICES), z.looseObject({ type: z.string() })], {
        // An object without a string type is said by its option's own issue (body.tool_choice.type: missing ...).
        error: (issue) =>
          typeof issue.input === "object" && issue.input !== null && !Array.isArray(issue.input)
            ? undefined
            : oneOf(TOOL_CHOICES, issue.input, TOOL_CHOICE_OBJECT),
      }),
    ),
    stop: orNull(z.union([z.string(), z.array(z.string())], { error: "expected a string or a list of strings" })),
    provider: z.unknown().optional(),
  })
  .superRefine(chatRules);
/** The tools a translation leaves out (custom tools: pi-ai's tools take JSON arguments), for the response header. */
export type OpenAIRequest = z.infer<typeof openAIRequestSchema> & { ignoredTools: IgnoredTool[] };

const LEVELS: ReadonlySet<string> = new Set(["minimal", "low", "medium", "high", "xhigh"]);

const isFunctionTool = (tool: ToolShape) => tool?.type === undefined || tool?.type === "function";
const customName = (tool: ToolShape) => (tool as { custom?: { name?: unknown } } | undefined)?.custom?.name;

export function parseOpenAIRequest(raw: unknown): OpenAIRequest {
  const { body, ignoredTools } = withoutHostedTools(raw, isFunctionTool, customName);
  const parsed = openAIRequestSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) {
    throw bodySchemaError(parsed.error.issues[0]!);
  }
  checkToolChoice(
    (raw as { tool_choice?: unknown }).tool_choice,
    (raw as { tools?: unknown }).tools,
    (tool) => tool?.function?.name,
  );
  const calls = new Set<string>();
  parsed.data.messages.forEach((message, index) => {
    for (const call of message.tool_calls ?? []) calls.add(call.id);
    if (message.role === "tool")
      checkToolResult(message.tool_call_id, `body.messages[${index}].tool_call_id`, calls, "tool message");
  });
  return { ...parsed.data, ignoredTools };
}

type Part = Record<string, any>;

/**
 * Content part types pi-ai has a form for. The others of CHAT_PART_TYPES (`file`, `input_audio`) reach a target of the
 * client's API as they are; a translation leaves them out, and client-settings.ts names them.
 */
export const TRANSLATED_CHAT_PARTS: ReadonlySet<string> = new Set(["text", "image_url", "refusal"]);

/**
 * Messages a translation would leave with no content at all, and turns of the deprecated functions API (a `function`
 * result, an assistant's `function_call`), which pi-ai has no form for: only a Chat target sent the client's body
 * takes them.
 */
export function openAIUntranslatable(request: OpenAIRequest): string[] {
  return request.messages.flatMap((message, index) => {
    if (message.role === "function")
      return [`body.messages[${index}] (a function message of the deprecated functions API)`];
    if (message.function_call !== undefined && message.function_call !== null)
      return [`body.messages[${index}].function_call (the deprecated functions API)`];
    const custom = (message.tool_calls ?? []).findIndex((call) => !call.function);
    if (custom >= 0) return [`body.messages[${index}].tool_calls[${custom}] (a custom tool's call)`];
    const content = message.content;
    if (!Array.isArray(content) || content.length === 0) return [];
    if (content.some((part) => TRANSLATED_CHAT_PARTS.has(part.type))) return [];
    const types = [...new Set(content.map((part) => part.type))].join(", ");
    return [`body.messages[${index}].content (only ${types} parts, which a translation leaves out)`];
  });
}

function parts(value: string | Part[] | null | undefined, where: string): (TextContent | ImageContent)[] {
  if (value === null || value === undefined) return [];
  if (typeof value === "string") return [textBlock(value)];
  return value.flatMap((item, index): (TextContent | ImageContent)[] => {
    if (item.type === "text") return [textBlock(String(item.text ?? ""))];
    // An assistant turn's refusal is what the model said: the history keeps it as its text.
    if (item.type === "refusal") return [textBlock(String(item.refusal ?? ""))];
    if (item.type === "image_url")
      return [dataUrlImage(String(item.image_url?.url ?? item.image_url ?? ""), `${where}[${index}].image_url`)];
    return [];
  });
}

const textOf = (value: (TextContent | ImageContent)[]) =>
  value.flatMap((item) => (item.type === "text" ? [item.text] : [])).join("\n");

function parseArguments(text: string | undefined, where: string): Record<string, unknown> {
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new GatewayError(400, "invalid_request", `${where}: tool call arguments are not valid JSON`);
  }
}

export function openAIToContext(request: OpenAIRequest, now: number): ClientContext {
  const system: string[] = [];
  const messages: Message[] = [];
  let promptIndex: number | undefined;
  const toolNames = new Map<string, string>();
  request.messages.forEach((message, index) => {
    const where = `body.messages[${index}]`;
    const body = parts(message.content as string | Part[] | null | undefined, `${where}.content`);
    if (message.role === "system" || message.role === "developer") return void system.push(textOf(body));
    // Never translated (openAIUntranslatable): only a Chat target sent the client's own body gets such a request.
    if (message.role === "function") return;
    if (message.role === "user") {
      promptIndex = messages.length;
      return void messages.push({ role: "user", content: body, timestamp: now });
    }
    if (message.role === "tool") {
      const id = message.tool_call_id ?? "";
      return void messages.push({
        role: "toolResult",
        toolCallId: id,
        toolName: toolNames.get(id) ?? "tool",
        content: toolResultBlocks(body),
        isError: false,
        timestamp: now,
      });
    }
    const content: AssistantMessage["content"] = body.filter((item): item is TextContent => item.type === "text");
    // The SDK's form of a refusal (what a completion's message holds): kept as its text, as a refusal part is.
    const refusal = (message as { refusal?: unknown }).refusal;
    if (
      typeof refusal === "string" &&
      refusal !== "" &&
      !(Array.isArray(message.content) && message.content.some((item) => item.type === "refusal"))
    )
      content.push(textBlock(refusal));
    (message.tool_calls ?? []).forEach((call, callIndex) => {
      if (!call.function) return; // a custom tool's call: never translated (openAIUntranslatable)
      toolNames.set(call.id, call.function.name);
      content.push({
        type: "toolCall",
        id: call.id,
        name: call.function.name,
        arguments: parseArguments(
          call.function.arguments,
          `${where}.tool_calls[${callIndex}].function.arguments`,
        ) as ToolCall["arguments"],
      });
    });
    messages.push(historyAssistant(content, "openai-completions", now));
  });
  const tools: Tool[] | undefined = request.tools?.map((tool) => ({
    name: tool.function.name,
    description: tool.function.description ?? "",
    parameters: (tool.function.parameters ?? { type: "object", properties: {} }) as Tool["parameters"],
  }));
  const options: SimpleStreamOptions = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens) options.maxTokens = maxTokens;
  if (typeof request.temperature === "number") options.temperature = request.temperature;
  if (request.reasoning_effort && LEVELS.has(request.reasoning_effort))
    options.reasoning = request.reasoning_effort as ThinkingLevel;
  const systemPrompt = system.filter((text) => text.length > 0).join("\n\n");
  return {
    context: { ...(systemPrompt ? { systemPrompt } : {}), messages, ...(tools?.length ? { tools } : {}) },
    options,
    promptIndex,
  };
}
