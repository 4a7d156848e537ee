// Provider preferences in OpenRouter's vocabulary (order, only, ignore, allowFallbacks, sort, maxPrice): the
// config's top-level block, then the route's, then the prompt's shortcuts, each overriding field by field, but for
// `ignore`: every layer's ignored providers stay ignored (a prompt's `@ignore=openai` does not bring back the
// provider a route ignores).
import type { ProviderPreferences } from "../config/routing-schema.ts";
import type { ModelFacts, SkipReason } from "./types.ts";

export interface PreferenceLayers {
  global?: ProviderPreferences;
  route?: ProviderPreferences;
  prompt?: ProviderPreferences;
}

/**
 * Field by field, the more specific layer wins: a prompt's `@only=` replaces the route's `only`, it does not add.
 * `ignore` lists add up instead, as a gateway merges a request's ignore list with the account's: ignoring one more
 * provider must not serve the one the route (or the top level) never wants.
 */
export function mergePreferences(layers: PreferenceLayers): ProviderPreferences {
  const { global, route, prompt } = layers;
  if (!route && !prompt) return global ?? {};
  if (!global && !prompt) return route ?? {};
  const merged = { ...global, ...route, ...prompt };
  const lists = [global?.ignore, route?.ignore, prompt?.ignore].filter((list): list is string[] => !!list);
  if (lists.length > 1) {
    const ignore: string[] = [];
    for (const list of lists)
      for (const name of list) if (!ignore.some((seen) => seen.toLowerCase() === name.toLowerCase())) ignore.push(name);
    merged.ignore = ignore;
  }
  return merged;
}

/** Case-insensitive: config files write `Anthropic`, prompts write `anthropic`. */
export function providerListed(list: readonly string[] | undefined, provider: string, authProvider?: string): boolean {
  if (!list) return false;
  for (const name of list) {
    const lower = name.toLowerCase();
    if (lower === provider || (authProvider !== undefined && lower === authProvider)) return true;
  }
  return false;
}

/** Index in a provider list, or -1. */
export function providerIndex(list: readonly string[] | undefined, provider: string, authProvider?: string): number {
  if (!list) return -1;
  for (let index = 0; index < list.length; index++) {
    const lower = list[index].toLowerCase();
    if (lower === provider || (authProvider !== undefined && lower === authProvider)) return index;
  }
  return -1;
}

/** How a target left out by `only` is described; the names follow, comma-separated. */
const NOT_IN_ONLY = "not in only: ";

export interface PreferenceRejection {
  reason: Extract<SkipReason, "provider-preference" | "price">;
  detail: string;
}

/**
 * Why the preferences rule this target out, or undefined. Unknown pricing passes `maxPrice`: a models.json entry
 * without a price must not vanish because of a filter about prices.
 */
export function checkPreferences(
  preferences: ProviderPreferences,
  provider: string,
  authProvider: string | undefined,
  facts: ModelFacts | undefined,
): PreferenceRejection | undefined {
  if (preferences.only && !providerListed(preferences.only, provider, authProvider)) {
    return { reason: "provider-preference", detail: `${NOT_IN_ONLY}${preferences.only.join(", ")}` };
  }
  if (preferences.ignore && providerListed(preferences.ignore, provider, authProvider)) {
    return { reason: "provider-preference", detail: `ignored: ${provider}` };
  }
  if (
    preferences.allowFallbacks === false &&
    preferences.order &&
    !providerListed(preferences.order, provider, authProvider)
  ) {
    return {
      reason: "provider-preference",
      // Neither key's name: the routes file writes allowFallbacks, a gateway client allow_fallbacks.
      detail: `${provider} is not in order (${preferences.order.join(", ")}) and fallbacks beyond it are off`,
    };
  }
  const outputPrice = facts?.pricing?.output;
  if (preferences.maxPrice !== undefined && outputPrice !== undefined && outputPrice > preferences.maxPrice) {
    return { reason: "price", detail: `output $${outputPrice}/1M > max-price $${preferences.maxPrice}/1M` };
  }
  return undefined;
}

export function describePreferences(preferences: ProviderPreferences): string[] {
  const parts: string[] = [];
  if (preferences.order) parts.push(`order: ${preferences.order.join(", ")}`);
  if (preferences.only) parts.push(`only: ${preferences.only.join(", ")}`);
  if (preferences.ignore) parts.push(`ignore: ${preferences.ignore.join(", ")}`);
  if (preferences.allowFallbacks === false) parts.push("no fallbacks beyond order");
  if (preferences.sort) parts.push(`sort: ${preferences.sort}`);
  if (preferences.maxPrice !== undefined) parts.push(`max-price: $${preferences.maxPrice}/1M output`);
  return parts;
}
