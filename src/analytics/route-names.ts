// What `--route <name>` of the routing-* scripts means. The event log records route ids only (an alias, or
// `auto-router/<route>`, is resolved before a request is routed), so a name that is an alias of the routes file is
// resolved to its route id as the router resolves it (commands/name-resolution.ts), a `gateway.models` name as the
// gateway does (mapped first, then resolved: gateway/model-names.ts), and a name the log has no request of is
// answered with what was asked, what it resolved to, and the routes that do exist.
import { readFileSync } from "node:fs";
import { ROUTER_PROVIDER } from "../config/alias-names.ts";
import { defaultConfig } from "../config/defaults.ts";
import { closestKey } from "../config/key-suggestions.ts";
import { parseConfigText } from "../config/parse-config.ts";
import type { RouterConfig } from "../config/schema.ts";
import { resolveName } from "../commands/name-resolution.ts";

/** The routes file the router would read, as far as the scripts can tell. */
export interface RoutesView {
  file: string;
  /** Undefined when the file cannot be read or is invalid: then no alias is known. */
  config?: RouterConfig;
  /** The router runs on its built-in routes and aliases: there is no routes file, or the file has no routes. */
  builtIn?: "no-file" | "no-routes";
}

export function readRoutesView(file: string): RoutesView {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    // No file: the router's built-in routes and aliases are the ones in force.
    if ((error as NodeJS.ErrnoException).code === "ENOENT")
      return { file, config: defaultConfig(), builtIn: "no-file" };
    return { file };
  }
  const parsed = parseConfigText(text);
  return { file, config: parsed.config, ...(parsed.builtInRoutes && { builtIn: "no-routes" }) };
}

/** `--route` as asked, and the route id the log records for it. */
export interface RouteFilter {
  asked: string;
  routeId: string;
  /**
   * How `asked` became `routeId`: "alias" of the routes file, the "auto-router/<route>" model name, or a
   * "gateway-model" name the routes file's `gateway.models` maps to `mapped`.
   */
  via?: "alias" | "model-name" | "gateway-model";
  /** What `gateway.models` maps `asked` to (via "gateway-model"). */
  mapped?: string;
  /** The alias names a model rather than a route: the log has no route of that name to filter on. */
  aliasOfModel?: string;
}

export function resolveRouteFilter(asked: string, view: RoutesView): RouteFilter {
  const config = view.config;
  // The gateway maps a gateway.models name first, then resolves what it maps to as any other name: a route (by id,
  // alias or auto-router/<route>) is that route; a real target is served as the one-target route `provider/model`.
  const mapped = config?.gateway?.models?.[asked];
  if (config && mapped !== undefined) {
    const resolved = resolveName(mapped, config);
    const routeId =
      resolved === undefined
        ? mapped
        : resolved.kind === "route"
          ? resolved.routeId
          : `${resolved.provider}/${resolved.modelId}`;
    return { asked, routeId, via: "gateway-model", mapped };
  }
  if (config?.routes[asked]) return { asked, routeId: asked };
  if (config?.aliases?.[asked] !== undefined) {
    const resolved = resolveName(asked, config);
    if (resolved?.kind === "route") return { asked, routeId: resolved.routeId, via: "alias" };
    if (resolved?.kind === "model")
      return { asked, routeId: asked, aliasOfModel: `${resolved.provider}/${resolved.modelId}` };
  }
  // `auto-router/<name>` is the name under the router's provider, as pi's model list shows it: a route or an alias.
  const prefix = `${ROUTER_PROVIDER}/`;
  if (asked.startsWith(prefix) && asked.length > prefix.length) {
    const named = resolveRouteFilter(asked.slice(prefix.length), view);
    return { ...named, asked, via: named.via ?? (named.aliasOfModel ? undefined : "model-name") };
  }
  return { asked, routeId: asked };
}

/** One line for stderr when `--route` was an alias that was resolved: the report is of the route it names. */
export function resolvedRouteNote(filter: RouteFilter, view: RoutesView): string | undefined {
  const source =
    view.builtIn === "no-file"
      ? "a built-in alias: no routes file"
      : view.builtIn === "no-routes"
        ? `the built-in routes with the settings of ${view.file}, which has no routes of its own`
        : `the routes file ${view.file}`;
  if (filter.via === "alias")
    return `--route ${filter.asked} is an alias of route ${filter.routeId} (${source}): showing that route's requests`;
  if (filter.via === "model-name") return `--route ${filter.asked}: showing the requests of route ${filter.routeId}`;
  if (filter.via === "gateway-model")
    return `--route ${filter.asked} is mapped by gateway.models to ${filter.mapped} (${source}): showing the requests of route ${filter.routeId}`;
  return undefined;
}

/** Most routes named when --route matches none. */
const ROUTES_LISTED = 10;

const listed = (names: Iterable<string>): string => {
  const sorted = [...names].sort();
  const more = sorted.length > ROUTES_LISTED ? `, +${sorted.length - ROUTES_LISTED} more` : "";
  return `${sorted.slice(0, ROUTES_LISTED).join(", ")}${more}`;
};

/**
 * Why --route found nothing: what was asked (and the route it resolved to), the closest name it may have meant, the
 * routes the log has, and the routes and aliases of the routes file (or that it could not be read: no alias known).
 */
export function unknownRouteNote(
  filter: RouteFilter,
  routesInLog: ReadonlySet<string>,
  since: boolean,
  view?: RoutesView,
  until = false,
): string {
  const window =
    since && until ? " between --since and --until" : since ? " at or after --since" : until ? " before --until" : "";
  const config = view?.config;
  const configRoutes = config ? Object.keys(config.routes) : [];
  const aliases = config?.aliases ? Object.keys(config.aliases) : [];
  const gatewayNames = Object.keys(config?.gateway?.models ?? {});
  const candidates = new Set([...routesInLog, ...configRoutes, ...aliases, ...gatewayNames]);
  candidates.delete(filter.asked);
  const meant = filter.via || filter.aliasOfModel ? undefined : closestKey(filter.routeId, [...candidates]);
  const parts = [`routes in the log${window}: ${routesInLog.size === 0 ? "none" : listed(routesInLog)}`];
  if (view && config) {
    const source =
      view.builtIn === "no-file"
        ? `built-in routes (no routes file at ${view.file})`
        : view.builtIn === "no-routes"
          ? `built-in routes (${view.file} has no routes of its own)`
          : `routes in ${view.file}`;
    parts.push(`${source}: ${listed(configRoutes)}`);
    if (aliases.length > 0) parts.push(`aliases: ${listed(aliases)}`);
    if (gatewayNames.length > 0) parts.push(`gateway.models: ${listed(gatewayNames)}`);
  } else if (view) parts.push(`${view.file} is unreadable or invalid, so no alias is known`);
  const head = filter.aliasOfModel
    ? `--route ${filter.asked}: no requests for route ${filter.asked}: it is an alias of the model ${filter.aliasOfModel}, not of a route, and the log records route ids`
    : filter.via === "alias"
      ? `--route ${filter.asked}: no requests for route ${filter.routeId} (what the alias ${filter.asked} names) in the log${window}`
      : filter.via === "gateway-model"
        ? `--route ${filter.asked}: no requests for route ${filter.routeId} (what gateway.models maps ${filter.asked} to: ${filter.mapped}) in the log${window}`
        : `--route ${filter.asked}: no requests for route ${filter.routeId} in the log${window}`;
  return `${head}${meant ? `; did you mean "${meant}"?` : ""} (${parts.join("; ")})`;
}
