// A passthrough request asking for more output than its target gives (Claude Code asks for up to 128k tokens) is
// capped at the target's limit, as the translating path caps it (start-target.ts) and as the ranking says ("the
// answer is capped there"): sent as it is, the provider refuses it with a 400, which no other target is tried for.
// An Anthropic thinking budget the cap leaves no room for is fitted under it the same way as on that path.
import type { Api, Model } from "@mariozechner/pi-ai";
import { fitThinking } from "./target-settings.ts";

type Loose = Record<string, any>;

/** The output cap fields of each API a passthrough serves (Chat has its old name too). */
const OUTPUT_FIELDS: Partial<Record<Api, readonly string[]>> = {
  "anthropic-messages": ["max_tokens"],
  "openai-completions": ["max_completion_tokens", "max_tokens"],
  "openai-responses": ["max_output_tokens"],
};

/**
 * The top-level fields that bring the client's body within the target's output limit (none when it is); undefined
 * when the cap leaves no room for the least thinking budget: the translating path turns thinking off and names it.
 */
export function outputCapEdits(target: Model<Api>, client: Loose): Loose | undefined {
  const limit = target.maxTokens;
  const set: Loose = {};
  if (!(limit > 0)) return set;
  for (const field of OUTPUT_FIELDS[target.api] ?? [])
    if (typeof client[field] === "number" && client[field] > limit) set[field] = limit;
  if (set.max_tokens === undefined || target.api !== "anthropic-messages" || client.thinking?.type !== "enabled")
    return set;
  const budget = client.thinking.budget_tokens;
  const fitted: Loose = { max_tokens: client.max_tokens, thinking: client.thinking };
  if (fitThinking(fitted, { maxTokens: limit, ...(typeof budget === "number" ? { budgetTokens: budget } : {}) }).length)
    return undefined;
  if (fitted.thinking.budget_tokens !== budget) set.thinking = fitted.thinking;
  return set;
}
