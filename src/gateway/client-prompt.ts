// The client's current prompt (ClientContext.promptIndex) as the router sees it: the shortcuts typed at its start,
// and an identity that stays the same over the prompt's tool-call turns. pi recognises a prompt by its message's
// timestamp; a gateway client sends its whole history again with every request and no timestamps, so the identity is
// the prompt's position, the system prompt's length and a hash of the prompt's own text: the turns of one prompt keep
// its target (warm provider caches, valid thinking signatures) and its intent, as in pi. Two clients whose
// conversations start alike share an identity until they differ: they then share a target, which is harmless.
import type { Context, UserMessage } from "@mariozechner/pi-ai";
import { type ParsedShortcuts, parseShortcuts, shortcutOnlyText } from "../routing/shortcuts.ts";
import type { PromptShortcuts } from "../routing/types.ts";
import { edgesHash } from "../text-hash.ts";
import { isReminder, leadingReminders } from "./earlier-shortcuts.ts";
import { GatewayError } from "./errors.ts";
import { headerText } from "./header-text.ts";

/** Text hashed from each end of a long prompt (a pasted log): enough to tell prompts apart, cheap for any size. */
const HASHED_CHARS = 8_192;

/** The prompt's identity, and whether this request is a follow-up turn of it (more messages after the prompt). */
export function clientPrompt(
  context: Context,
  promptIndex: number | undefined,
): { id: string; followUp: boolean } | undefined {
  const message = promptIndex === undefined ? undefined : context.messages[promptIndex];
  if (message?.role !== "user") return undefined;
  const text = promptText(message);
  const hash = edgesHash(text, HASHED_CHARS);
  return {
    id: `client:${promptIndex}:${context.systemPrompt?.length ?? 0}:${text.length}:${hash}`,
    followUp: promptIndex! < context.messages.length - 1,
  };
}

function promptText(message: UserMessage): string {
  if (typeof message.content === "string") return message.content;
  let text = "";
  for (const block of message.content)
    text += block.type === "text" ? `${block.text}\n` : `[image ${block.mimeType} ${block.data.length}]\n`;
  return text;
}

/**
 * A leading `@token` that looks like a mistyped shortcut. One written with a value (`@onyl=anthropic`,
 * `@sort=latncy`, `@only=gamma/g-haiku`) is no text anyone sends: routed without it, the request would go where it
 * asked not to, so it is a 400 and nothing is sent. A bare word (`@reasonng`) may be a name (`@last`, `@song`), so it
 * is sent as part of the prompt, as in pi, and `warn` gets the text of the answer's `x-auto-router-warning` header.
 */
function checkMistake(mistake: ParsedShortcuts["mistake"], warn: ((text: string) => void) | undefined): void {
  if (!mistake) return;
  const { token, reason } = mistake;
  if (token.includes("="))
    throw new GatewayError(
      400,
      "invalid_request",
      `the prompt (the last user message) starts with ${JSON.stringify(token)}, which is not a shortcut (${reason}), so nothing was sent: correct it, or put a word before it to send it as text`,
    );
  warn?.(headerText(`${JSON.stringify(token)} is not a shortcut, so it was sent as part of the prompt: ${reason}`));
}

/**
 * The 400 for a prompt that is nothing but shortcuts, as pi refuses it: sent, it would be an empty user turn, which
 * an Anthropic model takes as a cue to continue its previous answer.
 */
const shortcutsOnly = (parsed: ParsedShortcuts): GatewayError =>
  new GatewayError(
    400,
    "invalid_request",
    `the prompt (the last user message) is only shortcuts, so ${shortcutOnlyText(parsed.shortcuts)}`,
  );

/**
 * Shortcuts typed at the start of the prompt, stripped from it as pi's input event does. A mistyped one is refused,
 * or warned about through `warn` (checkMistake); a prompt they leave with no text and no image is refused
 * (shortcutsOnly).
 */
export function takeShortcuts(
  context: Context,
  promptIndex: number | undefined,
  warn?: (text: string) => void,
): PromptShortcuts | undefined {
  const message = promptIndex === undefined ? undefined : context.messages[promptIndex];
  if (message?.role !== "user") return undefined;
  if (typeof message.content === "string") {
    const parsed = parseShortcuts(message.content);
    checkMistake(parsed.mistake, warn);
    if (parsed.shortcuts.tokens.length === 0) return undefined;
    if (parsed.text.trim() === "") throw shortcutsOnly(parsed);
    context.messages[promptIndex!] = { ...message, content: parsed.text };
    return parsed.shortcuts;
  }
  // The text the person typed: Claude Code puts its `<system-reminder>` blocks before it in the same message.
  const first = message.content.findIndex((block) => block.type === "text" && !isReminder(block.text));
  const block = message.content[first];
  if (block?.type !== "text") return undefined;
  const reminders = leadingReminders(block.text);
  const parsed = parseShortcuts(block.text.slice(reminders.length));
  checkMistake(parsed.mistake, warn);
  if (parsed.shortcuts.tokens.length === 0) return undefined;
  const content = [...message.content];
  // A block the shortcuts emptied is left out, not sent as empty text: the prompt is the image (or text) beside it.
  if (parsed.text.trim() === "" && reminders === "") content.splice(first, 1);
  else content[first] = { ...block, text: reminders + parsed.text };
  const typed = (part: (typeof content)[number]) =>
    part.type === "image" || part.text.slice(leadingReminders(part.text).length).trim() !== "";
  if (!content.some(typed)) throw shortcutsOnly(parsed);
  context.messages[promptIndex!] = { ...message, content };
  return parsed.shortcuts;
}
