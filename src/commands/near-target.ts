// The `provider/model` a mistyped one probably meant, among those pi would serve: said by the gateway's 404 and by
// `/auto-router switch` and `resolve`. Apart from name-resolution.ts because it lists pi-ai's catalogue, which the
// analytics scripts (they import name-resolution.ts) must run without.
import { aliasCandidates, ROUTER_PROVIDER } from "../config/alias-names.ts";
import { closestKey } from "../config/key-suggestions.ts";
import type { RouterConfig } from "../config/schema.ts";
import { registryModels } from "../runtime/model-catalogue.ts";
import type { RegistryLike } from "../runtime/start-target.ts";

/**
 * The `provider/model` names that would be served (pi's registry finds them): the targets the config names (routes',
 * aliases', gateway.models') and, when this pi's registry can list them, every model it knows. Provider -> model ids.
 * Never throws: a registry that cannot answer offers nothing.
 */
function servedTargets(config: RouterConfig, registry: RegistryLike | undefined): Map<string, Set<string>> {
  const targets = new Map<string, Set<string>>();
  const add = (provider: string, modelId: string) => {
    if (provider === ROUTER_PROVIDER) return;
    let found = false;
    try {
      found = registry?.find(provider, modelId) !== undefined;
    } catch {
      found = false;
    }
    if (!found) return;
    const ids = targets.get(provider) ?? new Set<string>();
    ids.add(modelId);
    targets.set(provider, ids);
  };
  for (const route of Object.values(config.routes))
    for (const target of route.targets) add(target.provider, target.modelId);
  const named = [
    ...Object.values(config.aliases ?? {}).flatMap(aliasCandidates),
    ...Object.values(config.gateway?.models ?? {}),
  ];
  for (const name of named) {
    const slash = name.indexOf("/");
    if (slash > 0 && slash < name.length - 1) add(name.slice(0, slash), name.slice(slash + 1));
  }
  let listed: ReturnType<typeof registryModels>;
  try {
    listed = registryModels(registry);
  } catch {
    listed = undefined;
  }
  for (const [provider, ids] of listed ?? []) {
    if (provider === ROUTER_PROVIDER) continue;
    const known = targets.get(provider) ?? new Set<string>();
    for (const id of ids) known.add(id);
    targets.set(provider, known);
  }
  return targets;
}

/**
 * The `provider/model` a mistyped one probably meant (said by the gateway's 404, `/auto-router switch` and `resolve`).
 * With a provider that is served, only its model ids are compared (by the model part, so the shared provider does not
 * make an unrelated model look close); with an unknown provider, the whole name is compared with every served one
 * (`opnai/gpt-4.1-mini` -> `openai/gpt-4.1-mini`).
 */
export function nearTarget(name: string, config: RouterConfig, registry: RegistryLike | undefined): string | undefined {
  const slash = name.indexOf("/");
  if (slash <= 0 || slash === name.length - 1) return undefined;
  const targets = servedTargets(config, registry);
  const provider = name.slice(0, slash);
  const sameProvider = targets.get(provider);
  if (sameProvider) {
    const near = closestKey(name.slice(slash + 1), [...sameProvider]);
    return near === undefined ? undefined : `${provider}/${near}`;
  }
  return closestKey(
    name,
    [...targets].flatMap(([other, ids]) => [...ids].map((id) => `${other}/${id}`)),
  );
}
