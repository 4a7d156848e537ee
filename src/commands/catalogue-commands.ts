// models, search: the real models behind the routes, and a search over routes and pi's whole model catalogue.
import type { RouterConfig } from "../config/schema.ts";
import { targetKey } from "../routing/types.ts";
import type { CommandDeps, Subcommand } from "./command-types.ts";
import { formatPrice, plural, table } from "./format.ts";
import { catalogueModels } from "./name-resolution.ts";
import { configNotice } from "./route-commands.ts";

/** More rows than this make a search result unreadable; the rest is counted, not shown. */
export const MAX_SEARCH_ROWS = 40;

/** Route ids that use each provider/model. */
function routesByTarget(config: RouterConfig): Map<string, string[]> {
  const byTarget = new Map<string, string[]>();
  for (const [routeId, route] of Object.entries(config.routes)) {
    for (const target of route.targets) {
      const key = targetKey(target.provider, target.modelId);
      const list = byTarget.get(key) ?? [];
      if (!list.includes(routeId)) list.push(routeId);
      byTarget.set(key, list);
    }
  }
  return byTarget;
}

const formatTokens = (count: number | undefined): string =>
  count === undefined
    ? "-"
    : count >= 1_000_000
      ? `${+(count / 1_000_000).toFixed(1)}M`
      : count >= 1000
        ? `${Math.round(count / 1000)}k`
        : String(count);

/** Every word of the query appears (case-insensitively) in the text. */
export function matchesQuery(text: string, query: string): boolean {
  const haystack = text.toLowerCase();
  return query
    .toLowerCase()
    .split(/\s+/)
    .filter(Boolean)
    .every((word) => haystack.includes(word));
}

export const modelsCommand: Subcommand = {
  name: "models",
  usage: "models",
  maxArguments: 0,
  description: "Every distinct model the routes use: capabilities, context, credentials, price, routes",
  async run(_args, deps, output) {
    // As list: an invalid file without a good copy has route ids and no targets (an empty table said nothing).
    const notice = configNotice(deps);
    if (notice?.declared) return output.error(`auto-router: ${notice.text}`);
    if (notice) output.warn(`auto-router: ${notice.text}`);
    const facts = deps.runtime.currentFacts();
    const byTarget = routesByTarget(deps.config());
    const registry = deps.runtime.registry();
    const rows = [...byTarget.entries()].map(([key, routes]) => {
      const fact = facts[key];
      const [provider, ...rest] = key.split("/");
      const model = registry?.find(provider!, rest.join("/"));
      const capabilities =
        [fact?.reasoning ? "reasoning" : "", fact?.vision ? "vision" : ""].filter(Boolean).join(",") || "-";
      const credentials = !fact?.resolvable
        ? "missing model"
        : !fact.hasCredentials
          ? "none"
          : fact.usesOAuth
            ? "OAuth"
            : "API key";
      return [
        key,
        model?.name ?? "-",
        capabilities,
        formatTokens(fact?.contextWindow),
        formatTokens(fact?.maxTokens),
        credentials,
        fact?.pricing ? `${formatPrice(fact.pricing.input)}/${formatPrice(fact.pricing.output)}` : "-",
        routes.join(","),
      ];
    });
    output.info(
      `${plural(rows.length, "model")} in ${plural(Object.keys(deps.config().routes).length, "route")}\n${table(["provider/model", "name", "capabilities", "context", "max out", "credentials", "$/1M in/out", "routes"], rows)}`,
    );
  },
};

function searchText(query: string, deps: CommandDeps): string {
  const config = deps.config();
  const lines: string[] = [];
  const routes = Object.entries(config.routes).filter(([id, route]) =>
    matchesQuery(`${id} ${route.name ?? ""} ${route.description ?? ""}`, query),
  );
  if (routes.length) {
    lines.push(`routes (${routes.length}):`);
    for (const [id, route] of routes) lines.push(`  auto-router/${id}${route.name ? ` — ${route.name}` : ""}`);
  }
  const byTarget = routesByTarget(config);
  const registry = deps.runtime.registry();
  const models = catalogueModels(deps).filter((model) =>
    matchesQuery(`${model.provider}/${model.id} ${model.name}`, query),
  );
  if (models.length) {
    const rows = models.slice(0, MAX_SEARCH_ROWS).map((model) => {
      const key = targetKey(model.provider, model.id);
      let credentials = false;
      try {
        credentials = registry?.hasConfiguredAuth(model) ?? false;
      } catch {
        // Shown as "no", like routing treats it.
      }
      return [
        key,
        model.name,
        credentials ? "yes" : "no",
        formatTokens(model.contextWindow),
        model.cost ? `${formatPrice(model.cost.input)}/${formatPrice(model.cost.output)}` : "-",
        byTarget.get(key)?.join(",") ?? "-",
      ];
    });
    lines.push(
      `models (${models.length}${models.length > MAX_SEARCH_ROWS ? `, first ${MAX_SEARCH_ROWS} shown` : ""}):`,
    );
    lines.push(table(["provider/model", "name", "credentials", "context", "$/1M in/out", "in routes"], rows));
  }
  return lines.length
    ? lines.join("\n")
    : `nothing matches "${query}" (searched ${plural(Object.keys(config.routes).length, "route")} and ${plural(catalogueModels(deps).length, "model")})`;
}

export const searchCommand: Subcommand = {
  name: "search",
  usage: "search <query>",
  description: "Find routes and models (pi's whole catalogue) whose id or name contains every word of the query",
  complete: (prefix, deps) => {
    if (prefix.includes(" ")) return [];
    const providers = [...new Set(catalogueModels(deps).map((model) => model.provider))]
      .filter((provider) => provider.startsWith(prefix))
      .sort();
    return providers.map((provider) => ({ value: provider, label: provider, description: "provider" }));
  },
  async run(args, deps, output) {
    const query = args.join(" ").trim();
    if (!query) return output.error(`usage: /auto-router ${searchCommand.usage}`);
    output.info(searchText(query, deps));
  },
};
