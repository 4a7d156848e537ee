// A Responses target's reasoning, carried across the translated path for stateless (`store: false`) clients such as
// the Codex CLI, which keep reasoning going by sending each reasoning item back with its `encrypted_content`.
// pi-ai's openai-responses provider asks for `reasoning.encrypted_content`, keeps the target's whole reasoning item
// as JSON in the thinking block's `thinkingSignature`, and sends that JSON back as the input item when the block is
// replayed to the same API. Out, the client gets that item (the target's own id, summary and encrypted_content)
// instead of one the gateway makes; in, an item it sends back becomes such a block again, which
// runtime/client-history.ts replays only to an openai-responses target and drops for every other API.
import type { Api, AssistantMessage, ThinkingContent } from "@mariozechner/pi-ai";

export interface SummaryPart {
  type: "summary_text";
  text: string;
}

export interface ReasoningTextPart {
  type: "reasoning_text";
  text: string;
}

/** A target's reasoning item as the target sent it; fields the gateway does not know are kept for the replay. */
export interface TargetReasoningItem {
  id: string;
  type: "reasoning";
  summary: SummaryPart[];
  content?: ReasoningTextPart[];
  encrypted_content: string;
  [field: string]: unknown;
}

type Loose = Record<string, unknown>;

const hasEncryptedContent = (item: Loose): boolean =>
  typeof item.encrypted_content === "string" && item.encrypted_content.length > 0;

/**
 * The serving target's own reasoning item behind a thinking block, when the client can send it back: only an
 * openai-responses target's, with encrypted content. Azure's and Codex's (ChatGPT login) are other APIs in pi-ai:
 * their reasoning is never replayed to them from a client's history, and their encrypted content sent to an OpenAI
 * API target would be refused, so their reasoning reaches the client as another API's does (no encrypted content).
 */
export function targetReasoningItem(block: ThinkingContent, api: Api): TargetReasoningItem | undefined {
  if (api !== "openai-responses" || block.redacted || !block.thinkingSignature) return undefined;
  let item: unknown;
  try {
    item = JSON.parse(block.thinkingSignature);
  } catch {
    return undefined;
  }
  if (!item || typeof item !== "object") return undefined;
  const fields = item as Loose;
  if (fields.type !== "reasoning" || typeof fields.id !== "string" || !hasEncryptedContent(fields)) return undefined;
  return { ...fields, summary: Array.isArray(fields.summary) ? fields.summary : [] } as TargetReasoningItem;
}

/** The encrypted content of the target's own reasoning items an answer hands the client (reasoning-issuers.ts). */
export const issuedReasoning = (message: AssistantMessage): string[] =>
  message.content.flatMap((block) => {
    const item = block.type === "thinking" ? targetReasoningItem(block, message.api) : undefined;
    return item ? [item.encrypted_content] : [];
  });

/** The encrypted content of the reasoning items a client sends back in its input (with or without their ids). */
export const replayedReasoning = (input: unknown): string[] =>
  Array.isArray(input)
    ? input.flatMap((item) => (item?.type === "reasoning" && hasEncryptedContent(item) ? [item.encrypted_content] : []))
    : [];

/** Whether a target's thinking may come back as its own reasoning item: such thinking is held until it ends. */
export const mayCarryTargetReasoning = (api: Api): boolean => api === "openai-responses";

/**
 * A reasoning input item as the thinking block pi-ai would have stored for it (the item's JSON as the signature,
 * its summary as the text), or undefined when it cannot be replayed: without encrypted content (the gateway's own
 * items, made from another API's reasoning) there is nothing a target could take.
 */
export function reasoningInputBlock(item: Loose): ThinkingContent | undefined {
  if (!hasEncryptedContent(item)) return undefined;
  return { type: "thinking", thinking: reasoningText(item), thinkingSignature: JSON.stringify(item) };
}

/** The item's text as pi-ai reads it: the summary parts, else the reasoning text parts. */
function reasoningText(item: Loose): string {
  const texts = (parts: unknown) =>
    Array.isArray(parts)
      ? parts.flatMap((part) => (typeof part?.text === "string" ? [part.text as string] : [])).join("\n\n")
      : "";
  return texts(item.summary) || texts(item.content);
}
