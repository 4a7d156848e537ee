// Feature detection for the shapes that differ between pi 0.73.1 and the @earendil-works line (pi-compat.md §2).
// Each helper looks at the value it is given, never at a version number, so one code path serves every pi.
// Pure: no pi imports at run time, so it loads the same under every host's loader aliases.
import type { Context } from "@mariozechner/pi-ai";
import { isObject } from "../is-object.ts";

type Loose = Record<string, unknown>;

/** What the router needs to know about a tool, on either context shape. */
export interface ToolSummary {
  name: string;
  description?: string;
  parameters?: unknown;
}

/** Where the prompt's system text and tools came from: 0.73.1 `Context` fields, or new pi's system messages. */

/** The mode pi runs in. Known exactly on pi >= 0.78.1 (`ctx.mode`); older pi only tells whether there is a UI. */

function messagesOf(context: Context): Loose[] {
  return (Array.isArray(context.messages) ? context.messages : []) as unknown as Loose[];
}

function isSystemMessage(message: Loose): boolean {
  return message.role === "system";
}

export function textOfContent(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const parts: string[] = [];
  for (const block of content)
    if (isObject(block) && block.type === "text" && typeof block.text === "string") parts.push(block.text);
  return parts.join("\n");
}

/** The conversation without system messages: what 0.73.1 calls `messages`, on every pi. */
export function conversationMessages(context: Context): Loose[] {
  return messagesOf(context).filter((message) => !isSystemMessage(message));
}

/**
 * The tools the model can call now. 0.73.1: `context.tools`. New pi: replay every system message in order,
 * `toolsRemoved` (by name) then `toolsAdded`, the way pi-ai's getCurrentTools does (that function is missing on
 * 0.73.1, so it is re-done here rather than imported).
 */
export function currentTools(context: Context): ToolSummary[] {
  const tools = new Map<string, ToolSummary>();
  for (const tool of ((context as { tools?: unknown }).tools as unknown[]) ?? []) {
    if (isObject(tool) && typeof tool.name === "string") tools.set(tool.name, tool as unknown as ToolSummary);
  }
  for (const message of messagesOf(context)) {
    if (!isSystemMessage(message)) continue;
    for (const removed of Array.isArray(message.toolsRemoved) ? message.toolsRemoved : []) {
      const name = typeof removed === "string" ? removed : isObject(removed) ? removed.name : undefined;
      if (typeof name === "string") tools.delete(name);
    }
    for (const added of Array.isArray(message.toolsAdded) ? message.toolsAdded : []) {
      if (isObject(added) && typeof added.name === "string") tools.set(added.name, added as unknown as ToolSummary);
    }
  }
  return [...tools.values()];
}

/** The text of the last user message; a leading or interleaved system message is skipped. */
export function lastUserText(context: Context): string {
  const messages = messagesOf(context);
  for (let index = messages.length - 1; index >= 0; index--) {
    if (messages[index]!.role === "user") return textOfContent(messages[index]!.content);
  }
  return "";
}

/** How pi's own summary requests (compaction, branch summaries) begin their system prompt, on every pi line. */
const PI_SUMMARY_SYSTEM_PROMPT = "You are a context summarization assistant.";

/**
 * Whether the request is pi's own summary of the conversation (compaction, or a branch summary): no prompt of the
 * user's. 0.73.1 carries its system prompt in `context.systemPrompt`, new pi in a leading system message.
 */
export function isPiSummaryRequest(context: Context): boolean {
  const own = (context as { systemPrompt?: unknown }).systemPrompt;
  if (typeof own === "string") return own.startsWith(PI_SUMMARY_SYSTEM_PROMPT);
  const first = messagesOf(context)[0];
  return (
    first !== undefined && isSystemMessage(first) && textOfContent(first.content).startsWith(PI_SUMMARY_SYSTEM_PROMPT)
  );
}
