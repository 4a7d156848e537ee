// A gateway client sends its whole conversation with every request, each earlier prompt as the person typed it. The
// shortcuts that started one (`@fast`, `@only=...`) were taken off when it was the prompt (client-prompt.ts), and are
// taken off its later copies too: the model reads the history it was sent, as pi's session keeps it, and a provider's
// prompt cache finds the prefix it cached. They route nothing now: only the current prompt's shortcuts do.
import type { Context } from "@mariozechner/pi-ai";
import { parseShortcuts } from "../routing/shortcuts.ts";

/** `<system-reminder>...</system-reminder>` blocks (and the blank space around them) at the start of a text. */
const LEADING_REMINDERS = /^(?:\s*<system-reminder>[\s\S]*?<\/system-reminder>)+\s*/;

/** The reminders a client put at the start of a text, which the person did not type (Claude Code's). */
export function leadingReminders(text: string): string {
  return LEADING_REMINDERS.exec(text)?.[0] ?? "";
}

/** A text block that is nothing but such reminders. */
export function isReminder(text: string): boolean {
  const reminders = leadingReminders(text);
  return reminders !== "" && reminders.length === text.length;
}

type Part = { type?: unknown; text?: unknown };
/** A text part of a user message: Anthropic's and Chat's `text`, the Responses API's `input_text`. */
const isText = (part: unknown): part is { type: string; text: string } =>
  typeof (part as Part)?.text === "string" && ((part as Part).type === "text" || (part as Part).type === "input_text");

/** The typed text with its leading shortcuts taken off (its reminders kept); undefined when it starts with none. */
function withoutShortcuts(text: string): string | undefined {
  if (!text.includes("@")) return undefined;
  const reminders = leadingReminders(text);
  if (text.trimStart().charCodeAt(0) !== 64 /* @ */ && reminders === "") return undefined;
  const parsed = parseShortcuts(text.slice(reminders.length));
  return parsed.shortcuts.tokens.length === 0 ? undefined : reminders + parsed.text;
}

/**
 * A user message's content with its typed text's shortcuts taken off; the same value when it has none. A text part
 * they empty is left out when something the person sent stays beside it (an image); a prompt of nothing but
 * shortcuts, which the gateway refuses, is left as it is.
 */
function strippedContent(content: unknown): unknown {
  if (typeof content === "string") {
    const stripped = withoutShortcuts(content);
    return stripped === undefined || stripped.trim() === "" ? content : stripped;
  }
  // Most texts hold no `@` at all: found by a plain scan, before reading their reminders.
  if (!Array.isArray(content) || !content.some((part) => isText(part) && part.text.includes("@"))) return content;
  const index = content.findIndex((part) => isText(part) && !isReminder(part.text));
  if (index < 0) return content;
  const part = content[index] as { type: string; text: string };
  const stripped = withoutShortcuts(part.text);
  if (stripped === undefined) return content;
  const copy = [...content];
  if (stripped.trim() !== "") copy[index] = { ...part, text: stripped };
  else if (copy.length > 1) copy.splice(index, 1);
  else return content;
  return copy;
}

/** `messages` with every user message's shortcuts taken off, before `end`; the same array when none had any. */
function strippedMessages<T>(messages: readonly T[], end = messages.length): readonly T[] {
  let out: T[] | undefined;
  for (let index = 0; index < end; index++) {
    const message = messages[index] as { role?: unknown; content?: unknown };
    if (message?.role !== "user") continue;
    const content = strippedContent(message.content);
    if (content === message.content) continue;
    out ??= [...messages];
    out[index] = { ...message, content } as T;
  }
  return out ?? messages;
}

/** Takes the shortcuts off the context's earlier prompts (those before `promptIndex`, the current one). */
export function stripEarlierShortcuts(context: Context, promptIndex: number | undefined): void {
  context.messages = strippedMessages(context.messages, promptIndex ?? context.messages.length) as Context["messages"];
}

/**
 * The client body's conversation (its `member`: `messages`, or the Responses API's `input`) with its prompts'
 * shortcuts taken off, as the one top-level member a passthrough sends changed; undefined when none had any. A
 * request sent as it came has none in its current prompt (those are translated).
 */
export function strippedConversation(
  body: Record<string, unknown>,
  member: "messages" | "input",
): Record<string, unknown> | undefined {
  const conversation = body[member];
  if (!Array.isArray(conversation)) return undefined;
  const stripped = strippedMessages(conversation);
  return stripped === conversation ? undefined : { [member]: stripped };
}
