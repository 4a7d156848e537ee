// Where a proxied request without a model goes: the targets of the providers advertising its path (each provider's
// models as the routes name them, in the routes file's order) that the request's provider preferences (X-Provider,
// body `provider`, the config's own) allow, in the order they are tried: the preferences' `order` first, then their
// `sort` (`price`: the cheapest model first, by its input plus output price in pi's registry), with `max_price`
// checked against each model's output price, as for a routed request. The engine then fails over among them as on a
// route, skipping a resting one (rest-key.ts: its rests are those of the routes naming it).
import type { ProviderPreferences } from "../config/routing-schema.ts";
import type { RouterConfig } from "../config/schema.ts";
import { providerNameProblems } from "../routing/provider-name-problems.ts";
import { checkPreferences, describePreferences, mergePreferences, providerIndex } from "../routing/preferences.ts";
import { type ModelFacts, targetKey } from "../routing/types.ts";
import { advertisedPrefixes, advertises } from "./endpoint-prefixes.ts";
import { GatewayError } from "./errors.ts";

interface PathTarget {
  provider: string;
  modelId: string;
  authProvider?: string;
}

/** USD per 1M tokens of a model, as pi's registry prices it (undefined: unknown). */
export type ModelPrices = (provider: string, modelId: string) => { input: number; output: number } | undefined;

/** A target's provider and account as the preference checks compare them (lower case). */
const names = (target: PathTarget) => [target.provider.toLowerCase(), target.authProvider?.toLowerCase()] as const;

/**
 * The one target of a route a request other than a POST goes to (it names a resource one provider holds): the first of
 * the route's targets advertising the path that the request's merged provider preferences allow, else the first (which
 * the decision then refuses in the preferences' words).
 */
export function firstAllowed(
  targets: readonly PathTarget[],
  preferences: ProviderPreferences,
  facts: Record<string, ModelFacts>,
): string {
  const first =
    targets.find(
      (target) => !checkPreferences(preferences, ...names(target), facts[targetKey(target.provider, target.modelId)]),
    ) ?? targets[0]!;
  return `${first.provider}/${first.modelId}`;
}

/** Each target of every provider advertising the path, once each, in the routes file's order of providers. */
function advertisingTargets(config: RouterConfig, path: string): PathTarget[] {
  const found = new Map<string, PathTarget>();
  const all = Object.values(config.routes).flatMap((route) => route.targets);
  for (const [provider, prefixes] of advertisedPrefixes(config)) {
    if (!advertises(prefixes, path)) continue;
    for (const target of all)
      if (target.provider === provider && !found.has(`${provider}/${target.modelId}`))
        found.set(`${provider}/${target.modelId}`, target);
  }
  return [...found.values()];
}

/**
 * The targets of a request without a model, in the order to try them; undefined when no provider advertises the path,
 * a 400 naming the path and the preferences when none of those that do passes them (or when a provider they name is a
 * typo of one).
 */
export function noModelTargets(
  config: RouterConfig,
  method: string,
  path: string,
  asked: ProviderPreferences,
  prices: ModelPrices = () => undefined,
): Array<{ provider: string; modelId: string }> | undefined {
  const targets = advertisingTargets(config, path);
  if (targets.length === 0) return undefined;
  const problems = providerNameProblems(asked, "", targets, config.routes, `advertising ${method} ${path}`);
  if (problems.length > 0)
    throw new GatewayError(
      400,
      "invalid_request",
      `auto-router: ${problems.join(" ")} Nothing was sent: correct the name in the request's provider preferences (the X-Provider header or the body's provider). Waiting will not change this.`,
      { "x-should-retry": "false" },
    );
  const preferences = mergePreferences({ global: config.preferences, prompt: asked });
  const rank = (target: PathTarget) => {
    const index = providerIndex(preferences.order, ...names(target));
    return index < 0 ? Number.MAX_SAFE_INTEGER : index;
  };
  const priceOf = (target: PathTarget) => {
    const price = prices(target.provider, target.modelId);
    return price ? price.input + price.output : Number.POSITIVE_INFINITY; // unknown prices last
  };
  const byPrice = preferences.sort === "price";
  const ordered = [...targets].sort((a, b) => rank(a) - rank(b) || (byPrice ? priceOf(a) - priceOf(b) : 0));
  const refused = new Set<string>();
  const allowed: Array<{ provider: string; modelId: string }> = [];
  for (const target of ordered) {
    const pricing = prices(target.provider, target.modelId);
    const rejection = checkPreferences(preferences, ...names(target), {
      resolvable: true,
      hasCredentials: true,
      pricing,
    });
    if (!rejection) {
      allowed.push({ provider: target.provider, modelId: target.modelId });
      continue;
    }
    // A price belongs to the model; the other preferences name the provider.
    const who = rejection.reason === "price" ? `${target.provider}/${target.modelId}` : target.provider;
    refused.add(`${who}: ${rejection.detail}`);
  }
  if (allowed.length > 0) return allowed;
  throw new GatewayError(
    400,
    "invalid_request",
    `no provider advertising ${method} ${path} matches the provider preferences (${describePreferences(preferences).join("; ")}): ${[...refused].join("; ")}`,
    { "x-should-retry": "false" },
  );
}
