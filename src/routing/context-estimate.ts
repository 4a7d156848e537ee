// Token estimate of a pi-ai Context without a tokenizer: characters / 4 is within ~20% for English and code, which
// is all the decision needs (window checks keep a margin, classes are coarse). Images count as a flat amount
// because providers bill them by tiles, not by the size of their base64 data.
import type { Context } from "@mariozechner/pi-ai";
import type { ContextClass } from "./types.ts";
import { isObject } from "../is-object.ts";

export const CHARACTERS_PER_TOKEN = 4;
/** A typical 1-megapixel image costs 1-1.6k tokens across providers; the base64 length says nothing useful. */
export const IMAGE_TOKENS = 1_200;
/** Per-message framing (role markers, separators) that every API adds. */
const MESSAGE_OVERHEAD_TOKENS = 4;

export const SHORT_CONTEXT_MAX_TOKENS = 4_000;
export const MEDIUM_CONTEXT_MAX_TOKENS = 32_000;
export const LONG_CONTEXT_MAX_TOKENS = 128_000;

export function classifyContext(estimatedTokens: number): ContextClass {
  if (estimatedTokens < SHORT_CONTEXT_MAX_TOKENS) return "short";
  if (estimatedTokens < MEDIUM_CONTEXT_MAX_TOKENS) return "medium";
  if (estimatedTokens < LONG_CONTEXT_MAX_TOKENS) return "long";
  return "epic";
}

export interface ContextSize {
  characters: number;
  images: number;
  messages: number;
}

/**
 * Length of JSON.stringify(value) for plain JSON data (strings without characters that need escaping), computed by
 * walking it instead of building the text: every LLM call measures every earlier tool call's arguments, which can
 * hold whole files, so the estimate must not copy them.
 */
export function jsonLength(value: unknown, depth = 0): number {
  if (typeof value === "string") return value.length + 2;
  if (typeof value === "number" || typeof value === "boolean") return String(value).length;
  if (value === null) return 4;
  if (typeof value !== "object" || depth > 64) return 0;
  if (Array.isArray(value)) {
    let length = 2 + Math.max(0, value.length - 1);
    for (const item of value) length += item === undefined ? 4 : jsonLength(item, depth + 1);
    return length;
  }
  let length = 2;
  let members = 0;
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (child === undefined || typeof child === "function") continue;
    length += key.length + 3 + jsonLength(child, depth + 1);
    members += 1;
  }
  return length + Math.max(0, members - 1);
}

/**
 * Counts a value of unknown shape: strings by length, images (`type: "image"`) as images, everything else by walking
 * it. Used for content blocks and for the `role: "system"` message of newer pi, whose `sections` carry the prompt
 * and the tool schemas in a shape we do not want to depend on (pi-compat.md §2).
 */
function countValue(value: unknown, size: ContextSize, depth: number): void {
  if (typeof value === "string") {
    size.characters += value.length;
    return;
  }
  if (depth > 12) return;
  if (Array.isArray(value)) {
    for (const item of value) countValue(item, size, depth + 1);
    return;
  }
  if (!isObject(value)) return;
  if (value.type === "image") {
    size.images += 1;
    return;
  }
  for (const key in value) {
    // Signatures are opaque replay tokens, not model input text; ids and timestamps are tiny.
    if (key === "textSignature" || key === "thinkingSignature" || key === "thoughtSignature" || key === "timestamp")
      continue;
    const child = value[key];
    if (typeof child === "string") size.characters += key === "type" || key === "role" ? 0 : child.length;
    else countValue(child, size, depth + 1);
  }
}

function countContent(content: unknown, size: ContextSize): void {
  if (typeof content === "string") {
    size.characters += content.length;
    return;
  }
  if (!Array.isArray(content)) {
    countValue(content, size, 0);
    return;
  }
  for (const block of content) {
    if (!isObject(block)) continue;
    switch (block.type) {
      case "text":
        size.characters += typeof block.text === "string" ? block.text.length : 0;
        break;
      case "thinking":
        size.characters += typeof block.thinking === "string" ? block.thinking.length : 0;
        break;
      case "image":
        size.images += 1;
        break;
      case "toolCall":
        size.characters += (typeof block.name === "string" ? block.name.length : 0) + jsonLength(block.arguments ?? {});
        break;
      default:
        countValue(block, size, 0);
    }
  }
}

/** Characters and images of the whole request: system prompt, every message (any role), tool schemas. */
export function measureContext(context: Context): ContextSize {
  const size: ContextSize = { characters: 0, images: 0, messages: 0 };
  if (typeof context.systemPrompt === "string") size.characters += context.systemPrompt.length;
  for (const message of context.messages ?? []) {
    size.messages += 1;
    const record = message as unknown as Record<string, unknown>;
    if (record.role === "system") countValue(record, size, 0);
    else countContent(record.content, size);
  }
  for (const tool of context.tools ?? []) {
    size.characters += tool.name.length + (tool.description?.length ?? 0) + jsonLength(tool.parameters ?? {});
  }
  return size;
}

export function estimateTokens(context: Context): number {
  const size = measureContext(context);
  return (
    Math.ceil(size.characters / CHARACTERS_PER_TOKEN) +
    size.images * IMAGE_TOKENS +
    size.messages * MESSAGE_OVERHEAD_TOKENS
  );
}
