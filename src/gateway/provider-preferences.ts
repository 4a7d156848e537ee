// Per-request provider preferences in OpenRouter's grammar (a body `provider` object or an `X-Provider` header of
// JSON), mapped onto the router's own ProviderPreferences. OpenRouter's keys the router has no counterpart for
// (data_collection, zdr, quantizations, ...) are checked and kept for OpenRouter targets (openrouter-keys.ts); keys
// OpenRouter may add later are ignored. A key a letter or two away from one OpenRouter has is a typo, and is refused
// with the key meant.
import { z } from "zod";
import { closestKey } from "../config/key-suggestions.ts";
import { type ProviderPreferences, providerNameSchema, SORT_KEYS, type SortKey } from "../config/routing-schema.ts";
import { emptyShortcuts } from "../routing/shortcuts.ts";
import type { PromptShortcuts } from "../routing/types.ts";
import { redactText } from "../state/redact.ts";
import { GatewayError, issueText } from "./errors.ts";
import {
  OPENROUTER_ONLY_KEYS,
  type OpenRouterKeys,
  openRouterKeysSchema,
  pickOpenRouterKeys,
} from "./openrouter-keys.ts";

const SORT_EXPECTED = `one of "${SORT_KEYS.join('", "')}"`;
const PRICE_EXPECTED = "a number >= 0 (USD per 1M output tokens, e.g. 15)";

const EXPECTED = `a JSON object in OpenRouter's provider grammar: {"order": [..], "only": [..], "ignore": [..], "allow_fallbacks": bool, "sort": "${SORT_KEYS.join('"|"')}", "max_price": number|{"completion": number}}`;

// Each preference the router acts on is refused, as `<path>: expected <what>, got <what was sent>`, where it would
// otherwise be lost or turned around without a word: `ignore: ["alpha/alpha-large"]` matches no provider (names are
// providers, as in `@ignore=`), so the model it meant to leave out would serve; an empty `only` leaves out every
// target, and an empty `order` ranks none (with allow_fallbacks false it too leaves out all).

const providerNameProblem = (issue: z.core.$ZodRawIssue): string => {
  if (issue.code !== "invalid_format")
    return `expected a provider name (a non-empty string), got ${jsonType(issue.input)}`;
  // A key pasted where a name belongs is not sent back (nor logged with the 400).
  const name = redactText(issue.input as string);
  const slash = name.search(/[/\\]/);
  return `"${name}" names a model; expected a provider name, not provider/model${slash > 0 ? `; did you mean "${name.slice(0, slash)}"?` : ""}`;
};
const providerName = providerNameSchema(providerNameProblem);

/** The names of `list`; `leaveOut` says what leaving an empty one out does, where an empty one is refused. */
const names = (list: string, leaveOut?: string) => {
  const schema = z.array(providerName, {
    error: (issue) =>
      `expected an array of provider names (e.g. ["anthropic", "openai"]), got ${jsonType(issue.input)}`,
  });
  return leaveOut
    ? schema.min(1, `expected a non-empty array of provider names, got []; leave "${list}" out to ${leaveOut}`)
    : schema;
};

const isSortKey = (value: unknown): value is SortKey => SORT_KEYS.includes(value as SortKey);
const sortExpected = (alternative: string) => (issue: { input?: unknown }) => {
  const meant = typeof issue.input === "string" ? closestKey(issue.input.trim(), SORT_KEYS) : undefined;
  return `expected ${SORT_EXPECTED}${alternative}, got ${jsonType(issue.input)}${meant ? `; did you mean "${meant}"?` : ""}`;
};

/** A price may be written as text ("1.5"). */
const PRICE_TEXT = /^\d+(\.\d+)?$/;
const validPrice = (price: unknown): price is number | string =>
  typeof price === "number"
    ? Number.isFinite(price) && price >= 0
    : typeof price === "string" && PRICE_TEXT.test(price);
const price = (params: { abort: boolean; error?: (issue: { input?: unknown }) => string }) =>
  z.custom<number | string>(validPrice, params).transform(Number);

// `sort` and `max_price` take a value or an object of it. An object's value at fault is named by its path (`sort.by`),
// any other shape by the union's own message. When no option passes, zod's union reports the issues of the one option
// that failed without aborting, if exactly one did, else its own: the value option fails aborted on an object and the
// object option's value (`abort: false`) does not, while on anything else both options fail aborted.
const sort = z
  .union(
    [z.enum(SORT_KEYS), z.object({ by: z.custom<SortKey>(isSortKey, { abort: false, error: sortExpected("") }) })],
    {
      error: sortExpected(', or {"by": one of them}'),
    },
  )
  .transform((value) => (typeof value === "string" ? value : value.by));
const maxPrice = z
  .union(
    [
      price({ abort: true }),
      z.object({
        completion: price({
          abort: false,
          error: (issue) => `expected ${PRICE_EXPECTED}, got ${jsonType(issue.input)}`,
        }).optional(),
      }),
    ],
    { error: (issue) => `expected ${PRICE_EXPECTED}, or {"completion": such a number}, got ${jsonType(issue.input)}` },
  )
  .transform((value) => (typeof value === "number" ? value : value.completion));

