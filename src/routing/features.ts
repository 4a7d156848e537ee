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

/** The text the user wrote last: the intent is about the current ask, not the whole history. */
export { lastUserText };

export interface FeatureOptions {
  maxTokens?: number;
  /** An intent already classified for this prompt (the tool-call turns of one prompt share its last user text). */
  intent?: { intent: RequestFeatures["intent"]; confidence: number };
}

export function extractFeatures(context: Context, options?: FeatureOptions): RequestFeatures {
  const estimatedTokens = estimateTokens(context);
  const hasTools = currentTools(context).length > 0;
  let hasImages = false;
  for (const message of conversationMessages(context)) {
    if (hasImageBlock(message.content)) {
      hasImages = true;
      break;
    }
  }
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
