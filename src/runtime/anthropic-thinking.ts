// Anthropic's rules for thinking in a request's history, applied to a Messages body on its way to an Anthropic target
// (a gateway passthrough of the client's body, or pi-ai's payload for a translated request or for pi's own). A
// conversation whose turns other APIs or models served (a failover in the middle of a tool loop) breaks them, and
// Anthropic refuses such a request with a 400 that no failover gets past:
// - a thinking block must carry the signature Anthropic gave it: another API's reasoning (which an Anthropic client
//   got from the gateway with `signature: ""`) is left out;
// - with thinking on, the assistant turn whose tool calls the last user turn answers must start with a thinking
//   block; when it does not (another API's target made those calls), thinking is off for this request.
type Loose = Record<string, any>;

const THINKING_BLOCKS: ReadonlySet<unknown> = new Set(["thinking", "redacted_thinking"]);

/** An Anthropic `thinking` setting that turns thinking on (`enabled`, or `adaptive`). */
export const thinkingOn = (thinking: unknown): boolean =>
  (thinking as Loose | undefined)?.type === "enabled" || (thinking as Loose | undefined)?.type === "adaptive";

const unsigned = (block: Loose) =>
  block?.type === "thinking" && (typeof block.signature !== "string" || block.signature === "");

export interface ThinkingFit {
  /** The messages without unsigned thinking blocks; absent when there were none. */
  messages?: Loose[];
  /** Thinking must be off for this request. */
  thinkingOff: boolean;
}

/**
 * What to change in `body` (its `messages` and `thinking`); undefined when it keeps the rules as it is. Turning
 * thinking off is what Anthropic's own error recommends ("To avoid this requirement, disable `thinking`").
 */
export function fitAnthropicThinking(body: Loose): ThinkingFit | undefined {
  const given = body.messages;
  if (!Array.isArray(given)) return undefined;
  let messages: Loose[] | undefined;
  given.forEach((message: Loose, index) => {
    if (message?.role !== "assistant" || !Array.isArray(message.content) || !message.content.some(unsigned)) return;
    messages ??= given.slice();
    const content = message.content.filter((block: Loose) => !unsigned(block));
    // A turn that was nothing but such reasoning keeps a word in its place: Anthropic refuses empty content.
    messages[index] = {
      ...message,
      content: content.length ? content : [{ type: "text", text: "(reasoning left out)" }],
    };
  });
  const thinkingOff = thinkingOn(body.thinking) && toolTurnLacksThinking(messages ?? given);
  return messages || thinkingOff ? { ...(messages ? { messages } : {}), thinkingOff } : undefined;
}

/**
 * Whether the last user turn answers tool calls of an assistant turn that does not start with a thinking block: with
 * thinking on, Anthropic refuses that ("a final `assistant` message must start with a thinking block").
 */
export function toolTurnLacksThinking(messages: unknown): boolean {
  if (!Array.isArray(messages)) return false;
  const last = messages.at(-1) as Loose | undefined;
  const answersTools =
    last?.role === "user" &&
    Array.isArray(last.content) &&
    last.content.some((block: Loose) => block?.type === "tool_result");
  const calls = answersTools ? (messages.at(-2) as Loose | undefined) : undefined;
  if (calls?.role !== "assistant") return false;
  return !(Array.isArray(calls.content) && THINKING_BLOCKS.has(calls.content[0]?.type));
}

/**
 * The client's context_management without the thinking-clearing edits (`clear_thinking_*`), which need thinking on;
 * undefined when none is left (the member is then taken out), the same object when it had none.
 */
export function withoutThinkingEdits(contextManagement: unknown): unknown {
  const edits = (contextManagement as Loose | undefined)?.edits;
  if (!Array.isArray(edits)) return contextManagement;
  const kept = edits.filter((edit: Loose) => !String(edit?.type ?? "").startsWith("clear_thinking"));
  if (kept.length === edits.length) return contextManagement;
  return kept.length ? { ...(contextManagement as Loose), edits: kept } : undefined;
}