const preferencesObject = z.object(
  {
    order: names("order", "keep the route's order").optional(),
    only: names("only", "allow every provider").optional(),
    ignore: names("ignore").optional(),
    allow_fallbacks: z.boolean({ error: (issue) => `expected true or false, got ${jsonType(issue.input)}` }).optional(),
    sort: sort.optional(),
    max_price: maxPrice.optional(),
    ...openRouterKeysSchema.shape,
  },
  { error: (issue) => `expected ${EXPECTED}, got ${jsonType(issue.input)}` },
);

const OPENROUTER_KEYS = Object.keys(preferencesObject.shape);

/**
 * The one validator of a source's preferences: its keys before any value. A key a letter or two away from one
 * OpenRouter has is a typo; a price cap is never dropped without a word: only the output price can be capped here
 * (the router's maxPrice).
 */
const preferencesSchema = z
  .unknown()
  .check((payload) => {
    const value = payload.value;
    if (!isObject(value)) return; // preferencesObject names what it is
    for (const key of Object.keys(value)) {
      if (OPENROUTER_KEYS.includes(key)) continue;
      const meant = closestKey(key, OPENROUTER_KEYS);
      if (meant) return keyIssue(payload, [], `unknown key "${key}"; did you mean "${meant}"?`);
    }
    if (!isObject(value.max_price)) return;
    for (const key of Object.keys(value.max_price)) {
      if (key === "completion") continue;
      const meant = closestKey(key, ["completion"]);
      return keyIssue(
        payload,
        ["max_price"],
        `${meant ? `unknown key "${key}"; did you mean "completion"?` : `"${key}" cannot be capped here`}; only "completion" (the output price in $ per 1M tokens) is`,
      );
    }
  })
  .pipe(preferencesObject);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function keyIssue(payload: z.core.ParsePayload, path: string[], message: string): void {
  payload.issues.push({ code: "custom", path, message, input: payload.value });
}

/**
 * Parses one source; `where` names it in the error ("X-Provider header", "body.provider"). A header's value is JSON
 * text; a body's `provider` is the object itself, so a string there is the wrong type, not JSON to parse.
 */
export function parseProviderPreferences(
  raw: unknown,
  where: string,
  jsonText = false,
): { preferences: ProviderPreferences; openRouter: OpenRouterKeys } {
  let value = raw;
  if (jsonText && typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch (error) {
      // Sent twice, a header's two objects arrive as one value joined by ", ": Node joins two header lines so, and
      // fetch (the official clients') sends two appended values as one line.
      if (joinedJson(raw)) throw new GatewayError(400, "invalid_request", `${where} sent twice; send it once`);
      throw new GatewayError(
        400,
        "invalid_request",
        `${where}: not valid JSON (${(error as Error).message}); expected ${EXPECTED}`,
      );
    }
  }
  const parsed = preferencesSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    const issue = issueText(parsed.error.issues[0]!);
    // OpenRouter's own keys are checked against its types: the one at fault is named, not the router's grammar.
    const forOpenRouter = OPENROUTER_ONLY_KEYS.includes(String(issue.path[0]));
    const path = issue.path.map((segment) => (typeof segment === "number" ? `[${segment}]` : `.${String(segment)}`));
    throw new GatewayError(
      400,
      "invalid_request",
      `${where}${path.join("")}: ${issue.message}${forOpenRouter ? " (OpenRouter's own key, sent to OpenRouter targets)" : ""}`,
    );
  }
  const { order, only, ignore, allow_fallbacks, sort, max_price } = parsed.data;
  const preferences: ProviderPreferences = {};
  if (order) preferences.order = order;
  if (only) preferences.only = only;
  if (ignore) preferences.ignore = ignore;
  if (allow_fallbacks !== undefined) preferences.allowFallbacks = allow_fallbacks;
  if (sort) preferences.sort = sort;
  if (max_price !== undefined) preferences.maxPrice = max_price;
  return { preferences, openRouter: pickOpenRouterKeys(parsed.data) };
}

/** Whether `text` is several JSON values joined by commas. */
function joinedJson(text: string): boolean {
  try {
    return (JSON.parse(`[${text}]`) as unknown[]).length > 1;
  } catch {
    return false;
  }
}

const jsonType = (value: unknown): string =>
  value === undefined
    ? "nothing"
    : value === null
      ? "null"
      : Array.isArray(value)
        ? "an array"
        : `${typeof value === "object" ? "an" : "a"} ${typeof value} (${redactText(JSON.stringify(value)).slice(0, 80)})`;

/**
 * The request's shortcuts: those typed at the start of the last user message, then body and header preferences
 * (field by field, the header wins); and the OpenRouter keys of both, merged the same way.
 */
export function requestShortcuts(
  typed: PromptShortcuts | undefined,
  body: unknown,
  header: string | undefined,
): { shortcuts: PromptShortcuts; openRouter: OpenRouterKeys } {
  const fromBody = body === undefined ? undefined : parseProviderPreferences(body, "body.provider");
  const fromHeader = header === undefined ? undefined : parseProviderPreferences(header, "X-Provider header", true);
  const base = typed ?? emptyShortcuts();
  const openRouter =
    fromBody?.openRouter || fromHeader?.openRouter ? { ...fromBody?.openRouter, ...fromHeader?.openRouter } : undefined;
  return {
    shortcuts: { ...base, preferences: { ...base.preferences, ...fromBody?.preferences, ...fromHeader?.preferences } },
    openRouter,
  };
}
