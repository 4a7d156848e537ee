// Features of one request: everything route() needs to know about the prompt, and nothing of its text (the
// features are logged for offline replay).
import type { Context } from "@mariozechner/pi-ai";
import { classifyContext, estimateTokens } from "./context-estimate.ts";
import { classifyIntent } from "./intent.ts";
import type { RequestFeatures } from "./types.ts";
// Newer pi carries the prompt and tools in `role: "system"` messages (pi-compat.md §2); these helpers read both shapes.
import { conversationMessages, currentTools, isPiSummaryRequest, lastUserText } from "../compat/pi-features.ts";

const UNCLASSIFIED = { intent: "general", confidence: 0 } as const;

type Loose = Record<string, unknown>;

function hasImageBlock(content: unknown): boolean {
  return Array.isArray(content) && (content as Loose[]).some((block) => block?.type === "image");
}

/**
 * An image in the prompt being answered: the last user message or a tool result after it (a screenshot a tool read).
 * An image of an earlier prompt does not make the request need a vision target: pi-ai replaces it with a note for a
 * model without image input, as it does on a plain model, so one screenshot does not tie the rest of the session to
 * vision targets.
 */
function imagesInCurrentPrompt(
  messages: ReadonlyArray<{ role?: unknown; content?: unknown }>,
  toolImages: boolean,
): boolean {
  for (let index = messages.length - 1; index >= 0; index--) {
    const message = messages[index]!;
    if ((toolImages || message.role === "user") && hasImageBlock(message.content)) return true;
    if (message.role === "user") return false;
  }
  return false;
}

/** The prompt being answered has images only in tool results (no vision target is needed for a note in their place). */
export const toolResultImagesOnly = (context: Context): boolean => {
  const messages = conversationMessages(context);
  return imagesInCurrentPrompt(messages, true) && !imagesInCurrentPrompt(messages, false);
};

/** The text the user wrote last: the intent is about the current ask, not the whole history. */
export { lastUserText };

export interface FeatureOptions {
  maxTokens?: number;
  /** An intent already classified for this prompt (the tool-call turns of one prompt share its last user text). */
  intent?: { intent: RequestFeatures["intent"]; confidence: number };
  /**
   * false: a tool result's image does not need a vision target (the route pi runs takes no images: pi-ai sends a note
   * in its place, as on a plain model without images, and pi 0.73's read tool tells the model it is left out).
   */
  toolImagesNeedVision?: boolean;
}

export function extractFeatures(context: Context, options?: FeatureOptions): RequestFeatures {
  const estimatedTokens = estimateTokens(context);
  const hasTools = currentTools(context).length > 0;
  const hasImages = imagesInCurrentPrompt(conversationMessages(context), options?.toolImagesNeedVision ?? true);
  // pi's own summary of the conversation is no ask of the user's: it has no intent, and no intent rule applies to it.
  const { intent, confidence } =
    options?.intent ?? (isPiSummaryRequest(context) ? UNCLASSIFIED : classifyIntent(lastUserText(context)));
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
