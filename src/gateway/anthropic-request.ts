// An Anthropic Messages request as pi-ai's Context and options: system prompt, tools, text/image/thinking blocks,
// tool_use turns and tool_result blocks (pi-ai keeps tool results as their own messages).
import type { IncomingHttpHeaders } from "node:http";
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
import { oneOf, shown } from "../config/zod-issue-text.ts";
import { numberBetween, objectToolSchema, stringOrBlocks } from "./tool-schema.ts";
import { thinkingOn } from "../runtime/anthropic-thinking.ts";
import {
  type ClientContext,
  dataUrlImage,
  historyAssistant,
  levelForBudget,
  textBlock,
  toolResultBlocks,
} from "./client-messages.ts";
import { bodySchemaError, GatewayError, issueText } from "./errors.ts";
import { type IgnoredTool, type ToolShape, withoutHostedTools } from "./hosted-tools.ts";
import { checkToolResult } from "./tool-turns.ts";

const content = stringOrBlocks("content blocks");
type Block = Record<string, any>;
type Issues = z.core.$RefinementCtx;

/** A client tool (no `type`, or "custom"); any other type is a server tool, which runs on Anthropic's side. */
const isCustomTool = (tool: ToolShape): boolean => tool?.type === undefined || tool?.type === "custom";

/** A client tool as Anthropic's API requires it: a name and an object schema of its input. */
const customTool = z.looseObject({
  name: z.string().min(1),
  description: z.string().optional(),
  // Anthropic's API takes an object schema only ({"type": "object", ...}), and requires one.
  input_schema: z
    .unknown()
    .refine((schema) => schema !== undefined, {
      error: 'required for a tool without a server tool\'s type: a JSON Schema object ({"type": "object", ...})',
    })
    .pipe(objectToolSchema()),
});

/**
 * A tool of `tools`: a client tool has customTool's shape; a server tool carries what its type needs (most a name, an
 * MCP toolset none), which only Anthropic knows.
 */
const tool = z.looseObject({ type: z.string().optional() }).superRefine((item, issues) => {
  if (!isCustomTool(item)) return;
  const parsed = customTool.safeParse(item, { reportInput: true });
  // In zod's own words where it has no other (a name of ""): said as the body's other issues are (issueText).
  for (const issue of parsed.error?.issues ?? []) {
    const { path, message } = issueText(issue);
    issues.addIssue({ code: "custom", path, message, input: issue.input });
  }
});

const MIN_THINKING_BUDGET = 1_024;
const IMAGE_MEDIA_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];

function checkImage(item: Block, path: PropertyKey[], issues: Issues): void {
  if (item?.type !== "image" || item.source?.type !== "base64") return;
  if (IMAGE_MEDIA_TYPES.includes(item.source.media_type)) return;
  issues.addIssue({
    code: "custom",
    path: [...path, "source", "media_type"],
    message: oneOf(IMAGE_MEDIA_TYPES, item.source.media_type),
    input: item.source.media_type,
  });
}

/**
 * The content block types Anthropic's Messages API takes in a message (its SDK's ContentBlockParam and
 * BetaContentBlockParam, @anthropic-ai/sdk 0.91 to 0.129): any other is refused here, before a target is asked (a
 * passthrough target would refuse it after a wasted attempt; a translation would drop it without a word).
 */
export const ANTHROPIC_BLOCK_TYPES = [
  "text",
  "image",
  "document",
  "search_result",
  "thinking",
  "redacted_thinking",
  "tool_use",
  "tool_result",
  "server_tool_use",
  "web_search_tool_result",
  "web_fetch_tool_result",
  "code_execution_tool_result",
  "bash_code_execution_tool_result",
  "text_editor_code_execution_tool_result",
  "tool_search_tool_result",
  "advisor_tool_result",
  "mcp_tool_use",
  "mcp_tool_result",
  "mcp_tool_listing",
  "container_upload",
  "compaction",
  "fallback",
  "tool_addition",
  "tool_removal",
];
/** The blocks a tool_result's content takes (ToolResultBlockParam's). */
export const ANTHROPIC_TOOL_RESULT_BLOCK_TYPES = [
  "text",
  "image",
  "search_result",
  "document",
  "tool_reference",
  "browser_state",
];

