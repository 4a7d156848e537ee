// aliases, resolve: the short names of the config (`aliases`) and what any name resolves to right now.
import type { CommandDeps, Subcommand } from "./command-types.ts";
import { formatPrice, plural, table } from "./format.ts";
import {
  aliasCompletions,
  describeAlias,
  describeResolved,
  exactFirst,
  nameCompletions,
  resolveName,
  type ResolvedName,
  unresolvedText,
  usableModel,
} from "./name-resolution.ts";
import { nearTarget } from "./near-target.ts";
import { configNotice } from "./route-commands.ts";

/** Whether a resolved name can be used now: the route exists, or pi knows the model and has credentials for it. */
function resolvedState(resolved: ResolvedName | undefined, deps: CommandDeps): string {
  if (!resolved) return "unresolved";
  if (resolved.kind === "route")
    // An invalid routes file without a good copy: its route ids are known, their targets are not ("0 targets").
    return deps.services.config.state.origin === "declared"
      ? "route, failing every request until the routes file is fixed (it is invalid, with no good copy)"
      : `route, ${plural(deps.config().routes[resolved.routeId]!.targets.length, "target")}`;
  const registry = deps.runtime.registry();
  const model = registry?.find(resolved.provider, resolved.modelId);
  if (!model) return registry ? "unknown model" : "model (registry not loaded)";
  let credentials = false;
  try {
    credentials = registry!.hasConfiguredAuth(model);
  } catch {
    // Treated as no credentials, like routing does.
  }
  return credentials ? "model, ready" : "model, no credentials";
}

export const aliasesCommand: Subcommand = {
  name: "aliases",
  usage: "aliases",
  maxArguments: 0,
  description: "The configured aliases and what each resolves to",
  async run(_args, deps, output) {
    const config = deps.config();
    const entries = Object.entries(config.aliases ?? {});
    // As rules: the file's aliases are not read while it is invalid with no good copy (not "none configured").
    const notice = configNotice(deps);
    if (notice?.declared)
      return output.error(
        `auto-router: ${notice.text}\nno aliases are loaded: the file's aliases apply once it is fixed`,
      );
    if (entries.length === 0)
      return output.info(
        'no aliases configured (add "aliases": {"short": "route-id or provider/model"} to the routes file)',
      );
    const usable = usableModel(deps.runtime.registry());
    const rows = entries.map(([alias, target]) => {
      const resolved = resolveName(alias, config, usable);
      return [alias, describeAlias(target), resolved ? describeResolved(resolved) : "-", resolvedState(resolved, deps)];
    });
    output.info(table(["alias", "points at", "resolves to", "state"], rows));
  },
};

/**
 * resolve under the name it is called by (`test-resolve` is its earlier name): its usage and refusals say the name the
 * user typed, as the dispatcher's own refusals of a subcommand do.
 */
function resolveSubcommand(name: string, description: string): Subcommand {
  const usage = `${name} <alias>`;
  return {
    name,
    usage,
    maxArguments: 1,
    description,
    // Every alias first (the one pointing at nothing too: resolve says why), then the route ids it also takes; with no
    // alias matching, the route ids and models (pi's catalogue would bury the aliases under hundreds of models).
    complete: (prefix, deps) => {
      const config = deps.config();
      const aliases = aliasCompletions(prefix, config);
      if (aliases.length === 0) return nameCompletions(prefix, deps);
      const offered = new Set(aliases.map((item) => item.value));
      const routes = Object.entries(config.routes)
        .filter(([id]) => id.startsWith(prefix) && !offered.has(id))
        .map(([id, route]) => ({ value: id, label: id, description: route.name ?? route.description ?? "route" }));
      return exactFirst([...aliases, ...routes], prefix);
    },
    async run(args, deps, output) {
      const asked = args[0];
      if (!asked) return output.error(`usage: /auto-router ${usage}`);
      const config = deps.config();
      const resolved = resolveName(asked, config, usableModel(deps.runtime.registry()));
      if (!resolved) return output.error(`${name}: ${unresolvedText(asked, config, deps.runtime.registry())}`);
      const state = resolvedState(resolved, deps);
      // The model the gateway would suggest for the same mistyped name.
      const near =
        state === "unknown model" ? nearTarget(describeResolved(resolved), config, deps.runtime.registry()) : undefined;
      const lines = [
        `${asked} → ${describeResolved(resolved)}${resolved.alias ? " (alias)" : ""}: ${state}${near ? `; did you mean "${near}"?` : ""}`,
      ];
      if (resolved.kind === "route") {
        const route = config.routes[resolved.routeId]!;
        if (route.name) lines.push(route.name);
        lines.push(
          ...route.targets.map(
            (target, index) =>
              `  ${index + 1}. ${target.provider}/${target.modelId}${target.enabled === false ? " (disabled)" : ""}`,
          ),
        );
      } else {
        const model = deps.runtime.registry()?.find(resolved.provider, resolved.modelId);
        if (model) {
          const price = model.cost
            ? `, $${formatPrice(model.cost.input)}/${formatPrice(model.cost.output)} per 1M in/out`
            : "";
          lines.push(
            `  ${model.name}: context ${model.contextWindow}, max output ${model.maxTokens}${model.reasoning ? ", reasoning" : ""}${price}`,
          );
        }
      }
      // A name pi knows no model for cannot be used: said as the unknown names are (a print-mode run exits 1).
      if (state === "unknown model") return output.error(lines.join("\n"));
      output.info(lines.join("\n"));
    },
  };
}

export const resolveCommand = resolveSubcommand(
  "resolve",
  "What an alias (or route id, or provider/model) resolves to, and whether it can be used now",
);

/** The earlier pi-auto-router's name for `resolve`, which its README's flows still use. */
export const testResolveCommand = resolveSubcommand(
  "test-resolve",
  "Same as resolve (the earlier pi-auto-router's name)",
);
