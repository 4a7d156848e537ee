// What an alias of the routes file points at: one name, or (the earlier pi-auto-router's form) a list of names tried
// in order. A name is a route id, `auto-router/<route>`, or provider/model (commands/name-resolution.ts resolves it).
import type { RouterConfig } from "./schema.ts";

/** The router's own provider id: `auto-router/<route>` names a route. */
export const ROUTER_PROVIDER = "auto-router";

export const aliasCandidates = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

/** An alias's names as shown: `a -> b -> c` for a list. */
export const describeAlias = (value: string | string[]): string => aliasCandidates(value).join(" -> ");

/** A route's id from a name that may be written `auto-router/<route>` (any other name as it is). */
export const routeIdOf = (name: string): string =>
  name.startsWith(`${ROUTER_PROVIDER}/`) ? name.slice(ROUTER_PROVIDER.length + 1) : name;

/** Whether a name is one of the config's routes, by id or as `auto-router/<route>`. */
export const namesRoute = (name: string, config: RouterConfig): boolean =>
  config.routes[name] !== undefined ||
  (name.startsWith(`${ROUTER_PROVIDER}/`) && config.routes[name.slice(ROUTER_PROVIDER.length + 1)] !== undefined);
