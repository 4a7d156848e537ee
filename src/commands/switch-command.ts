// /auto-router switch <route|alias|provider/model>: selects the model pi uses, as /model would.
import type { RouterConfig } from "../config/schema.ts";
import type { RegistryLike } from "../runtime/start-target.ts";
import type { Subcommand } from "./command-types.ts";
import {
  describeResolved,
  nameCompletions,
  resolveName,
  ROUTER_PROVIDER,
  servedAliases,
  unresolvedText,
  usableModel,
} from "./name-resolution.ts";
import { nearTarget } from "./near-target.ts";
import { configNotice } from "./route-commands.ts";

/**
 * The picker's lines, each to the name it switches to: route ids bare; an alias with what it points at, and one
 * naming a model says it leaves the router (picking it bare looked like picking a route).
 */
function pickerChoices(config: RouterConfig, registry: RegistryLike | undefined): Map<string, string> {
  const choices = new Map(Object.keys(config.routes).map((id) => [id, id]));
  for (const alias of servedAliases(config, registry)) {
    if (config.routes[alias]) continue;
    const resolved = resolveName(alias, config, usableModel(registry));
    if (!resolved) continue;
    const outside = resolved.kind === "model" ? " (one model, not routed)" : "";
    choices.set(`${alias} → ${describeResolved(resolved)}${outside}`, alias);
  }
  return choices;
}

export const switchCommand: Subcommand = {
  name: "switch",
  usage: "switch <route|alias|provider/model>",
  maxArguments: 1,
  description: "Switch pi to an auto-router route (by id or alias) or straight to one provider/model",
  complete: (prefix, deps) => nameCompletions(prefix, deps),
  async run(args, deps, output) {
    const config = deps.config();
    let name: string | undefined = args[0];
    if (!name && output.select) {
      const choices = pickerChoices(config, deps.runtime.registry());
      const picked = await output.select("Switch to which route?", [...choices.keys()]);
      if (!picked) return output.info("switch cancelled");
      name = choices.get(picked) ?? picked;
    }
    if (!name) return output.error(`usage: /auto-router ${switchCommand.usage}`);
    const resolved = resolveName(name, config, usableModel(deps.runtime.registry()));
    if (!resolved) return output.error(`switch: ${unresolvedText(name, config, deps.runtime.registry())}`);
    const [provider, modelId] =
      resolved.kind === "route" ? [ROUTER_PROVIDER, resolved.routeId] : [resolved.provider, resolved.modelId];
    const target = describeResolved(resolved);
    const via = resolved.alias ? ` (alias ${resolved.alias})` : "";
    if (!(await deps.switchModel(provider, modelId))) {
      const known = deps.runtime.registry()?.find(provider, modelId);
      if (known) return output.error(`cannot switch to ${target}${via}: pi has no credentials for it`);
      // The model the gateway would suggest for the same mistyped name.
      const near = nearTarget(target, config, deps.runtime.registry());
      return output.error(
        `cannot switch to ${target}${via}: pi does not know that model${near ? `; did you mean "${near}"?` : ""}`,
      );
    }
    // A routes file that is invalid with no good copy to run on: the route is selected, but its requests fail until the
    // file is fixed, which the switch must say (as list and show do) rather than read as a working route.
    const notice = resolved.kind === "route" ? configNotice(deps) : undefined;
    if (notice?.declared)
      return output.warn(
        `switched to ${target}${via}, but its requests fail until the routes file is fixed: ${notice.text}`,
      );
    output.info(`switched to ${target}${via}`);
  },
};
