// A gateway client's own assistant turns (its history, sent back with every request) as one target should see them.
// pi-ai keeps thinking blocks, their signatures and redacted thinking only for "the same model" (provider, api and
// model equal) and turns other thinking into plain text; a client's history names no target, so each attempt fits
// it to its target here: the same API keeps the signed and redacted thinking (a tool loop with thinking on needs
// it; a Responses reasoning item with its encrypted content is such a signature, and Azure's and Codex's Responses
// are other APIs), another API gets none of it (a signature means nothing there, and as text the prior reasoning
// would join the visible answer). Thinking without a signature is dropped everywhere: it cannot be replayed.
import type { Api, AssistantMessage, Context, Message, Model } from "@mariozechner/pi-ai";

/** The provider a client's history turns are stamped with until an attempt fits them to its target. */
export const CLIENT_PROVIDER = "gateway-client";
export const CLIENT_MODEL = "client-history";

/** Contexts that carry client history; pi's own contexts are never here, so they cost one lookup. */
const withClientHistory = new WeakSet<Context>();

export function markClientHistory(context: Context): void {
  withClientHistory.add(context);
}

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

/** The context this target is sent: the same object unless the client's history has turns to fit. */
export function contextForTarget(context: Context, target: Model<Api>): Context {
  if (!withClientHistory.has(context)) return context;
  let messages: Message[] | undefined;
  context.messages.forEach((message, index) => {
    if (message.role !== "assistant" || message.provider !== CLIENT_PROVIDER) return;
    messages ??= context.messages.slice();
    messages[index] = fitted(message, target);
  });
  return messages ? { ...context, messages } : context;
}
