// A gateway client's own assistant turns (its history, sent back with every request) as one target should see them.
// pi-ai keeps thinking blocks, their signatures and redacted thinking only for "the same model" (provider, api and
// model equal) and turns other thinking into plain text; a client's history names no target, so each attempt fits
// it to its target here: the same API keeps the signed and redacted thinking (a tool loop with thinking on needs
// it; a Responses reasoning item with its encrypted content is such a signature, and Azure's and Codex's Responses
// are other APIs), another API gets none of it (a signature means nothing there, and as text the prior reasoning
// would join the visible answer). Thinking without a signature is dropped everywhere: it cannot be replayed.
// A target that refused the reasoning it was sent back (an OpenAI account's encrypted reasoning made by another
// account) is sent the context again without any replayed reasoning (withoutReplayedReasoning); a target the gateway
// knows to refuse some of it is sent the context without those items from its first try.
import type { Api, AssistantMessage, Context, Message, Model } from "@mariozechner/pi-ai";
import { reasoningKey } from "./reasoning-key.ts";

/** The provider a client's history turns are stamped with until an attempt fits them to its target. */
export const CLIENT_PROVIDER = "gateway-client";
export const CLIENT_MODEL = "client-history";

/** Contexts that carry client history; pi's own contexts are never here, so they cost one lookup. */
const withClientHistory = new WeakSet<Context>();

export function markClientHistory(context: Context): void {
  withClientHistory.add(context);
}

/**
 * Replayed reasoning a target is sent without: all of it (it refused it), or the Responses reasoning items of these
 * keys (reasoning-key.ts: the gateway knows the target refused their issuer's reasoning before).
 */
export type ReasoningLeftOut = "all" | ReadonlySet<string>;

/** Contexts to send without (some) replayed reasoning (see withoutReplayedReasoning). */
const withoutReasoning = new WeakMap<Context, ReasoningLeftOut>();

type Block = AssistantMessage["content"][number];

/** Whether a client's thinking block can be replayed to a target of the API it came from. */
const replayable = (block: Block) => block.type !== "thinking" || Boolean(block.redacted || block.thinkingSignature);

function fitted(message: AssistantMessage, target: Model<Api>): AssistantMessage {
  if (message.api === target.api) {
    const content = message.content.filter(replayable);
    return { ...message, content, provider: target.provider, model: target.id };
  }
  return { ...message, content: message.content.filter((block) => block.type !== "thinking") };
}

/**
 * The context for a second try of a target that refused the encrypted reasoning it was sent back (OpenAI's 400
 * `invalid_encrypted_content`: another account or organisation made it). Every assistant turn, the client's or pi's
 * own, goes without its thinking blocks (the reasoning is lost, the conversation goes on), and each tool call without
 * the Responses item id pi-ai keeps after its `|` (and each tool result with it): OpenAI pairs a function call's item
 * id with the reasoning item that preceded it, and pi-ai leaves the id out too when that reasoning is not sent.
 * With item keys, only the thinking blocks of those reasoning items go, and the tool calls after each of them in its
 * turn (up to a reasoning item that stays) lose their item ids.
 */
export function withoutReplayedReasoning(context: Context, leftOut: ReasoningLeftOut = "all"): Context {
  const copy = { ...context };
  withoutReasoning.set(copy, leftOut);
  if (withClientHistory.has(context)) withClientHistory.add(copy);
  return copy;
}

const callIdOnly = (id: string): string => {
  const bar = id.indexOf("|");
  return bar < 0 ? id : id.slice(0, bar);
};

/** The key of the Responses reasoning item in a thinking block's signature (pi-ai keeps the item there as JSON). */
function reasoningItemKey(signature: string | undefined): string | undefined {
  if (!signature?.startsWith("{")) return undefined;
  try {
    const content = JSON.parse(signature)?.encrypted_content;
    return typeof content === "string" ? reasoningKey(content) : undefined;
  } catch {
    return undefined;
  }
}

/** The messages without the thinking blocks left out, and without the item ids paired with them. */
function reasoningLeftOut(messages: Message[], leftOut: ReasoningLeftOut): Message[] {
  const goes = (block: Extract<Block, { type: "thinking" }>) =>
    leftOut === "all" || leftOut.has(reasoningItemKey(block.thinkingSignature) ?? "");
  /** Tool call ids whose item id went (their results go without it too). */
  const unpaired = new Set<string>();
  return messages.map((message): Message => {
    if (message.role === "toolResult") {
      if (leftOut !== "all" && !unpaired.has(message.toolCallId)) return message;
      const toolCallId = callIdOnly(message.toolCallId);
      return toolCallId === message.toolCallId ? message : { ...message, toolCallId };
    }
    if (message.role !== "assistant") return message;
    let afterLeftOut = leftOut === "all";
    const content = message.content.flatMap((block): Block[] => {
      if (block.type === "thinking") {
        afterLeftOut = goes(block);
        return afterLeftOut ? [] : [block];
      }
      if (block.type !== "toolCall" || !afterLeftOut || !block.id.includes("|")) return [block];
      unpaired.add(block.id);
      return [{ ...block, id: callIdOnly(block.id) }];
    });
    return { ...message, content };
  });
}

/** The context this target is sent: the same object unless the client's history has turns to fit. */
export function contextForTarget(context: Context, target: Model<Api>): Context {
  const leftOut = withoutReasoning.get(context);
  if (leftOut) {
    const fittedContext = withClientHistory.has(context) ? fittedHistory(context, target) : context;
    return { ...fittedContext, messages: reasoningLeftOut(fittedContext.messages, leftOut) };
  }
  return withClientHistory.has(context) ? fittedHistory(context, target) : context;
}

function fittedHistory(context: Context, target: Model<Api>): Context {
  let messages: Message[] | undefined;
  context.messages.forEach((message, index) => {
    if (message.role !== "assistant" || message.provider !== CLIENT_PROVIDER) return;
    messages ??= context.messages.slice();
    messages[index] = fitted(message, target);
  });
  return messages ? { ...context, messages } : context;
}
