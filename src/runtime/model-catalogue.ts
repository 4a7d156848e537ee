// What pi knows about models before and after a session exists. Before: pi-ai's built-in catalogue plus the ids in
// models.json (read by the caller); after: pi's model registry, which also holds providers of other extensions.
import { getModel, getModels, getProviders, type Api, type Model } from "@mariozechner/pi-ai";
import type { KnownModels } from "../config/unknown-targets.ts";
import { readModelsFileFacts } from "../state/models-file.ts";
import type { RegistryLike } from "./start-target.ts";

/** A registry stand-in over the built-in catalogue: capabilities for `--list-models` before any session. */
export const catalogueRegistry: RegistryLike = {
  find(provider, modelId) {
    if (typeof getModel !== "function") return undefined;
    try {
      return (getModel as (provider: string, modelId: string) => Model<Api> | undefined)(provider, modelId);
    } catch {
      return undefined;
    }
  },
  hasConfiguredAuth: () => false,
  getApiKeyAndHeaders: async () => ({ ok: false, error: "no pi session yet" }),
};

/**
 * The built-in catalogue with the models of the agent dir's models.json in front (read when first asked, then kept):
 * what pi itself will know of them, so `pi --list-models` gives a route of custom models their real limits.
 */
export function catalogueRegistryWith(agentDir: string): RegistryLike {
  let custom: ReturnType<typeof readModelsFileFacts> | undefined;
  return {
    ...catalogueRegistry,
    find(provider, modelId) {
      custom ??= readModelsFileFacts(agentDir);
      const facts = custom.get(`${provider}/${modelId}`);
      if (!facts) return catalogueRegistry.find(provider, modelId);
      return {
        id: modelId,
        name: modelId,
        provider,
        contextWindow: facts.contextWindow,
        maxTokens: facts.maxTokens,
        reasoning: facts.reasoning,
        ...(facts.xhigh ? { thinkingLevelMap: { xhigh: "xhigh" } } : {}),
        input: facts.vision ? ["text", "image"] : ["text"],
        cost: { ...facts.pricing, cacheRead: 0, cacheWrite: 0 },
      } as Model<Api>;
    },
  };
}

function addModel(known: Map<string, string[]>, provider: string, modelId: string): void {
  const models = known.get(provider) ?? [];
  if (!models.includes(modelId)) models.push(modelId);
  known.set(provider, models);
}

/**
 * The built-in catalogue plus `extra` (provider -> model ids, e.g. from models.json); undefined when this pi's
 * pi-ai does not offer the catalogue functions (then nothing can be judged unknown before a session).
 */
export function catalogueModels(extra: Record<string, string[]> = {}): KnownModels | undefined {
  if (typeof getProviders !== "function" || typeof getModels !== "function") return undefined;
  const known = new Map<string, string[]>();
  try {
    for (const provider of getProviders() as string[]) {
      for (const model of (getModels as (provider: string) => Array<Model<Api>>)(provider))
        addModel(known, provider, model.id);
    }
  } catch {
    return undefined;
  }
  for (const [provider, ids] of Object.entries(extra)) {
    if (!known.has(provider)) known.set(provider, []);
    for (const id of ids) addModel(known, provider, id);
  }
  return known;
}

/** Every model pi's registry holds; undefined when this pi's registry cannot list them. */
export function registryModels(registry: unknown): KnownModels | undefined {
  const getAll = (registry as { getAll?: () => Array<Model<Api>> } | undefined)?.getAll;
  if (typeof getAll !== "function") return undefined;
  const known = new Map<string, string[]>();
  for (const model of getAll.call(registry)) addModel(known, model.provider, model.id);
  return known;
}

/** Why pi's registry left models.json out (it then holds only its built-in models); undefined when it loaded. */
export function registryLoadError(registry: unknown): string | undefined {
  const getError = (registry as { getError?: () => string | undefined } | undefined)?.getError;
  if (typeof getError !== "function") return undefined;
  try {
    return getError.call(registry) || undefined;
  } catch {
    return undefined;
  }
}
