// Which route serves a model name a client sent: `gateway.models` maps any incoming name first (Claude Code only
// sends Anthropic model ids), then the same names `/auto-router switch` understands: an alias, a route id,
// `auto-router/<route>`, or `provider/model` (one real target, served through a one-target route). A proxied request
// that names no model goes to a provider advertising its path (proxy-target.ts).
import { describeAlias } from "../config/alias-names.ts";
import { closestKey } from "../config/key-suggestions.ts";
import type { RouterConfig } from "../config/schema.ts";
import { noModelRouteId } from "../routing/rest-key.ts";
import { targetKey } from "../routing/types.ts";
import { ROUTER_PROVIDER, servedName } from "../commands/name-resolution.ts";
import { nearTarget } from "../commands/near-target.ts";
import type { RegistryLike } from "../runtime/start-target.ts";
import { redactText } from "../state/redact.ts";
import { GatewayError } from "./errors.ts";
import { ownRecord } from "../own-record.ts";

export type ModelChoice = { kind: "route"; routeId: string } | { kind: "target"; provider: string; modelId: string };

export function resolveModelName(
  name: string,
  config: RouterConfig,
  registry: RegistryLike | undefined,
): ModelChoice | undefined {
  const resolved = servedName(config.gateway?.models?.[name] ?? name, config, registry);
  if (!resolved) return undefined;
  return resolved.kind === "route"
    ? { kind: "route", routeId: resolved.routeId }
    : { kind: "target", provider: resolved.provider, modelId: resolved.modelId };
}

/**
 * The names a client can list: every route as auto-router/<route>, then the aliases that name something served. An
 * alias whose route was removed, or whose model pi no longer knows, points at nothing: listed, a client would pick it
 * and get a 404.
 */
export function listedModelNames(config: RouterConfig, registry: RegistryLike | undefined): string[] {
  return [
    ...Object.keys(config.routes).map((id) => `${ROUTER_PROVIDER}/${id}`),
    ...Object.keys(config.aliases ?? {}).filter((alias) => resolveModelName(alias, config, registry) !== undefined),
  ];
}

/**
 * One model as both APIs' clients read it: OpenAI's `object`, `created` and `owned_by`, and Anthropic's `type`,
 * `display_name` and `created_at` (the Anthropic SDKs of typed languages refuse a model without them).
 */
export const modelObject = (id: string) => ({
  id,
  object: "model",
  created: 0,
  owned_by: "auto-router",
  type: "model",
  display_name: id,
  created_at: "1970-01-01T00:00:00Z",
});

/** Anthropic's paging of `GET /v1/models` (`?limit=&after_id=&before_id=`); OpenAI's list takes none of them. */
export interface ModelPageQuery {
  limit?: unknown;
  after_id?: unknown;
  before_id?: unknown;
}

/** Anthropic's largest page. */
const MOST_PER_PAGE = 1000;

const invalidQuery = (name: string, message: string) =>
  new GatewayError(400, "invalid_request", `query.${name}: ${message}`);

/** A query parameter's one value (`?limit=1&limit=2` is no value the API takes). */
function queryValue(query: ModelPageQuery, name: keyof ModelPageQuery): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw invalidQuery(name, "expected one value");
  return value;
}

/**
 * `GET /v1/models`: OpenAI's list and Anthropic's page in one body. Without `query` (an OpenAI client, whose API has
 * no paging) or a `limit`, every name is on one page; with them, Anthropic's page: at most `limit` names after
 * `after_id`, or the last `limit` before `before_id`, `has_more` saying whether more lie beyond it (after the page,
 * or before it when paging back), `first_id` and `last_id` the page's own.
 */
