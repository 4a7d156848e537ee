// What a name typed after `/auto-router switch|resolve` means: an alias from the config, a route id,
// `auto-router/<route>`, or a `provider/model` id from pi's registry; the route such a name gives the subcommands that
// take a route (show, rules, explain). Also the completions for such names. The scripts import it too (route names),
// so it stays free of pi-ai: the model a mistyped name meant is in near-target.ts.
import type { Api, Model } from "@mariozechner/pi-ai";
import type { RouterConfig } from "../config/schema.ts";
import type { RegistryLike } from "../runtime/start-target.ts";
import type { CommandDeps, CompletionItem } from "./command-types.ts";

import { aliasCandidates, describeAlias, ROUTER_PROVIDER, routeIdOf } from "../config/alias-names.ts";
import { closestKey } from "../config/key-suggestions.ts";
import { earlierBuiltIn } from "../config/defaults.ts";

export { describeAlias, ROUTER_PROVIDER };
/** pi's catalogue has hundreds of models; a completion list longer than this is noise. */
export const MAX_MODEL_COMPLETIONS = 50;

export type ResolvedName =
  | { kind: "route"; routeId: string; alias?: string }
  | { kind: "model"; provider: string; modelId: string; alias?: string };

/** pi's ModelRegistry lists its models on every supported version; RegistryLike only declares what routing needs. */
type CatalogueRegistry = RegistryLike & { getAll?(): Model<Api>[]; getAvailable?(): Model<Api>[] };

function resolveDirect(name: string, config: RouterConfig): ResolvedName | undefined {
  if (config.routes[name]) return { kind: "route", routeId: name };
  const slash = name.indexOf("/");
  if (slash <= 0 || slash === name.length - 1) return undefined;
  const provider = name.slice(0, slash);
  const modelId = name.slice(slash + 1);
  if (provider === ROUTER_PROVIDER) return config.routes[modelId] ? { kind: "route", routeId: modelId } : undefined;
  // Model ids may contain slashes themselves (openrouter's "anthropic/claude-…"): split at the first one only.
  return { kind: "model", provider, modelId };
}

/** Whether pi can use a model now (it knows it and has credentials for it). */
export function usableModel(registry: RegistryLike | undefined): (provider: string, modelId: string) => boolean {
  return (provider, modelId) => {
    try {
      const model = registry?.find(provider, modelId);
      return model !== undefined && registry!.hasConfiguredAuth(model);
    } catch {
      return false;
    }
  };
}

/**
 * Aliases resolve one level deep (an alias naming another alias would be a loop waiting to happen). An alias with a
 * list of names resolves to the first that is a route or a model `usable` says pi can use now; when none is, to the
 * first that is a name at all (its use then says what is missing).
 */
export function resolveName(
  name: string,
  config: RouterConfig,
  usable?: (provider: string, modelId: string) => boolean,
): ResolvedName | undefined {
  const aliased = config.aliases?.[name];
  if (aliased === undefined) return resolveDirect(name, config);
  const resolved = aliasCandidates(aliased)
    .map((candidate) => resolveDirect(candidate, config))
    .filter((candidate): candidate is ResolvedName => candidate !== undefined);
  const chosen =
    resolved.find(
      (candidate) => candidate.kind === "route" || !usable || usable(candidate.provider, candidate.modelId),
    ) ?? resolved[0];
  return chosen ? { ...chosen, alias: name } : undefined;
}

/**
 * What `name` resolves to when that is served: a route, or a model pi's registry knows. Undefined otherwise: an alias
 * for which this is undefined points at nothing (its route was removed, or pi no longer knows its model), so neither
 * pi nor the gateway lists or suggests it.
 */
export function servedName(
  name: string,
  config: RouterConfig,
  registry: RegistryLike | undefined,
): ResolvedName | undefined {
  const resolved = resolveName(name, config, usableModel(registry));
  if (resolved?.kind !== "model") return resolved;
  let known = false;
  try {
    known = registry?.find(resolved.provider, resolved.modelId) !== undefined;
  } catch {
    known = false;
  }
  return known ? resolved : undefined;
}

/** The aliases that point at something served (servedName): those pi offers and suggests. */
export function servedAliases(config: RouterConfig, registry: RegistryLike | undefined): string[] {
  return Object.keys(config.aliases ?? {}).filter((alias) => servedName(alias, config, registry) !== undefined);
}

/** The earlier pi-auto-router's built-in names (`premium`, `subscription-coding`): the route in their place here. */
function earlierNameText(name: string, config: RouterConfig): string | undefined {
  const earlier = earlierBuiltIn(routeIdOf(name));
  if (!earlier || !Object.hasOwn(config.routes, earlier.inPlace)) return undefined;
  const what =
    earlier.route === routeIdOf(name)
      ? "is a built-in route of the earlier pi-auto-router"
      : `named the earlier pi-auto-router's built-in route ${earlier.route}`;
  return `"${name}" ${what}; "${earlier.inPlace}" is the route in its place here`;
}

/**
 * Why `name` resolves to nothing: an alias whose names are no route nor provider/model, or a name that is none of
 * them; with the route (or alias that points at something) it is closest to.
 */
