// The virtual models `auto-router/<route>` as pi sees them. Capabilities come from the route's resolvable targets
// unless the route sets them: the smallest context window (so pi compacts before any target overflows), the
// smallest output limit, reasoning if any target reasons (the xhigh level if any offers it), images if any target sees them.
import type { RouterConfig } from "../config/schema.ts";
import { targetKey, type ModelFacts } from "../routing/types.ts";

/** Used when no target of a route can be resolved yet (e.g. before pi's registry is available). */
export const FALLBACK_CONTEXT_WINDOW = 128_000;
export const FALLBACK_MAX_TOKENS = 16_384;

export interface VirtualModel {
  id: string;
  name: string;
  reasoning: boolean;
  input: ("text" | "image")[];
  cost: { input: number; output: number; cacheRead: number; cacheWrite: number };
  contextWindow: number;
  maxTokens: number;
  /** `xhigh` when a reasoning target offers it: pi offers that level only for a model whose map names it. */
  thinkingLevelMap?: { xhigh: "xhigh" };
}

type Route = RouterConfig["routes"][string];

/** The facts of the route's enabled targets that pi's registry can resolve. */
const knownTargets = (route: Route, facts: Record<string, ModelFacts>): ModelFacts[] =>
  route.targets
    .filter((t) => t.enabled !== false)
    .map((t) => facts[targetKey(t.provider, t.modelId)])
    .filter((f): f is ModelFacts => !!f?.resolvable);

/**
 * Whether pi sees the route's model take images (its `input`). When it does not, pi's read tool tells the model an
 * image it read is left out, and pi-ai sends a note in its place.
 */
export function routeTakesImages(route: Route, facts: Record<string, ModelFacts>): boolean {
  if (route.input) return route.input.includes("image");
  const known = knownTargets(route, facts);
  return known.length === 0 || known.some((f) => f.vision);
}

export function virtualModels(config: RouterConfig, facts: Record<string, ModelFacts>): VirtualModel[] {
  return Object.entries(config.routes).map(([id, route]) => {
    const known = knownTargets(route, facts);
    const windows = known.map((f) => f.contextWindow).filter((n): n is number => !!n);
    const outputs = known.map((f) => f.maxTokens).filter((n): n is number => !!n);
    const input: ("text" | "image")[] = route.input ?? (known.some((f) => f.vision) ? ["text", "image"] : ["text"]);
    return {
      id,
      name: route.name ?? `Auto router: ${id}`,
      reasoning: route.reasoning ?? (known.length === 0 || known.some((f) => f.reasoning)),
      input: known.length === 0 && !route.input ? ["text", "image"] : input,
      // The router's own price is zero: each served message carries its real target's cost.
      cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
      contextWindow: route.contextWindow ?? (windows.length ? Math.min(...windows) : FALLBACK_CONTEXT_WINDOW),
      maxTokens: route.maxTokens ?? (outputs.length ? Math.min(...outputs) : FALLBACK_MAX_TOKENS),
      // Each target's pi-ai lowers xhigh to the highest level that target has.
      ...(known.some((f) => f.xhigh) ? { thinkingLevelMap: { xhigh: "xhigh" as const } } : {}),
    };
  });
}
