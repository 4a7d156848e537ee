// Per-request provider preferences in OpenRouter's grammar (a body `provider` object or an `X-Provider` header of
// JSON), mapped onto the router's own ProviderPreferences. OpenRouter's keys the router has no counterpart for
// (data_collection, zdr, quantizations, ...) are checked and kept for OpenRouter targets (openrouter-keys.ts); keys
// OpenRouter may add later are ignored. A key a letter or two away from one OpenRouter has is a typo, and is refused
// with the key meant.
import { z } from "zod";
import { closestKey } from "../config/key-suggestions.ts";
import { SORT_KEYS, type ProviderPreferences, type SortKey } from "../config/routing-schema.ts";
import { emptyShortcuts } from "../routing/shortcuts.ts";
import type { PromptShortcuts } from "../routing/types.ts";
import { GatewayError } from "./errors.ts";
import {
  OPENROUTER_ONLY_KEYS,
  type OpenRouterKeys,
  openRouterKeysSchema,
  pickOpenRouterKeys,
} from "./openrouter-keys.ts";

const names = z.array(z.string().min(1)).describe("an array of provider names");
/** A price may be written as text ("1.5"). */
const PRICE_TEXT = /^\d+(\.\d+)?$/;
const price = z.union([z.number().nonnegative(), z.string().regex(PRICE_TEXT).transform(Number)]);

const openRouterSchema = z.object({
  order: names.optional(),
  only: names.optional(),
  ignore: names.optional(),
  allow_fallbacks: z.boolean().optional(),
  sort: z.union([z.enum(SORT_KEYS), z.object({ by: z.enum(SORT_KEYS) }).transform((value) => value.by)]).optional(),
  max_price: z
    .union([price, z.object({ completion: price.optional() }).transform((value) => value.completion)])
    .optional(),
  ...openRouterKeysSchema.shape,
});

const OPENROUTER_KEYS = Object.keys(openRouterSchema.shape);

const LISTS = ["order", "only", "ignore"] as const;
const SORT_EXPECTED = `one of "${SORT_KEYS.join('", "')}"`;
const PRICE_EXPECTED = "a number >= 0 (USD per 1M output tokens, e.g. 15)";

