// /auto-router switch <route|alias|provider/model>: selects the model pi uses, as /model would.
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
      const choices = [
        ...Object.keys(config.routes),
        ...servedAliases(config, deps.runtime.registry()).filter((alias) => !config.routes[alias]),
      ];
      name = await output.select("Switch to which route?", choices);
      if (!name) return output.info("switch cancelled");
    }
    if (!name) return output.error(`usage: /auto-router ${switchCommand.usage}`);
    const resolved = resolveName(name, config, usableModel(deps.runtime.registry()));
    if (!resolved) return output.error(unresolvedText(name, config, deps.runtime.registry()));
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
    output.info(`switched to ${target}${via}`);
  },
};
