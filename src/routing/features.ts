// Features of one request: everything route() needs to know about the prompt, and nothing of its text (the
// features are logged for offline replay).
import type { Context } from "@mariozechner/pi-ai";
import { classifyContext, estimateTokens } from "./context-estimate.ts";
import { classifyIntent } from "./intent.ts";
import type { RequestFeatures } from "./types.ts";

type Loose = Record<string, unknown>;

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  let text = "";
  for (const block of content as Loose[]) {
    if (block && block.type === "text" && typeof block.text === "string") text += (text ? "\n" : "") + block.text;
  }
  return text;
}

function hasImageBlock(content: unknown): boolean {
  return Array.isArray(content) && (content as Loose[]).some((block) => block?.type === "image");
}

/** Newer pi puts tools in a leading `role: "system"` message (pi-compat.md §2); its exact shape may change. */
function systemMessageHasTools(message: Loose): boolean {
  if (Array.isArray(message.tools) && message.tools.length > 0) return true;
  const sections = message.sections;
  if (!Array.isArray(sections)) return false;
  return (sections as Loose[]).some((section) =>
    section?.type === "tools" || (Array.isArray(section?.tools) && (section.tools as unknown[]).length > 0));
}

/** The text the user wrote last: the intent is about the current ask, not the whole history. */
export function lastUserText(context: Context): string {
  const messages = context.messages ?? [];
  for (let index = messages.length - 1; index >= 0; index--) {
    if (messages[index].role === "user") return textOf(messages[index].content);
  }
  return "";
}

export function extractFeatures(context: Context, options?: { maxTokens?: number }): RequestFeatures {
  const estimatedTokens = estimateTokens(context);
  let hasImages = false;
  let hasTools = (context.tools?.length ?? 0) > 0;
  for (const message of context.messages ?? []) {
    const record = message as unknown as Loose;
    if (record.role === "system") {
      if (!hasTools && systemMessageHasTools(record)) hasTools = true;
      continue;
    }
    if (!hasImages && hasImageBlock(record.content)) hasImages = true;
  }
  const { intent, confidence } = classifyIntent(lastUserText(context));
  const features: RequestFeatures = {
    estimatedTokens,
    contextClass: classifyContext(estimatedTokens),
    hasImages,
    hasTools,
    intent,
    intentConfidence: confidence,
  };
  if (options?.maxTokens !== undefined && options.maxTokens > 0) features.requestedMaxTokens = options.maxTokens;
  return features;
}
