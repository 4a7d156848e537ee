// Shared by both protocols' request translation: the pi-ai message shapes a client's history turns into.
import type {
  AssistantMessage,
  Context,
  ImageContent,
  SimpleStreamOptions,
  TextContent,
  ThinkingLevel,
} from "@mariozechner/pi-ai";
import { createHash } from "node:crypto";
import { CLIENT_MODEL, CLIENT_PROVIDER } from "../runtime/client-history.ts";
import { zeroUsage } from "../runtime/zero-usage.ts";
import { GatewayError } from "./errors.ts";

/** A client's request in pi-ai's terms. */
export interface ClientContext {
  context: Context;
  options: SimpleStreamOptions;
  /**
   * Where the client's current prompt is in `context.messages`: its last user message that is not a tool-result
   * turn (undefined when there is none). Claude Code adds text blocks to tool-result turns; they belong to the
   * prompt the tool calls serve, so they do not start a new one.
   */
  promptIndex: number | undefined;
}

/**
 * An assistant turn the client sent back as history. It came from no target we know, so it names none until an
 * attempt fits it to its target (runtime/client-history.ts; the handler marks the context).
 */
export function historyAssistant(
  content: AssistantMessage["content"],
  api: string,
  timestamp: number,
): AssistantMessage {
  return {
    role: "assistant",
    content,
    api,
    provider: CLIENT_PROVIDER,
    model: CLIENT_MODEL,
    usage: zeroUsage(),
    stopReason: content.some((block) => block.type === "toolCall") ? "toolUse" : "stop",
    timestamp,
  };
}

/** `data:<mime>;base64,<data>` as pi-ai's ImageContent; remote URLs are refused (targets need the bytes). */
export function dataUrlImage(url: string, where: string): ImageContent {
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (!match)
    throw new GatewayError(
      400,
      "invalid_request",
      `${where}: only data: URLs with base64 images are accepted (got ${url.slice(0, 40)}...)`,
    );
  return { type: "image", mimeType: match[1]!, data: match[2]! };
}

export const textBlock = (text: string): TextContent => ({ type: "text", text });

/**
 * A conversation of only a system prompt (a Chat request of one system message, a Responses request of `instructions`
 * and `input: []`), as a target of another API is sent it: as the user's one message. Anthropic's and Google's APIs
 * refuse a request without a message (Anthropic's said `messages: at least one message is required`). The prompt's
 * identity and shortcuts stay as they were (none): only the translation sent changes; a target of the client's own
 * API is sent the client's body.
 */
export function systemOnlyAsUserMessage(context: Context, now: number): void {
  if (context.messages.length > 0 || !context.systemPrompt) return;
  context.messages.push({ role: "user", content: [textBlock(context.systemPrompt)], timestamp: now });
  delete context.systemPrompt;
}

/** What an empty tool result (a command with no output) reads as: pi-ai would send a Chat target "(see attached image)". */
const NO_OUTPUT = "(no output)";

/** A tool result's content as pi-ai gets it: one with neither text nor image says it had no output. */
export function toolResultBlocks(content: (TextContent | ImageContent)[]): (TextContent | ImageContent)[] {
  return content.some((block) => block.type === "image" || block.text !== "") ? content : [textBlock(NO_OUTPUT)];
}

/** A thinking budget in tokens as pi-ai's reasoning level. */
export function levelForBudget(budgetTokens: number | undefined): ThinkingLevel {
  if (budgetTokens === undefined) return "medium";
  if (budgetTokens <= 1_024) return "minimal";
  if (budgetTokens <= 4_096) return "low";
  if (budgetTokens <= 16_384) return "medium";
  return "high";
}

/**
 * pi-ai names a Responses target's tool call `<call_id>|<item id>`. A client sees the call id alone (the Responses
 * API's item id goes in the item's own `id`), never the composite: its `|` is no valid Anthropic id, and a client
 * that sent it back would have the whole string taken for the call id.
 */
export function toolCallParts(id: string): { callId: string; itemId?: string } {
  const bar = id.indexOf("|");
  return bar < 0 ? { callId: id } : { callId: id.slice(0, bar), itemId: id.slice(bar + 1) };
}

export const clientToolCallId = (id: string): string => toolCallParts(id).callId;

/** The ids Anthropic accepts for a `tool_use` block. */
const ANTHROPIC_TOOL_USE_ID = /^[a-zA-Z0-9_-]{1,64}$/;
/** Hex digits of the whole id's hash kept in a changed one: distinct ids stay distinct. */
const ID_HASH_LENGTH = 16;

/**
 * A tool call's id as an Anthropic client may hold it: Anthropic accepts only `^[a-zA-Z0-9_-]+$` up to 64 characters,
 * and the client sends the id back in its history, which goes on to the targets as the client wrote it (an Anthropic
 * target's passthrough included; the gateway keeps no map back). Other APIs' ids (Kimi's `functions.read:3`, a long
 * one) do not fit: such an id keeps a prefix and gets a hash of the whole id, so the same id always maps to the same
 * one, across requests, and two ids never to one (two calls with one id are refused, and their results ambiguous).
 */
export function anthropicToolUseId(id: string): string {
  const callId = clientToolCallId(id);
  if (ANTHROPIC_TOOL_USE_ID.test(callId)) return callId;
  const hash = createHash("sha256").update(callId).digest("hex").slice(0, ID_HASH_LENGTH);
  const prefix = callId.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64 - ID_HASH_LENGTH - 1) || "tool_call";
  return `${prefix}_${hash}`;
}