export function unresolvedText(name: string, config: RouterConfig, registry: RegistryLike | undefined): string {
  const routes = Object.keys(config.routes);
  const aliased = config.aliases?.[name];
  if (aliased !== undefined) {
    const last = aliasCandidates(aliased).at(-1) ?? "";
    const near = closestKey(routeIdOf(last), routes);
    return `alias ${name} points at "${describeAlias(aliased)}", which is neither a route nor provider/model${near ? `; did you mean "${near}"?` : ` (routes: ${routes.join(", ")})`}`;
  }
  // A dead alias is no better a guess than the name typed: switching to it would fail too. It is listed apart, so a
  // user looking for an alias of their own finds it and why it cannot be used.
  const served = servedAliases(config, registry);
  const dead = Object.keys(config.aliases ?? {}).filter((alias) => !served.includes(alias));
  const earlier = earlierNameText(name, config);
  if (earlier) return `${earlier} (routes: ${routes.join(", ")})`;
  const near = closestKey(routeIdOf(name), [...routes, ...served]);
  return `"${name}" is neither a route, an alias nor provider/model${near ? `; did you mean "${near}"?` : ""} (routes: ${routes.join(", ")}; aliases: ${served.join(", ") || "none"}${dead.length ? `; aliases pointing at nothing: ${dead.join(", ")}` : ""})`;
}

/**
 * The route a subcommand that takes one (show, rules, explain) is given, named as `switch` takes a route: its id,
 * `auto-router/<route>` or an alias of it; or why the name is none (a model, a dead alias, a typo with the route meant).
 */
export function resolveRouteName(
  name: string,
  config: RouterConfig,
  registry: RegistryLike | undefined,
): { routeId: string } | { error: string } {
  const usable = usableModel(registry);
  const resolved = resolveName(name, config, usable);
  if (resolved?.kind === "route") return { routeId: resolved.routeId };
  const routes = Object.keys(config.routes);
  const routeAliases = Object.keys(config.aliases ?? {}).filter(
    (alias) => resolveName(alias, config, usable)?.kind === "route",
  );
  const known = `(routes: ${routes.join(", ") || "none"}${routeAliases.length ? `; aliases: ${routeAliases.join(", ")}` : ""})`;
  if (resolved)
    return {
      error: resolved.alias
        ? `"${name}" is an alias of the model ${describeResolved(resolved)}, not of a route ${known}`
        : `"${name}" names a model, not a route ${known}`,
    };
  if (config.aliases?.[name] !== undefined) return { error: unresolvedText(name, config, registry) };
  const earlier = earlierNameText(name, config);
  if (earlier) return { error: `${earlier} ${known}` };
  const near = closestKey(routeIdOf(name), [...routes, ...routeAliases]);
  return { error: `"${name}" is not a route${near ? `; did you mean "${near}"?` : ""} ${known}` };
}

export function describeResolved(resolved: ResolvedName): string {
  return resolved.kind === "route"
    ? `${ROUTER_PROVIDER}/${resolved.routeId}`
    : `${resolved.provider}/${resolved.modelId}`;
}

/** Every model pi knows (`available` = only those with credentials), the router's own virtual models left out. */
export function catalogueModels(deps: CommandDeps, options: { available?: boolean } = {}): Model<Api>[] {
  const registry = deps.runtime.registry() as CatalogueRegistry | undefined;
  let models: Model<Api>[] = [];
  try {
    models = (options.available ? registry?.getAvailable?.() : registry?.getAll?.()) ?? [];
  } catch {
    // A registry that cannot list (not loaded yet) offers no completions rather than an error.
  }
  return models.filter((model) => model.provider !== ROUTER_PROVIDER);
}

export function aliasCompletions(prefix: string, config: RouterConfig): CompletionItem[] {
  return Object.entries(config.aliases ?? {})
    .filter(([alias]) => alias.startsWith(prefix))
    .map(([alias, target]) => ({ value: alias, label: alias, description: `alias of ${describeAlias(target)}` }));
}

/** Routes, aliases and provider/model ids; with an empty prefix only models that have credentials. */
export function nameCompletions(prefix: string, deps: CommandDeps): CompletionItem[] {
  const config = deps.config();
  const routes = Object.entries(config.routes)
    .filter(([id]) => id.startsWith(prefix))
    .map(([id, route]) => ({ value: id, label: id, description: route.name ?? route.description ?? "route" }));
  const models = catalogueModels(deps, { available: prefix === "" })
    .map((model) => ({ key: `${model.provider}/${model.id}`, model }))
    .filter(({ key }) => key.startsWith(prefix))
    .slice(0, MAX_MODEL_COMPLETIONS)
    .map(({ key, model }) => ({ value: key, label: key, description: model.name }));
  const served = new Set(servedAliases(config, deps.runtime.registry()));
  const aliases = aliasCompletions(prefix, config).filter((item) => served.has(item.value));
  return exactFirst([...routes, ...aliases, ...models], prefix);
}

/**
 * The name typed in full first, the rest in their order: pi's editor takes the first completion on Enter, so an
 * alias `o` typed whole must not become the route `other` listed before it.
 */
export function exactFirst(items: CompletionItem[], prefix: string): CompletionItem[] {
  const exact = items.findIndex((item) => item.value === prefix);
  return exact <= 0 ? items : [items[exact]!, ...items.slice(0, exact), ...items.slice(exact + 1)];
}