/** A block whose string type is none of `known`: `expected one of "text", ..., got "imgae"; did you mean "image"?`. */
function checkBlockType(item: Block, known: readonly string[], path: PropertyKey[], issues: Issues): void {
  if (typeof item?.type !== "string" || known.includes(item.type)) return;
  issues.addIssue({ code: "custom", path: [...path, "type"], message: oneOf(known, item.type), input: item.type });
}

/**
 * What Anthropic's API refuses beyond each field's own shape, checked here so that a translated request is refused as
 * Anthropic would refuse it (a target of another API would take it, or the prompt would be quietly changed).
 */
function anthropicRules(body: Block, issues: Issues): void {
  const last = body.messages.length - 1;
  body.messages.forEach((message: Block, index: number) => {
    const where = ["messages", index, "content"];
    if (!Array.isArray(message.content)) return;
    // A system turn may be empty (pi-ai's carry only an output_config), and the final assistant turn (a prefill).
    const mayBeEmpty = message.role === "system" || (message.role === "assistant" && index === last);
    if (message.content.length === 0 && !mayBeEmpty)
      issues.addIssue({
        code: "custom",
        path: where,
        message: "expected at least one content block (only the final assistant turn may be empty)",
      });
    message.content.forEach((item: Block, blockIndex: number) => {
      checkBlockType(item, ANTHROPIC_BLOCK_TYPES, [...where, blockIndex], issues);
      checkImage(item, [...where, blockIndex], issues);
      // A translation would send it as empty text (Anthropic's API refuses it: `text: Field required`).
      if (item?.type === "text" && typeof item.text !== "string")
        issues.addIssue({
          code: "custom",
          path: [...where, blockIndex, "text"],
          message: `expected a string${item.text === undefined ? " (a text block needs its text)" : ""}`,
        });
      // A tool result's content (optional) takes what a message's does: a string or an array of typed blocks.
      const result = item.type === "tool_result" && item.content !== undefined ? item.content : undefined;
      const resultIssue = result === undefined ? undefined : content.safeParse(result).error?.issues[0];
      if (resultIssue)
        issues.addIssue({
          code: "custom",
          path: [...where, blockIndex, "content", ...resultIssue.path],
          message: resultIssue.message,
        });
      else if (item.type === "tool_result" && Array.isArray(item.content))
        item.content.forEach((inner: Block, innerIndex: number) => {
          const at = [...where, blockIndex, "content", innerIndex];
          checkBlockType(inner, ANTHROPIC_TOOL_RESULT_BLOCK_TYPES, at, issues);
          checkImage(inner, at, issues);
        });
    });
  });
  // A system prompt of another block (an image) would be left out of a translation, the prompt quietly lost.
  if (Array.isArray(body.system))
    body.system.forEach((item: Block, index: number) => {
      if (item.type !== "text")
        issues.addIssue({
          code: "custom",
          path: ["system", index, "type"],
          message: `expected "text" (got ${JSON.stringify(item.type)}): the system prompt takes text blocks only`,
        });
    });
  const names = new Map<string, number>();
  (body.tools ?? []).forEach((item: Block, index: number) => {
    if (typeof item.name !== "string") return;
    const first = names.get(item.name);
    if (first === undefined) return void names.set(item.name, index);
    issues.addIssue({
      code: "custom",
      path: ["tools", index, "name"],
      message: `${JSON.stringify(item.name)} is also the name of body.tools[${first}]: tool names must be unique`,
    });
  });
  // A translation would send a choice of no tool on (a target of another API refuses it in its own words, or
  // answers without the tool).
  const choice = body.tool_choice;
  if (choice?.type === "tool" && !names.has(choice.name)) {
    const held = names.size ? [...names.keys()].join(", ") : "no tools";
    issues.addIssue({
      code: "custom",
      path: ["tool_choice", "name"],
      message:
        typeof choice.name === "string"
          ? `names the tool ${JSON.stringify(choice.name)}, which body.tools does not hold (${held})`
          : `required with type tool: the name of one of body.tools (${held})`,
    });
  }
  const budget = body.thinking?.budget_tokens;
  if (body.thinking?.type === "enabled" && !(Number.isInteger(budget) && budget >= MIN_THINKING_BUDGET))
    issues.addIssue({
      code: "custom",
      path: ["thinking", "budget_tokens"],
      message: `${budget === undefined ? "required with type enabled: " : ""}expected an integer of ${MIN_THINKING_BUDGET} or more, below max_tokens`,
    });
}

