// OpenRouter's provider-preference keys the router has no counterpart for (data_collection, zdr, quantizations, ...):
// a request's `provider` object or X-Provider header may carry them. They mean something only to OpenRouter, which
// picks the upstream: an OpenRouter target gets them in its body's `provider` block (beside an upstream pin), every
// other target cannot honour them and the answer it serves names them in `x-auto-router-ignored`
// (`provider.zdr`), as for the client's other settings (target-settings.ts).
import type { Api, Model } from "@mariozechner/pi-ai";
import { z } from "zod";
import { closestKey } from "../config/key-suggestions.ts";
import { isOpenRouter } from "../runtime/upstream-pin.ts";

/** OpenRouter's quantization levels (its SDKs' `Quantization`); it refuses any other. */
const QUANTIZATIONS = [
  "int4",
  "int8",
  "fp4",
  "mxfp4",
  "nvfp4",
  "fp6",
  "fp8",
  "mxfp8",
  "fp16",
  "bf16",
  "fp32",
  "unknown",
] as const;

/** The level a typo meant ("FP8", "bf61"), when only one is that close: "fp7" is as near fp6 as fp8. */
function meantQuantization(input: unknown): string | undefined {
  if (typeof input !== "string") return undefined;
  const typed = input.trim();
  const meant = closestKey(typed, QUANTIZATIONS);
  const others = QUANTIZATIONS.filter((level) => level !== meant);
  return meant === typed.toLowerCase() || !closestKey(typed, others) ? meant : undefined;
}

const quantization = z.enum(QUANTIZATIONS, {
  error: (issue) => {
    const meant = meantQuantization(issue.input);
    return `expected one of "${QUANTIZATIONS.join('"|"')}"${meant ? `; did you mean "${meant}"?` : ""}`;
  },
});

/** Throughput (tokens/s) and latency (s) are never negative. */
const nonNegative = z.number().min(0, { error: (issue) => `expected a number >= 0, got ${String(issue.input)}` });

/**
 * A number, or one per percentile. A negative number is named where it is (zod's union reports the one option that
 * failed without aborting: the value's range check); any other shape by the union's own message.
 */
const numberOrPercentiles = z.union(
  [
    nonNegative,
    z.object({ p50: nonNegative, p75: nonNegative, p90: nonNegative, p99: nonNegative }).partial().strict(),
  ],
  { error: "expected a number >= 0, or an object of p50/p75/p90/p99 such numbers" },
);

/** The keys with OpenRouter's types: a value OpenRouter would refuse is a 400 here, before any target is tried. */
export const openRouterKeysSchema = z.object({
  require_parameters: z.boolean().optional(),
  data_collection: z.enum(["allow", "deny"]).optional(),
  zdr: z.boolean().optional(),
  enforce_distillable_text: z.boolean().optional(),
  quantizations: z.array(quantization).optional(),
  preferred_min_throughput: numberOrPercentiles.optional(),
  preferred_max_latency: numberOrPercentiles.optional(),
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
