// explain, reload, reset: reading the last decision back, picking up config edits, clearing learned state.
import { formatDecision } from "../routing/explain.ts";
import type { Subcommand } from "./command-types.ts";
import { formatDuration } from "./format.ts";
import { routeCompletions } from "./route-commands.ts";

export const explainCommand: Subcommand = {
  name: "explain",
  usage: "explain [route]",
  description: "Why the last request of a route went where it went (from its recorded trace, not recomputed)",
  complete: (prefix, deps) => routeCompletions(prefix, deps),
  async run(args, deps, output) {
    const last = args[0] ? deps.runtime.lastDecision(args[0]) : deps.runtime.allLastDecisions()[0];
    if (!last) {
      return output.info(args[0] ? `no request has been routed through ${args[0]} in this session yet` : "no request has been routed in this session yet");
    }
    const served = last.servedKey ? `served by ${last.servedKey}${last.failovers ? ` after ${last.failovers} failover(s)` : ""}` : `outcome: ${last.outcome ?? "pending"}`;
    output.info([`request ${last.requestId.slice(0, 8)} on ${last.decision.requestedRouteId}, ${formatDuration(deps.now() - last.at)} ago, ${served}`, ...formatDecision(last.decision)].join("\n"));
  },
};

export const reloadCommand: Subcommand = {
  name: "reload",
  usage: "reload",
  description: "Re-read the routes file and re-register the auto-router models",
  async run(_args, deps, output) {
    const lines = deps.reload();
    const loaded = deps.services.config.state;
    const summary = loaded.origin === "file" ? `reloaded ${loaded.file}: ${Object.keys(loaded.config.routes).length} routes`
      : loaded.origin === "defaults" ? `no valid routes file at ${loaded.file}; using the built-in routes`
      : `${loaded.file} is invalid; keeping the last good config`;
    (loaded.issues.some((i) => i.severity === "error") ? output.warn : output.info)([summary, ...lines].join("\n"));
  },
};

const RESET_SCOPES = ["cooldowns", "latency", "all"] as const;

export const resetCommand: Subcommand = {
  name: "reset",
  usage: "reset [cooldowns|latency|all]",
  description: "Clear learned state (never the event log)",
  complete: (prefix) => RESET_SCOPES.filter((s) => s.startsWith(prefix)).map((s) => ({ value: s, label: s })),
  async run(args, deps, output) {
    const scope = args[0] ?? "cooldowns";
    if (!(RESET_SCOPES as readonly string[]).includes(scope)) return output.error(`usage: /auto-router reset [${RESET_SCOPES.join("|")}]`);
    if (scope === "all" && output.confirm && !(await output.confirm("Reset auto-router state?", "Clears cooldowns and latency averages. The event log is kept."))) {
      return output.info("reset cancelled");
    }
    const done: string[] = [];
    if (scope === "cooldowns" || scope === "all") done.push(`${deps.runtime.cooldowns.clear(deps.now())} cooldown(s) cleared`);
    if (scope === "latency" || scope === "all") {
      deps.runtime.latency.clear();
      done.push("latency averages cleared");
    }
    output.info(`${done.join("; ")}. The event log is never deleted.`);
  },
};