const anthropicFields = {
  // Optional: the X-Model header may name it instead (requestedModel says when neither does).
  model: z.string().min(1).optional(),
  max_tokens: z.number().int().positive().optional(),
  // "system" turns inside the conversation are sent by newer clients (Claude Code 2.1) for mid-conversation context.
  messages: z.array(z.looseObject({ role: z.enum(["user", "assistant", "system"]), content })).min(1),
  system: stringOrBlocks("text blocks").optional(),
  tools: z.array(tool).optional(),
  stream: z.boolean().optional(),
  // Anthropic's ranges, narrower than OpenAI's (a temperature of 1.5 is an OpenAI client's, never a Messages one's).
  temperature: numberBetween(0, 1).optional(),
  top_p: numberBetween(0, 1).optional(),
  top_k: z
    .number({ error: "expected an integer of 0 or more" })
    .int({ error: "expected an integer of 0 or more" })
    .min(0, { error: "expected an integer of 0 or more" })
    .optional(),
  thinking: z.looseObject({ type: z.string(), budget_tokens: z.number().optional() }).optional(),
  // Anthropic's forms, refused here as its API refuses them: a translation would name them not carried instead.
  tool_choice: z.looseObject({ type: z.enum(["auto", "any", "tool", "none"]) }).optional(),
  stop_sequences: z.array(z.string(), { error: "expected a list of strings" }).optional(),
  provider: z.unknown().optional(),
};

/** The body `/v1/messages/count_tokens` takes: a Messages request without its output cap. */
export const anthropicCountTokensSchema = z.looseObject(anthropicFields).superRefine(anthropicRules);
/**
 * A `/v1/messages` body: Anthropic's API requires `max_tokens`, so a request without it is refused rather than given a
 * cap of the gateway's choosing (a translation) or sent on without one (a passthrough the target refuses).
 */
export const anthropicRequestSchema = z
  .looseObject({
    ...anthropicFields,
    max_tokens: z
      .number({
        error: (issue) =>
          issue.input === undefined ? "required (the most tokens to generate, an integer above 0)" : undefined,
      })
      .int()
      .positive(),
  })
  .superRefine(anthropicRules);
export type AnthropicRequest = z.infer<typeof anthropicCountTokensSchema> & {
  /**
   * Server tools (`web_search_20250305`, `bash_20250124`, any type but `custom`) left out of a translation, which has
   * no form for them: `{ type: "web_search_20250305", name: "web_search" }`. A passthrough to an Anthropic target sends
   * them as they came.
   */
  ignoredTools: IgnoredTool[];
};

/**
 * What an image sent by reference is (an http(s) URL, or a Files API `file_id`), which an Anthropic target reads
 * itself: the gateway fetches nothing for a translation. Undefined for any other block.
 */
