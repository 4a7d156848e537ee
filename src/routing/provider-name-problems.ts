// A provider name in a request's own preferences (`@only=`/`@ignore=`, the gateway's X-Provider or a body's
// `provider`) that no route has, but that is a letter or two from a provider of the route, is a typo. Served anyway,
// the request would go to the very provider it meant to leave out (`ignore`), or lose one it asked for (`only`,
// `order`), without a word: it is refused instead, naming the provider meant. "Near" is as for the routes file's
// provider ids (two edits, more for long names), and nearer to one provider than to any other (`mock-zz` is as near
// to mock-a as to mock-b: no typo of either). A name far from every provider of the
// route (a generic client's `ignore: ["deepinfra"]`) or one another route has is no typo and changes nothing.
// A name both in the request's `only` and its `ignore` (`@only=a,b @ignore=a`) is refused too: which of the two it
// meant is not known, and serving `b` alone, or nothing, would answer a question it did not ask.
import { closestId } from "../config/spelling.ts";
import type { ProviderPreferences } from "../config/routing-schema.ts";
import { isDirectModel } from "./direct-model.ts";

type Target = { provider: string; authProvider?: string };

const LISTS = ["only", "ignore", "order"] as const;
/** What every request without such preferences gets: route() runs for every request, so nothing is allocated. */
const NONE: readonly string[] = Object.freeze([]);

/** `"alpah" (ignore) is no provider of route main; did you mean "alpha"?`, one per typo or contradiction; empty when there is none. */
export function providerNameProblems(
  preferences: ProviderPreferences | undefined,
  routeId: string,
  targets: readonly Target[],
  routes: Record<string, { targets: readonly Target[] }>,
  /** Where the names were looked for, when not a route's targets (a proxied path's providers). */
  scope = isDirectModel(routeId) ? `of model ${routeId}` : `of route ${routeId}`,
): readonly string[] {
  if (!preferences || (!preferences.only && !preferences.ignore && !preferences.order)) return NONE;
  const ofRoute = providerNames(targets);
  const lowerOfRoute = new Set(ofRoute.map((name) => name.toLowerCase()));
  let known: Set<string> | undefined;
  const hints: string[] = [];
  if (preferences.only && preferences.ignore) {
    const ignored = new Set(preferences.ignore.map((name) => name.toLowerCase()));
    for (const name of preferences.only)
      if (ignored.has(name.toLowerCase())) hints.push(`"${name}" is in both only and ignore; keep it in one of them.`);
  }
  for (const list of LISTS) {
    const names = preferences[list];
    if (!names) continue;
    for (const name of names) {
      if (lowerOfRoute.has(name.toLowerCase())) continue;
      known ??= new Set(
        Object.values(routes).flatMap((route) => providerNames(route.targets).map((known) => known.toLowerCase())),
      );
      if (known.has(name.toLowerCase())) continue;
      const meant = closestId(name, ofRoute, true);
      if (meant) hints.push(`"${name}" (${list}) is no provider ${scope}; did you mean "${meant}"?`);
    }
  }
  return hints;
}

function providerNames(targets: readonly Target[]): string[] {
  const names = new Set<string>();
  for (const target of targets) {
    names.add(target.provider);
    if (target.authProvider) names.add(target.authProvider);
  }
  return [...names];
}
