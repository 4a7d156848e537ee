// Where a proxied request without a model goes: among the providers advertising its path (in the routes file's
// order, the preferences' `order` first), the first one the request's provider preferences (X-Provider, body
// `provider`, the config's own) allow; it is served by its first route target's model.
import type { ProviderPreferences } from "../config/routing-schema.ts";
import type { RouterConfig } from "../config/schema.ts";
import { checkPreferences, describePreferences, mergePreferences, providerIndex } from "../routing/preferences.ts";
import { advertisedPrefixes, advertises } from "./endpoint-prefixes.ts";
import { GatewayError } from "./errors.ts";

interface PathTarget {
  provider: string;
  modelId: string;
  authProvider?: string;
}

/** Each provider advertising the path with its first route target, in the routes file's order. */
function advertisingTargets(config: RouterConfig, path: string): PathTarget[] {
  const found: PathTarget[] = [];
  for (const [provider, prefixes] of advertisedPrefixes(config)) {
    if (!advertises(prefixes, path)) continue;
    const target = Object.values(config.routes)
      .flatMap((route) => route.targets)
      .find((item) => item.provider === provider);
    if (target) found.push(target);
  }
  return found;
}

/**
 * The target of a request without a model; undefined when no provider advertises the path, a 400 naming the path
 * and the preferences when none of those that do passes them.
 */
export function noModelTarget(
  config: RouterConfig,
  method: string,
  path: string,
  asked: ProviderPreferences,
): { provider: string; modelId: string } | undefined {
  const targets = advertisingTargets(config, path);
  if (targets.length === 0) return undefined;
  const preferences = mergePreferences({ global: config.preferences, prompt: asked });
  const names = (target: PathTarget) => [target.provider.toLowerCase(), target.authProvider?.toLowerCase()] as const;
  const rank = (target: PathTarget) => {
    const index = providerIndex(preferences.order, ...names(target));
    return index < 0 ? Number.MAX_SAFE_INTEGER : index;
  };
  const refused: string[] = [];
  for (const target of [...targets].sort((a, b) => rank(a) - rank(b))) {
    // No model facts: a price limit is checked on the chosen target by the router, as for any route.
    const rejection = checkPreferences(preferences, ...names(target), undefined);
    if (!rejection) return { provider: target.provider, modelId: target.modelId };
    refused.push(`${target.provider}: ${rejection.detail}`);
  }
  throw new GatewayError(
    400,
    "invalid_request",
    `no provider advertising ${method} ${path} matches the provider preferences (${describePreferences(preferences).join("; ")}): ${refused.join("; ")}`,
  );
}