function imageReference(item: Block): string | undefined {
  if (item?.type !== "image") return;
  const source = item.source;
  if (source?.type === "url" && typeof source.url === "string" && /^https?:\/\//i.test(source.url))
    return "an image by URL";
  if (source?.type === "file" && typeof source.file_id === "string" && source.file_id !== "")
    return "an image by file id";
}

/** An image as pi-ai's ImageContent; one by reference has none (anthropicUntranslatable names it). */
function image(source: Block, where: string): ImageContent[] {
  if (source?.type === "base64" && typeof source.data === "string")
    return [{ type: "image", mimeType: source.media_type, data: source.data }];
  if (source?.type === "url" && typeof source.url === "string" && source.url.startsWith("data:"))
    return [dataUrlImage(source.url, `${where}.source.url`)];
  if (imageReference({ type: "image", source })) return [];
  throw new GatewayError(400, "invalid_request", imageSourceProblem(source, where));
}

const IMAGE_SOURCES =
  'send a base64 source, {"type":"base64","media_type":"image/png","data":"..."}, an https URL or a file id';

/** What is wrong with an image's source that is neither base64 data, a data: URL nor an http(s) URL. */
function imageSourceProblem(source: unknown, where: string): string {
  const got = (value: unknown) => (value === undefined ? "none" : shown(value));
  if (typeof source !== "object" || source === null || Array.isArray(source))
    return `${where}.source: expected an object, got ${got(source)}; ${IMAGE_SOURCES}`;
  const { type, data, url, file_id: fileId } = source as Block;
  if (type === "base64")
    return `${where}.source.data: expected a string (the image's bytes in base64), got ${got(data)}`;
  if (type === "url") return `${where}.source.url: expected an http(s) or data: URL, got ${got(url)}`;
  if (type === "file")
    return `${where}.source.file_id: expected the id of a file uploaded with the Files API, got ${got(fileId)}`;
  if (type === undefined)
    return `${where}.source.type: missing: this key is required ("base64", "url" or "file"); ${IMAGE_SOURCES}`;
  return `${where}.source: got type ${got(type)}; ${IMAGE_SOURCES}`;
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
  // A document (pi-ai has none) is left out, not sent as empty text; client-settings.ts names it. A search result's
  // text goes as text, under its title and source.
  return value.flatMap((item: Block, index): (TextContent | ImageContent)[] => {
    if (item.type === "image") return image(item.source, `${where}[${index}]`);
    if (item.type === "document") return [];
    if (item.type === "search_result") return [textBlock(searchResultText(item))];
    return [textBlock(String(item.text ?? ""))];
  });
}

/** `Doc A (https://docs.x/a)` and the result's text blocks, one per line. */
function searchResultText(item: Block): string {
  const texts = Array.isArray(item.content)
    ? item.content.flatMap((part: Block) => (typeof part?.text === "string" ? [part.text] : []))
    : [];
  const head = [item.title, item.source ? `(${item.source})` : undefined].filter(Boolean).join(" ");
  return [head, ...texts].filter((line) => line !== "").join("\n");
}

/** The fields that name the model (or X-Model does), the output cap and the conversation: none of them goes unsaid. */
const NAMING_FIELDS: ReadonlySet<PropertyKey> = new Set(["model", "max_tokens", "messages"]);

/**
 * The 400 for a body the schema refuses. A `null` for one of the body's optional fields (`"system": null`, as a client
 * that writes an absent value as null sends it) says so: Anthropic's API takes no null for them (where OpenAI's reads
 * one as absent), so neither does the gateway, and the field is to be left out.
 */
function anthropicSchemaError(issue: z.core.$ZodIssue): GatewayError {
  if (issue.input !== null || issue.path.length !== 1) return bodySchemaError(issue);
  const { path, message } = issueText(issue);
  const expected = message.replace(/, got null$/, "");
  return bodySchemaError({
    path,
    message: NAMING_FIELDS.has(issue.path[0]!)
      ? `${expected}, got null`
      : `${expected}, or the field left out: null is not accepted (Anthropic's API takes none either)`,
  });
}

/** Anthropic's interleaved-thinking beta, with which a thinking budget may pass max_tokens (a whole turn's budget). */
export const interleavedThinking = (headers: IncomingHttpHeaders): boolean =>
  String(headers["anthropic-beta"] ?? "").includes("interleaved-thinking");

/**
 * A `/v1/messages` body (`schema`: count_tokens' body, which has no `max_tokens`). `interleavedThinking`: the client
 * sent Anthropic's interleaved-thinking beta, with which the thinking budget is a whole turn's and may pass max_tokens.
 */
export function parseAnthropicRequest(
  raw: unknown,
  schema: z.ZodType<z.infer<typeof anthropicCountTokensSchema>> = anthropicRequestSchema,
  interleavedThinking = false,
): AnthropicRequest {
  const parsed = schema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    throw anthropicSchemaError(parsed.error.issues[0]!);
  }
  const { thinking, max_tokens: maxTokens } = parsed.data;
  const budget = thinking?.type === "enabled" ? thinking.budget_tokens : undefined;
  if (budget !== undefined && maxTokens !== undefined && budget >= maxTokens && !interleavedThinking)
    throw bodySchemaError({
      path: ["thinking", "budget_tokens"],
      message: `expected less than max_tokens (${maxTokens}), got ${budget}: the budget is part of the output cap (with the interleaved-thinking beta it may pass it)`,
    });
  checkToolResults(parsed.data.messages);
  const { body, ignoredTools } = withoutHostedTools(parsed.data, isCustomTool);
  return { ...(body as AnthropicRequest), ignoredTools };
}

