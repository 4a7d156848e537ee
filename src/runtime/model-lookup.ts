// pi's registry finds a model by scanning every model it knows (~1,000 with the built-in catalogue), and each attempt
// of each request asks it for its target. This view remembers the answers while the registry's model list is the
// same one: pi replaces the list (or changes its length) when models.json, a provider or a login changes it.
import type { Api, Model } from "@mariozechner/pi-ai";
import { registryView } from "./registry-view.ts";
import type { RegistryLike } from "./start-target.ts";

interface Found {
  model: Model<Api> | undefined;
  /** Where the model stood in the list: a hit is only trusted while that slot still holds it. */
  index: number;
}

/**
 * The registry with a remembering `find`, or the registry itself when it cannot list its models as one stable array
 * (then nothing tells when an answer went stale). Every other member passes through unchanged.
 */
export function withModelLookupCache<R extends RegistryLike>(registry: R): R {
  const getAll = (registry as { getAll?: () => unknown }).getAll;
  if (typeof getAll !== "function") return registry;
  const list = (): unknown => getAll.call(registry);
  const first = list();
  if (!Array.isArray(first) || first !== list()) return registry;
  let models: Array<Model<Api>> = first;
  let length = first.length;
  let found = new Map<string, Found>();
  const find = (provider: string, modelId: string): Model<Api> | undefined => {
    const current = list();
    if (!Array.isArray(current)) return registry.find(provider, modelId);
    if (current !== models || current.length !== length) {
      models = current;
      length = current.length;
      found = new Map();
    }
    const key = `${provider}\u0000${modelId}`;
    const known = found.get(key);
    if (known && (known.model === undefined || current[known.index] === known.model)) return known.model;
    const model = registry.find(provider, modelId);
    found.set(key, { model, index: model ? current.indexOf(model) : -1 });
    return model;
  };
  return registryView(registry, { find });
}