const EXPECTED = `a JSON object in OpenRouter's provider grammar: {"order": [..], "only": [..], "ignore": [..], "allow_fallbacks": bool, "sort": "${SORT_KEYS.join('"|"')}", "max_price": number|{"completion": number}}`;

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
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new GatewayError(400, "invalid_request", `${where}: expected ${EXPECTED}, got ${jsonType(value)}`);
  for (const key of Object.keys(value)) {
    if (OPENROUTER_KEYS.includes(key)) continue;
    const meant = closestKey(key, OPENROUTER_KEYS);
    if (meant)
      throw new GatewayError(400, "invalid_request", `${where}: unknown key "${key}"; did you mean "${meant}"?`);
  }
  // A price cap is never dropped without a word: only the output price can be capped here (the router's maxPrice).
  const maxPrice = (value as { max_price?: unknown }).max_price;
  if (typeof maxPrice === "object" && maxPrice !== null && !Array.isArray(maxPrice))
    for (const key of Object.keys(maxPrice)) {
      if (key === "completion") continue;
      const meant = closestKey(key, ["completion"]);
      throw new GatewayError(
        400,
        "invalid_request",
        `${where}.max_price: ${meant ? `unknown key "${key}"; did you mean "completion"?` : `"${key}" cannot be capped here`}; only "completion" (the output price in $ per 1M tokens) is`,
      );
    }
  const problem = routerKeyProblem(value as Record<string, unknown>);
  if (problem) throw new GatewayError(400, "invalid_request", `${where}.${problem}`);
  const parsed = openRouterSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    // OpenRouter's own keys are checked against its types: the one at fault is named, not the router's grammar.
    const forOpenRouter = OPENROUTER_ONLY_KEYS.includes(String(issue.path[0]));
    const path = issue.path.map((segment) => (typeof segment === "number" ? `[${segment}]` : `.${String(segment)}`));
    throw new GatewayError(
      400,
      "invalid_request",
      `${where}${path.join("")}: ${issue.message}${forOpenRouter ? " (OpenRouter's own key, sent to OpenRouter targets)" : `; expected ${EXPECTED}`}`,
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

/**
 * What is wrong with a key the router itself acts on, as `<path>: expected <what>, got <what was sent>`, or undefined.
 * Each is a preference that would otherwise be lost or turned around without a word: `ignore: ["alpha/alpha-large"]`
 * matches no provider (names are providers, as in `@ignore=`), so the model it meant to leave out would serve; an empty
 * `only` leaves out every target, and an empty `order` ranks none (with allow_fallbacks false it too leaves out all).
 */
function routerKeyProblem(value: Record<string, unknown>): string | undefined {
  for (const list of LISTS) {
    const names = value[list];
    if (names === undefined) continue;
    if (!Array.isArray(names))
      return `${list}: expected an array of provider names (e.g. ["anthropic", "openai"]), got ${jsonType(names)}`;
    if (names.length === 0 && list !== "ignore")
      return `${list}: expected a non-empty array of provider names, got []; leave "${list}" out to ${list === "only" ? "allow every provider" : "keep the route's order"}`;
    for (const [index, name] of names.entries()) {
      if (typeof name !== "string" || name.trim() === "")
        return `${list}[${index}]: expected a provider name (a non-empty string), got ${jsonType(name)}`;
      const slash = name.search(/[/\\]/);
      if (slash >= 0)
        return `${list}[${index}]: "${name}" names a model; expected a provider name, not provider/model${slash > 0 ? `; did you mean "${name.slice(0, slash)}"?` : ""}`;
    }
  }
  const fallbacks = value.allow_fallbacks;
  if (fallbacks !== undefined && typeof fallbacks !== "boolean")
    return `allow_fallbacks: expected true or false, got ${jsonType(fallbacks)}`;
  const sort = value.sort;
  if (sort !== undefined && !SORT_KEYS.includes(sort as SortKey)) {
    const isObject = typeof sort === "object" && sort !== null && !Array.isArray(sort);
    const by = isObject ? (sort as { by?: unknown }).by : sort;
    if (!isObject || !SORT_KEYS.includes(by as SortKey)) {
      const meant = typeof by === "string" ? closestKey(by.trim(), SORT_KEYS) : undefined;
      return `${isObject ? "sort.by" : "sort"}: expected ${SORT_EXPECTED}${isObject ? "" : ', or {"by": one of them}'}, got ${jsonType(by)}${meant ? `; did you mean "${meant}"?` : ""}`;
    }
  }
  const maxPrice = value.max_price;
  if (maxPrice !== undefined) {
    const isObject = typeof maxPrice === "object" && maxPrice !== null && !Array.isArray(maxPrice);
    const cap = isObject ? (maxPrice as { completion?: unknown }).completion : maxPrice;
    if (!(isObject && cap === undefined) && !validPrice(cap))
      return `${isObject ? "max_price.completion" : "max_price"}: expected ${PRICE_EXPECTED}${isObject ? "" : ', or {"completion": such a number}'}, got ${jsonType(cap)}`;
  }
  return undefined;
}

/** Whether `text` is several JSON values joined by commas. */
function joinedJson(text: string): boolean {
  try {
    return (JSON.parse(`[${text}]`) as unknown[]).length > 1;
  } catch {
    return false;
  }
}

const validPrice = (price: unknown): boolean =>
  typeof price === "number"
    ? Number.isFinite(price) && price >= 0
    : typeof price === "string" && PRICE_TEXT.test(price);

const jsonType = (value: unknown): string =>
  value === undefined
    ? "nothing"
    : value === null
      ? "null"
      : Array.isArray(value)
        ? "an array"
        : `a ${typeof value} (${JSON.stringify(value).slice(0, 80)})`;

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