/**
 * Each tool_result block answers a tool_use of an earlier assistant turn, as Anthropic's API requires (and the OpenAI
 * endpoints check of theirs): a target of another API would refuse it in its own words, or answer without the call.
 */
function checkToolResults(messages: ReadonlyArray<{ role: string; content: unknown }>): void {
  const calls = new Set<string>();
  messages.forEach((message, index) => {
    if (!Array.isArray(message.content)) return;
    message.content.forEach((item: Block, at: number) => {
      if (message.role === "assistant" && item?.type === "tool_use" && typeof item.id === "string") calls.add(item.id);
      else if (message.role === "user" && item?.type === "tool_result")
        checkToolResult(
          item.tool_use_id,
          `body.messages[${index}].content[${at}].tool_use_id`,
          calls,
          "tool_result block",
        );
    });
  });
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
    const byReference = content.flatMap((item, at) => {
      const where = `body.messages[${index}].content[${at}]`;
      const reference = imageReference(item);
      if (reference) return [`${where} (${reference})`];
      const inner = item.type === "tool_result" && Array.isArray(item.content) ? item.content : [];
      return inner.flatMap((part: Block, partAt: number) => {
        const inside = imageReference(part);
        return inside ? [`${where}.content[${partAt}] (${inside})`] : [];
      });
    });
    if (content.some((item) => TRANSLATED_USER_BLOCKS.has(item.type))) return byReference;
    const types = [...new Set(content.map((item) => item.type))].join(", ");
    return [`body.messages[${index}].content (only ${types} blocks, which a translation leaves out)`, ...byReference];
  });
}

/** The characters of a document block Anthropic reads: its text, or a PDF's base64 data, its title and context. */
function documentCharacters(item: Block): number {
  const source = item.source;
  const texts = [item.title, item.context, source?.data];
  if (typeof source?.content === "string") texts.push(source.content);
  else if (Array.isArray(source?.content)) texts.push(...source.content.map((part: Block) => part?.text));
  return texts.reduce((sum: number, text) => sum + (typeof text === "string" ? text.length : 0), 0);
}

/**
 * What a translation leaves out of the conversation (anthropicToContext) but Anthropic's API reads, for count_tokens:
 * documents (a text's characters; a PDF's base64 data, whose pages cost their text and an image each, of the order of
 * that length / 4) and images by reference, a URL or a file id (as many tokens as any image). Without it a PDF counted
 * as nothing.
 */
export function leftOutOfTranslation(request: AnthropicRequest): { characters: number; images: number } {
  const size = { characters: 0, images: 0 };
  const visit = (item: Block): void => {
    if (item?.type === "document") size.characters += documentCharacters(item);
    else if (imageReference(item)) size.images += 1;
    else if (item?.type === "tool_result" && Array.isArray(item.content)) item.content.forEach(visit);
  };
  for (const message of request.messages) if (Array.isArray(message.content)) message.content.forEach(visit);
  return size;
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
          content: toolResultBlocks(toolResultContent(item.content, `${where}[${index}].content`)),
          isError: item.is_error === true,
          timestamp: now,
        });
      } else if (item.type === "text") userParts.push(textBlock(String(item.text ?? "")));
      else if (item.type === "image") userParts.push(...image(item.source, `${where}[${index}]`));
    });
    if (userParts.length === 0) return;
    if (!toolResultTurn) promptIndex = messages.length;
    messages.push({ role: "user", content: userParts, timestamp: now });
  });
  const systemPrompt = system.filter((text) => text.length > 0).join("\n\n");
  // Only client tools are left in the request (parseAnthropicRequest), each with the shape customTool gave it.
  const tools: Tool[] | undefined = (request.tools as z.infer<typeof customTool>[] | undefined)?.map((tool) => ({
    name: tool.name,
    description: tool.description ?? "",
    parameters: tool.input_schema as Tool["parameters"],
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
