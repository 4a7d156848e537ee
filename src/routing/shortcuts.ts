// Per-prompt shortcuts: a run of `@tokens` at the very start of the prompt (`@reasoning @only=anthropic fix it`).
// They are parsed in pi's `input` event and stripped before the model sees them. Only the leading run counts, and
// scanning stops at the first token that is not a shortcut, so `@src/index.ts explain this` (pi's file mention),
// an e-mail address or any unknown `@word` stays in the prompt untouched.
import { SORT_KEYS, TIERS, type ProviderPreferences, type SortKey, type Tier } from "../config/routing-schema.ts";
import { closestKey } from "../config/key-suggestions.ts";
import type { PromptShortcuts } from "./types.ts";

const TIER_SET: ReadonlySet<string> = new Set(TIERS);
const SORT_SET: ReadonlySet<string> = new Set(SORT_KEYS);
/** A provider name as pi writes them: letters, digits, `-`, `_`, `.`. */
const PROVIDER_NAME = /^[a-z0-9][a-z0-9._-]*$/;
const PRICE_NUMBER = /^\d+(\.\d+)?$/;

/** Capability tiers change WHICH models can serve; preference tiers only say what is preferred. */
const CAPABILITY_TIERS: ReadonlySet<Tier> = new Set<Tier>(["long", "vision"]);

export const emptyShortcuts = (): PromptShortcuts => ({ tiers: [], preferences: {}, tokens: [] });

function parseProviderList(value: string): string[] | undefined {
  const names = value
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name.length > 0);
  if (names.length === 0 || !names.every((name) => PROVIDER_NAME.test(name))) return undefined;
  return names;
}

const union = (existing: string[] | undefined, added: string[]): string[] =>
  existing ? [...existing, ...added.filter((name) => !existing.includes(name))] : added;

/** Applies one token to the shortcuts; false when it is not a shortcut (scanning then stops). */
function applyToken(token: string, shortcuts: PromptShortcuts): boolean {
  const body = token.slice(1).toLowerCase();
  if (body.includes("@")) return false;
  if (TIER_SET.has(body)) {
    if (!shortcuts.tiers.includes(body as Tier)) shortcuts.tiers.push(body as Tier);
    return true;
  }
  const equals = body.indexOf("=");
  if (equals <= 0) return false;
  const name = body.slice(0, equals);
  const value = body.slice(equals + 1);
  const preferences: ProviderPreferences = shortcuts.preferences;
  switch (name) {
    case "only":
    case "ignore": {
      // `@only=gamma, beta`: the list stops at the space, so taking it would route to gamma and send "beta" as text.
      if (value.endsWith(",")) return false;
      const providers = parseProviderList(value);
      if (!providers) return false;
      preferences[name] = union(preferences[name], providers);
      return true;
    }
    case "sort":
      if (!SORT_SET.has(value)) return false;
      preferences.sort = value as SortKey;
      return true;
    case "max-price":
      if (!PRICE_NUMBER.test(value)) return false;
      preferences.maxPrice = Number(value);
      return true;
    default:
      return false;
  }
}

const VALUE_SHORTCUTS = ["only", "ignore", "sort", "max-price"] as const;
const VALUE_EXPECTED: Readonly<Record<(typeof VALUE_SHORTCUTS)[number], string>> = {
  only: "provider names separated by commas, e.g. @only=anthropic,openai",
  ignore: "provider names separated by commas, e.g. @ignore=openai",
  sort: `one of ${SORT_KEYS.join(", ")}`,
  "max-price": "USD per 1M output tokens, e.g. @max-price=15",
};

/**
 * Why a leading `@token` that is not a shortcut looks like a mistyped one (`@reasonig`, `@sort=latncy`, `@only`), or
 * undefined for anything else: a file mention (`@src/index.ts`, `@README.md`) or a word nowhere near a shortcut.
 * `next` is the word after the token, for a provider list broken by a space (`@only=gamma, beta`).
 */
export function shortcutMistake(token: string, next?: string): string | undefined {
  const body = token.slice(1);
  // `@long@vision`: shortcuts written together, each of them right, only the space between them missing.
  const together = token.split(/(?=@)/);
  if (together.length > 1 && together.every((part) => applyToken(part, emptyShortcuts())))
    return `shortcuts are separated by spaces: write "${together.join(" ")}"`;
  const equals = body.indexOf("=");
  const name = (equals < 0 ? body : body.slice(0, equals)).toLowerCase();
  const value = equals < 0 ? undefined : body.slice(equals + 1);
  if ((name === "only" || name === "ignore") && value) {
    // `@only=gamma/g-haiku` names a model: no file mention starts with a shortcut and `=`.
    if (/[/\\]/.test(value)) {
      const providers = value.split(",").map((entry) => entry.split(/[/\\]/)[0]);
      return `@${name}= takes provider names (e.g. @${name}=${providers.join(",")}), not provider/model`;
    }
    if (value.endsWith(",")) {
      // Every trailing comma goes (`@only=gamma,,`): the list written without them, or with one before the next word.
      const trimmed = token.replace(/,+$/, "");
      if (trimmed.endsWith("=")) return `@${name}= takes ${VALUE_EXPECTED[name]}`;
      return next
        ? `a list of providers has no spaces: write "${trimmed},${next}" if ${next} is a provider, else "${trimmed}"`
        : `the list of providers ends in a comma: write "${trimmed}", or name the next provider right after the comma`;
    }
  }
  if (/[/\\]/.test(body)) return undefined;
  const valueName = VALUE_SHORTCUTS.find((known) => known === name);
  if (valueName) {
    const near = valueName === "sort" && value ? closestKey(value.toLowerCase(), SORT_KEYS) : undefined;
    return `@${valueName}= takes ${VALUE_EXPECTED[valueName]}${near ? `; did you mean "@sort=${near}"?` : ""}`;
  }
  if (name.includes(".")) return undefined;
  if (value === undefined) {
    const tier = closestKey(name, TIERS);
    if (tier) return `did you mean "@${tier}"?`;
  }
  const near = closestKey(name, VALUE_SHORTCUTS);
  return near ? `did you mean "@${near}=${value ?? "..."}"?` : undefined;
}

