// Targets (and alias names) whose provider or model id pi does not know, each with the closest known id: a misspelled
// id otherwise only shows up as a target that is silently never used. Pure: the known ids are an argument.
import { aliasCandidates, namesRoute, ROUTER_PROVIDER } from "./alias-names.ts";
import { formatIssue } from "./issues.ts";
import { closestId } from "./spelling.ts";
import type { RouterConfig } from "./schema.ts";

/** provider id -> its model ids, as pi knows them (catalogue, models.json, other extensions). */
export type KnownModels = ReadonlyMap<string, readonly string[]>;

export interface UnknownTarget {
  /** One warning per distinct unknown provider or provider/model. */
  key: string;
  /** Where it is first used, e.g. `routes.swe.targets[1]`. */
  path: string;
  message: string;
}

/** `; did you mean 'alpha'?` after a message about an unknown id, or nothing when no known id is near. */
export const didYouMean = (id: string | undefined) => (id ? `; did you mean '${id}'?` : "");

export function findUnknownTargets(config: RouterConfig, known: KnownModels): UnknownTarget[] {
  const found = new Map<string, UnknownTarget>();
  for (const [routeId, route] of Object.entries(config.routes)) {
    route.targets.forEach((target, index) => {
      const path = `routes.${routeId}.targets[${index}]`;
      const models = known.get(target.provider);
      if (!models) {
        if (!found.has(target.provider)) {
          const message = `provider '${target.provider}' is not known to pi${didYouMean(closestId(target.provider, known.keys()))}`;
          found.set(target.provider, { key: target.provider, path, message });
        }
        return;
      }
      const key = `${target.provider}/${target.modelId}`;
      if (models.includes(target.modelId) || found.has(key)) return;
      const message = `model '${target.modelId}' is not known to pi for provider '${target.provider}'${didYouMean(closestId(target.modelId, models))}`;
      found.set(key, { key, path, message });
    });
  }
  // An alias may name any model pi knows, in a route or not (`/auto-router switch` goes to it); only one pi does not
  // know does nothing (a list skips it). Route names (`auto-router/<route>`, a route id) are not models.
  for (const [alias, value] of Object.entries(config.aliases ?? {})) {
    aliasCandidates(value).forEach((name, index) => {
      const slash = name.indexOf("/");
      if (slash <= 0 || namesRoute(name, config) || name.startsWith(`${ROUTER_PROVIDER}/`)) return;
      const path = Array.isArray(value) ? `aliases.${alias}[${index}]` : `aliases.${alias}`;
      // Split at the first slash, as the alias is resolved: openrouter's model ids contain slashes themselves.
      const provider = name.slice(0, slash);
      const modelId = name.slice(slash + 1);
      const models = known.get(provider);
      if (!models) {
        if (found.has(provider)) return;
        const message = `provider '${provider}' is not known to pi${didYouMean(closestId(provider, known.keys()))}`;
        found.set(provider, { key: provider, path, message });
        return;
      }
      if (models.includes(modelId) || found.has(name)) return;
      const message = `model '${modelId}' is not known to pi for provider '${provider}'${didYouMean(closestId(modelId, models))}`;
      found.set(name, { key: name, path, message });
    });
  }
  // The routes file's per-provider settings (endpointPrefixes...) under an id pi does not know apply to nothing.
  for (const provider of Object.keys(config.providers ?? {})) {
    if (known.has(provider) || found.has(provider)) continue;
    const message = `provider '${provider}' is not known to pi, so these settings apply to nothing${didYouMean(closestId(provider, known.keys()))}`;
    found.set(provider, { key: provider, path: `providers.${provider}`, message });
  }
  return [...found.values()];
}

/**
 * Warns about each unknown target: once per key in a session; before one, only for a run that never starts one.
 * `locate` gives the line and column of a path in `file`, when known.
 */
export function reportUnknownTargets(
  targets: UnknownTarget[],
  file: string,
  sink: { hasSession: boolean; warnOnce(key: string, text: string): void; warnIfNoSession(text: string): void },
  locate?: (path: string) => { line: number; column: number } | undefined,
  /** pi could not load models.json (it then knows only its built-in models): said first, as the likely cause. */
  modelsFile?: { path: string; error: string },
): void {
  if (modelsFile) {
    const text = `auto-router: pi could not load ${modelsFile.path}, so none of its providers is known to pi: ${modelsFile.error}`;
    if (sink.hasSession) sink.warnOnce("models-file-error", text);
    else sink.warnIfNoSession(text);
  }
  for (const target of targets) {
    const issue = {
      severity: "warning" as const,
      path: target.path,
      message: target.message,
      ...locate?.(target.path),
    };
    const text = `auto-router: ${formatIssue(file, issue)}`;
    if (sink.hasSession) sink.warnOnce(`unknown-target:${target.key}`, text);
    else sink.warnIfNoSession(text);
  }
}