export function modelList(config: RouterConfig, query: ModelPageQuery = {}, registry?: RegistryLike) {
  const names = listedModelNames(config, registry);
  const limitText = queryValue(query, "limit");
  const afterId = queryValue(query, "after_id");
  const beforeId = queryValue(query, "before_id");
  let limit = names.length;
  if (limitText !== undefined) {
    limit = /^\d+$/.test(limitText) ? Number(limitText) : Number.NaN;
    if (!(limit >= 1 && limit <= MOST_PER_PAGE))
      throw invalidQuery("limit", `expected an integer from 1 to ${MOST_PER_PAGE} (got ${JSON.stringify(limitText)})`);
  }
  if (afterId !== undefined && beforeId !== undefined)
    throw invalidQuery("before_id", "send either after_id or before_id, not both");
  const positionOf = (name: "after_id" | "before_id", id: string) => {
    const index = names.indexOf(id);
    if (index < 0) throw invalidQuery(name, `${JSON.stringify(id)} is not a model this list has`);
    return index;
  };
  let start = 0;
  let end = Math.min(names.length, limit);
  let hasMore = end < names.length;
  if (afterId !== undefined) {
    start = positionOf("after_id", afterId) + 1;
    end = Math.min(names.length, start + limit);
    hasMore = end < names.length;
  } else if (beforeId !== undefined) {
    end = positionOf("before_id", beforeId);
    start = Math.max(0, end - limit);
    hasMore = start > 0;
  }
  const data = names.slice(start, end).map(modelObject);
  return { object: "list", data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}

const knownRoutes = (config: RouterConfig, registry: RegistryLike | undefined) =>
  `known routes: ${listedModelNames(config, registry).join(", ") || "(none configured)"}`;

/**
 * The name a client probably meant: the closest in spelling of the names it could have sent (none when none is near).
 * An `auto-router/<route>` name is compared by its route part, so the shared prefix does not make an unrelated route
 * look close (`auto-router/embed` is no typo of `auto-router/main`); any other `provider/model` also with the real
 * targets that would be served (nearTarget).
 */
function nearName(name: string, config: RouterConfig, registry: RegistryLike | undefined): string | undefined {
  const prefix = `${ROUTER_PROVIDER}/`;
  if (name.startsWith(prefix)) {
    const rest = name.slice(prefix.length);
    // The prefix names routes only: an alias, a gateway.models name or a provider/model behind it (`auto-router/fast`,
    // as the routes are listed) is served without it.
    if (rest !== "" && resolveModelName(rest, config, registry)) return rest;
    const near = closestKey(rest, Object.keys(config.routes));
    return near === undefined ? undefined : `${prefix}${near}`;
  }
  // A gateway.models name mapped to nothing served is no better a guess than the name sent.
  const names = [
    ...listedModelNames(config, registry),
    ...Object.keys(config.routes),
    ...Object.keys(config.gateway?.models ?? {}).filter((mapped) => resolveModelName(mapped, config, registry)),
  ];
  return closestKey(name, names) ?? nearTarget(name, config, registry);
}

/** What the unknown-model text says of where a name came from (a JSON body's model goes without saying). */
const NAME_SOURCES = { body: "", header: " (from the `X-Model` header)", form: " (from the form's `model` field)" };

/** The most of an unknown name an error repeats: a client that sent a whole document as its model gets its start. */
const SHOWN_NAME_CHARS = 100;

/**
 * `name` quoted, its first SHOWN_NAME_CHARS characters only when longer, with its length. Cut after redaction: a key
 * the cut went through would keep too little of its shape to be redacted later, in the error line.
 */
const quotedName = (name: string): string =>
  name.length > SHOWN_NAME_CHARS
    ? `${JSON.stringify(redactText(name).slice(0, SHOWN_NAME_CHARS))}... (${name.length} characters)`
    : JSON.stringify(name);

/** `from`: where the name came from; the X-Model header is said, since a client may not know it sends one. */
export function unknownModelText(
  name: string,
  config: RouterConfig,
  registry: RegistryLike | undefined,
  from: "body" | "header" | "form" = "body",
): string {
  const mapped = config.gateway?.models?.[name];
  const shown = `model ${quotedName(name)}${NAME_SOURCES[from]}`;
  const known = knownRoutes(config, registry);
  const deadAlias = (alias: string, aliased: string | string[]) =>
    `an alias of ${JSON.stringify(describeAlias(aliased))}, which is no route and no model pi knows: the alias points at nothing (fix or remove aliases.${alias} in the routes file)`;
  if (mapped !== undefined) {
    const aliased = config.aliases?.[mapped];
    if (aliased !== undefined)
      return `${shown} is mapped by gateway.models to ${JSON.stringify(mapped)}, ${deadAlias(mapped, aliased)}; ${known}`;
    // The name meant, as the start warning gives it (deadModelMappings for a provider/model, the routes file's check
    // for a route).
    const near = nearMapping(mapped, config, registry);
    return `${shown} is mapped by gateway.models to ${JSON.stringify(mapped)}, which is not a route, an alias or a model pi knows${near ? `; did you mean ${JSON.stringify(near)}?` : ""}; ${known}`;
  }
  const aliased = config.aliases?.[name];
  if (aliased !== undefined) return `${shown} is ${deadAlias(name, aliased)}; ${known}`;
  const near = nearName(name, config, registry);
  return `${shown} is not served here; ${near ? `did you mean ${JSON.stringify(near)}? ` : ""}${known}`;
}

/** Whether a gateway.models value names a `provider/model` (not a route or an alias, which the routes file checks). */
const namesModel = (value: string, config: RouterConfig): boolean =>
  value.indexOf("/") > 0 && !value.startsWith(`${ROUTER_PROVIDER}/`) && config.aliases?.[value] === undefined;

/**
 * What a gateway.models value that names nothing probably meant: for a provider/model, the closest served name; for
 * anything else, the closest route by its route part, as the routes file's own check of the mapping says.
 */
function nearMapping(value: string, config: RouterConfig, registry: RegistryLike | undefined): string | undefined {
  if (namesModel(value, config)) return nearName(value, config, registry);
  const prefix = `${ROUTER_PROVIDER}/`;
  const near = closestKey(value.startsWith(prefix) ? value.slice(prefix.length) : value, Object.keys(config.routes));
  return near === undefined ? undefined : `${prefix}${near}`;
}

/**
 * The `gateway.models` entries mapped to a `provider/model` pi does not know, or to an alias that points at nothing,
 * each with its path and the closest name that is served: requested, each would be a 404. (A mapping to a name that
 * is no route or alias at all is warned about with the routes file.)
 */
export function deadModelMappings(
  config: RouterConfig,
  registry: RegistryLike | undefined,
): Array<{ path: string; message: string }> {
  const found: Array<{ path: string; message: string }> = [];
  for (const [name, value] of Object.entries(config.gateway?.models ?? {})) {
    const aliased = config.aliases?.[value];
    if ((aliased === undefined && !namesModel(value, config)) || resolveModelName(name, config, registry)) continue;
    if (aliased !== undefined) {
      found.push({
        path: `gateway.models.${name}`,
        message: `"${value}" is an alias of "${describeAlias(aliased)}", which points at nothing, so requests for "${name}" get a 404 (fix aliases.${value}, or map "${name}" to a route)`,
      });
      continue;
    }
    const near = nearName(value, config, registry);
    found.push({
      path: `gateway.models.${name}`,
      message: `"${value}" is not a model pi knows, so requests for "${name}" get a 404${near ? `; did you mean "${near}"?` : ""}`,
    });
  }
  return found;
}

/** A chat request that names no model, in its body or its X-Model header. */
export function noModelText(config: RouterConfig, registry?: RegistryLike): string {
  return `body.model: no model named; send it as the body's \`model\` or in the \`X-Model\` header; ${knownRoutes(config, registry)}`;
}

/**
 * One-target routes for `provider/model` requests, and the routes of proxied requests without a model (over the
 * targets advertising the path: rest-key.ts), added to the config the runtime routes with. Their id contains a `/`,
 * which a configured route id cannot, so they never shadow one.
 */
export class DirectRoutes {
  private readonly keys = new Map<string, Array<{ provider: string; modelId: string }>>();
  private cache: { base: RouterConfig; size: number; derived: RouterConfig } | undefined;

  add(provider: string, modelId: string): string {
    const routeId = `${provider}/${modelId}`;
    this.keys.set(routeId, [{ provider, modelId }]);
    return routeId;
  }

  /** The route of a proxied request without a model over these targets, tried in this order. */
  addNoModel(targets: Array<{ provider: string; modelId: string }>): string {
    const routeId = noModelRouteId(targets.map((target) => targetKey(target.provider, target.modelId)));
    this.keys.set(routeId, targets);
    return routeId;
  }

  apply(base: RouterConfig): RouterConfig {
    if (this.keys.size === 0) return base;
    if (this.cache?.base === base && this.cache.size === this.keys.size) return this.cache.derived;
    const routes = ownRecord(base.routes);
    for (const [routeId, targets] of this.keys) routes[routeId] ??= { sortBy: "config", targets };
    const derived = { ...base, routes };
    this.cache = { base, size: this.keys.size, derived };
    return derived;
  }
}