const isSpace = (code: number): boolean => code === 32 || code === 9 || code === 10 || code === 13;

/** The word after `position`, past the spaces (on the same line or the next); undefined at the end. */
function nextWord(text: string, position: number): string | undefined {
  let start = position;
  while (start < text.length && isSpace(text.charCodeAt(start))) start++;
  let end = start;
  while (end < text.length && !isSpace(text.charCodeAt(end))) end++;
  return end > start ? text.slice(start, end) : undefined;
}

export interface ParsedShortcuts {
  text: string;
  shortcuts: PromptShortcuts;
  /** The leading `@token` that stopped the scan when it looks like a mistyped shortcut, and why. */
  mistake?: { token: string; reason: string };
}

/** Text with the recognised leading tokens removed, and what they asked for. Unchanged text when none. */
export function parseShortcuts(text: string): ParsedShortcuts {
  const shortcuts = emptyShortcuts();
  let mistake: ParsedShortcuts["mistake"];
  let position = 0;
  let consumedUpTo = 0;
  while (position < text.length) {
    while (position < text.length && isSpace(text.charCodeAt(position))) position++;
    if (text.charCodeAt(position) !== 64 /* @ */) break;
    let end = position + 1;
    while (end < text.length && !isSpace(text.charCodeAt(end))) end++;
    const token = text.slice(position, end);
    if (!applyToken(token, shortcuts)) {
      const reason = shortcutMistake(token, nextWord(text, end));
      if (reason) mistake = { token, reason };
      break;
    }
    shortcuts.tokens.push(token);
    position = end;
    consumedUpTo = end;
  }
  if (shortcuts.tokens.length === 0) return mistake ? { text, shortcuts, mistake } : { text, shortcuts };
  let start = consumedUpTo;
  while (start < text.length && isSpace(text.charCodeAt(start))) start++;
  return mistake ? { text: text.slice(start), shortcuts, mistake } : { text: text.slice(start), shortcuts };
}

export interface TierChoice {
  tier?: Tier;
  /** Tiers that were written but lost to the chosen one. */
  ignored: Tier[];
}

/**
 * Several tier shortcuts (`@fast @long`): a capability tier (long, vision) wins over a preference tier (reasoning,
 * swe, fast), because ignoring a capability would send the request to a model that cannot take it while ignoring a
 * preference only makes it less ideal. Within the same class the first one written wins. So `@fast @long` -> long,
 * `@long @vision` -> long, `@swe @reasoning` -> swe. The losers are reported so the trace can say they were ignored.
 */
export function chooseShortcutTier(tiers: readonly Tier[]): TierChoice {
  if (tiers.length === 0) return { ignored: [] };
  let chosen = tiers[0];
  for (const tier of tiers)
    if (CAPABILITY_TIERS.has(tier)) {
      chosen = tier;
      break;
    }
  const ignored: Tier[] = [];
  for (const tier of tiers) if (tier !== chosen) ignored.push(tier);
  return { tier: chosen, ignored };
}

const TIER_EFFECT: Readonly<Record<Tier, string>> = {
  reasoning: "use the reasoning tier",
  swe: "use the software-engineering tier",
  fast: "use the fast tier",
  long: "only targets with a long context window",
  vision: "only targets that accept images",
};

/** What the typed shortcuts do, in words ("@fast: use the fast tier; @only=google: only google"). */
export function describeShortcuts(shortcuts: PromptShortcuts): string {
  const { preferences } = shortcuts;
  const parts: string[] = shortcuts.tiers.map((tier) => `@${tier}: ${TIER_EFFECT[tier]}`);
  if (preferences.only) parts.push(`@only=${preferences.only.join(",")}: only ${preferences.only.join(", ")}`);
  if (preferences.ignore) parts.push(`@ignore=${preferences.ignore.join(",")}: never ${preferences.ignore.join(", ")}`);
  if (preferences.sort) parts.push(`@sort=${preferences.sort}: rank by ${preferences.sort}`);
  if (preferences.maxPrice !== undefined)
    parts.push(
      `@max-price=${preferences.maxPrice}: skip targets above ${preferences.maxPrice} USD per 1M output tokens`,
    );
  return parts.join("; ");
}

/**
 * Why a prompt that is nothing but shortcuts is not sent: sending it would give the model an empty user turn
 * (Anthropic then continues its previous answer), so nothing is sent and the user is told how shortcuts are used.
 * pi's notice and the gateway's 400 both say it.
 */
export function shortcutOnlyText(shortcuts: PromptShortcuts): string {
  return (
    `nothing was sent: ${shortcuts.tokens.join(" ")} only says how the prompt after it is routed ` +
    `(${describeShortcuts(shortcuts)}). Type the prompt after the shortcut, e.g. "${shortcuts.tokens.join(" ")} explain this error".`
  );
}

export const shortcutOnlyNotice = (shortcuts: PromptShortcuts): string => `auto-router: ${shortcutOnlyText(shortcuts)}`;

/** The warning for a mistyped shortcut: it is sent as part of the prompt, since it may be meant as text. */
export const shortcutMistakeNotice = ({ token, reason }: { token: string; reason: string }): string =>
  `auto-router: "${token}" is not a shortcut, so it was sent as part of the prompt: ${reason} (/auto-router shortcuts lists them)`;
