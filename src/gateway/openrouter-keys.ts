// OpenRouter's provider-preference keys the router has no counterpart for (data_collection, zdr, quantizations, ...):
// a request's `provider` object or X-Provider header may carry them. They mean something only to OpenRouter, which
// picks the upstream: an OpenRouter target gets them in its body's `provider` block (beside an upstream pin), every
// other target cannot honour them and the answer it serves names them in `x-auto-router-ignored`
// (`provider.zdr`), as for the client's other settings (target-settings.ts).
import type { Api, Model } from "@mariozechner/pi-ai";
import { z } from "zod";
import { isOpenRouter } from "../runtime/upstream-pin.ts";

const percentiles = z
  .object({ p50: z.number(), p75: z.number(), p90: z.number(), p99: z.number() })
  .partial()
  .strict()
  .describe("a number or an object of p50/p75/p90/p99 numbers");

/** The keys with OpenRouter's types: a value OpenRouter would refuse is a 400 here, before any target is tried. */
export const openRouterKeysSchema = z.object({
  require_parameters: z.boolean().optional(),
  data_collection: z.enum(["allow", "deny"]).optional(),
  zdr: z.boolean().optional(),
  enforce_distillable_text: z.boolean().optional(),
  quantizations: z.array(z.string().min(1)).optional(),
  preferred_min_throughput: z.union([z.number(), percentiles]).optional(),
  preferred_max_latency: z.union([z.number(), percentiles]).optional(),
});

export const OPENROUTER_ONLY_KEYS = Object.keys(openRouterKeysSchema.shape);

/** The keys a request carries for OpenRouter; undefined when it carries none. */
export type OpenRouterKeys = Record<string, unknown> | undefined;

/** Only the keys given (zod's parse keeps a key whose value is undefined out, but not the other keys' order). */
export function pickOpenRouterKeys(parsed: Record<string, unknown>): OpenRouterKeys {
  const keys = OPENROUTER_ONLY_KEYS.filter((key) => parsed[key] !== undefined);
  return keys.length ? Object.fromEntries(keys.map((key) => [key, parsed[key]])) : undefined;
}

/**
 * What one target does with the request's OpenRouter keys: an OpenRouter target takes them into its body's
 * `provider` block (`provider`: what that block holds already, kept); any other target names them as ignored.
 */
export function openRouterFields(
  model: Pick<Model<Api>, "provider" | "baseUrl" | "api">,
  keys: OpenRouterKeys,
  provider?: unknown,
): { provider?: Record<string, unknown>; ignored: string[] } {
  if (!keys) return { ignored: [] };
  if (!isOpenRouter(model)) return { ignored: Object.keys(keys).map((key) => `provider.${key}`) };
  const own = typeof provider === "object" && provider !== null && !Array.isArray(provider) ? provider : {};
  return { provider: { ...own, ...keys }, ignored: [] };
}
