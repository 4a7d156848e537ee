// Per-request provider preferences in OpenRouter's grammar (a body `provider` object or an `X-Provider` header of
// JSON), mapped onto the router's own ProviderPreferences. Keys OpenRouter has but the router cannot honour
// (data_collection, quantizations, ...) are ignored, as OpenRouter ignores what a provider does not support; so are
// keys it may add later. A key a letter or two away from one OpenRouter has is a typo, and is refused with the key meant.
import { z } from "zod";
import { closestKey } from "../config/key-suggestions.ts";
import { SORT_KEYS, type ProviderPreferences } from "../config/routing-schema.ts";
import { emptyShortcuts } from "../routing/shortcuts.ts";
import type { PromptShortcuts } from "../routing/types.ts";
import { GatewayError } from "./errors.ts";

const names = z.array(z.string().min(1)).describe("an array of provider names");
const price = z.union([
  z.number().nonnegative(),
  z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .transform(Number),
]);

const openRouterSchema = z.object({
  order: names.optional(),
  only: names.optional(),
  ignore: names.optional(),
  allow_fallbacks: z.boolean().optional(),
  sort: z.union([z.enum(SORT_KEYS), z.object({ by: z.enum(SORT_KEYS) }).transform((value) => value.by)]).optional(),
  max_price: z
    .union([price, z.object({ completion: price.optional() }).transform((value) => value.completion)])
    .optional(),
});

/** OpenRouter's keys the router has no counterpart for: accepted and ignored. */
const IGNORED_KEYS = [
  "require_parameters",
  "data_collection",
  "zdr",
  "enforce_distillable_text",
  "quantizations",
  "preferred_min_throughput",
  "preferred_max_latency",
];
const OPENROUTER_KEYS = [...Object.keys(openRouterSchema.shape), ...IGNORED_KEYS];

const EXPECTED = `a JSON object in OpenRouter's provider grammar: {"order": [..], "only": [..], "ignore": [..], "allow_fallbacks": bool, "sort": "${SORT_KEYS.join('"|"')}", "max_price": number|{"completion": number}}`;

/**
 * Parses one source; `where` names it in the error ("X-Provider header", "body.provider"). A header's value is JSON
 * text; a body's `provider` is the object itself, so a string there is the wrong type, not JSON to parse.
 */
export function parseProviderPreferences(raw: unknown, where: string, jsonText = false): ProviderPreferences {
  let value = raw;
  if (jsonText && typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch (error) {
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
  const parsed = openRouterSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new GatewayError(
      400,
      "invalid_request",
      `${where}.${issue.path.join(".")}: ${issue.message}; expected ${EXPECTED}`,
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
  return preferences;
}

const jsonType = (value: unknown): string =>
  value === null
    ? "null"
    : Array.isArray(value)
      ? "an array"
      : `a ${typeof value} (${JSON.stringify(value).slice(0, 80)})`;

/** The request's shortcuts: those typed at the start of the last user message, then body and header preferences. */
export function requestShortcuts(
  typed: PromptShortcuts | undefined,
  body: unknown,
  header: string | undefined,
): PromptShortcuts {
  const fromBody = body === undefined ? {} : parseProviderPreferences(body, "body.provider");
  const fromHeader = header === undefined ? {} : parseProviderPreferences(header, "X-Provider header", true);
  const base = typed ?? emptyShortcuts();
  return { ...base, preferences: { ...base.preferences, ...fromBody, ...fromHeader } };
}
