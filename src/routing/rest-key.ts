// Where a target's rests (cooldowns) are kept for a route. Cooldowns are kept per route and target (routeTargetKey).
// A request through the gateway's wildcard proxy that names no model has no route of its own: it runs on a
// pseudo-route over the targets advertising its path (noModelRouteId), whose targets rest where the first route of the
// routes file naming them rests them. So a 429 a routed request met is honoured by a request without a model, and one
// a request without a model meets is known to the routed requests after it: one state, read and written through here.
import type { RouteConfig } from "../config/schema.ts";
import { routeTargetKey, type TargetKey, targetKey } from "./types.ts";

const NO_MODEL_PREFIX = "(no-model: ";

/**
 * The pseudo-route of a request without a model over these targets, in the order they are tried. Its id holds a `/`
 * (a target key), which a configured route id cannot, so it never shadows one.
 */
export const noModelRouteId = (keys: readonly TargetKey[]): string => `${NO_MODEL_PREFIX}${keys.join(", ")})`;

/** The route whose rests of `key` apply to `routeId`: itself, or for a request without a model the first naming it. */
function restRoute(routes: Record<string, RouteConfig> | undefined, routeId: string, key: TargetKey): string {
  if (!routes || !routeId.startsWith(NO_MODEL_PREFIX)) return routeId;
  for (const [id, route] of Object.entries(routes)) {
    // Configured routes only: a one-target `provider/model` route's id holds a `/`, as a pseudo-route's does.
    if (id.includes("/")) continue;
    if (route.targets.some((target) => targetKey(target.provider, target.modelId) === key)) return id;
  }
  return routeId;
}

/**
 * Whether a rest of `key` kept for `routeId` leaves the route it is kept on another target to send its requests to. A
 * route with no other (one target, one provider/model listed several times, the others `enabled: false`) gains
 * nothing from resting it after a failure of its own (a server error, a timeout): the rest would only make pi's retry,
 * or the client's, wait for it.
 */
export function restSteers(routes: Record<string, RouteConfig> | undefined, routeId: string, key: TargetKey): boolean {
  const targets = routes?.[restRoute(routes, routeId, key)]?.targets;
  return (
    targets === undefined ||
    targets.some((target) => target.enabled !== false && targetKey(target.provider, target.modelId) !== key)
  );
}

/** The cooldown key of target `key` on route `routeId` (routes: the config the runtime routes with). */
export const restKey = (routes: Record<string, RouteConfig> | undefined, routeId: string, key: TargetKey): string =>
  routeTargetKey(restRoute(routes, routeId, key), key);
