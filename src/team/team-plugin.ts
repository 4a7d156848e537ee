// Team mode inside the router: the status-line mark while the team store is unreachable, the fail-closed hard
// budget (`state.onStoreDown: "block"`), and the `/auto-router state` command (backend status and `push`).
import type { FeaturePlugin, Subcommand } from "../commands/command-types.ts";
import type { RouterConfig } from "../config/schema.ts";
import type { ProviderStatus } from "../routing/types.ts";
import { STORE_DOWN_REFUSAL } from "./redis-ledger.ts";
import type { StateBackend } from "./state-backend.ts";
import type { BackendStatus } from "./team-connection.ts";
import { unknownWordText } from "../commands/unknown-word.ts";
import { plural } from "../commands/format.ts";

export const STORE_DOWN_MARK = "team store down";

export function describeBackendLines(status: BackendStatus): string[] {
  if (status.backend === "file")
    return [
      `state backend: file store (machine ${status.machine})`,
      // A team store that was asked for and could not be used (an invalid state.url): said here, not only at start.
      ...(status.lastError ? [`  not the team store: ${status.lastError}`] : []),
      // A machine switched back from team mode: its budgets here count none of the spend it recorded there.
      ...(status.teamViewAt !== undefined
        ? [
            `  this machine ran in team mode (its view of the team store, auto-router.team-*.json, last written ${new Date(status.teamViewAt).toISOString()}): the file store does not read it, so the spend, limits and cooldowns of team mode do not count here; state.backend "redis" uses them again`,
          ]
        : []),
    ];
  return [
    `state backend: redis ${status.url} (machine ${status.machine})`,
    `  connection: ${status.connection}${status.lastError ? ` (${status.lastError})` : ""}`,
    `  lag: ${describeLag(status)}`,
    `  round trips since start: ${status.roundTrips}`,
    // Machines share state only under one prefix: a machine on another is alone, whatever its URL.
    ...(status.keyPrefix !== undefined ? [`  team keys: ${status.keyPrefix}*`] : []),
  ];
}

/** Writes that wait for their store's batch (latency every 5 s) or their answer are said to be on time, not a lag. */
function describeLag(status: BackendStatus): string {
  if (status.pendingWrites === 0) return "none, every write is in the team store";
  const batched = status.batchedWrites;
  const due = `sent within ${Math.max(1, Math.ceil((status.batchDueMs ?? 0) / 1000))} s`;
  if (batched === status.pendingWrites)
    return `none late, ${plural(batched, "write")} batched or being sent (${due}), as usual right after an answer`;
  const late = `${plural(status.pendingWrites - batched, "write")} waiting, oldest ${Math.round(status.lagMs / 1000)} s`;
  return batched === 0 ? late : `${late}; ${batched} more batched (${due})`;
}

export function stateCommand(backend: StateBackend): Subcommand {
  return {
    name: "state",
    usage: "state [push]",
    maxArguments: 1,
    description:
      "State backend (file or team store): connection, lag; push adds this machine's file-store state to the team store",
    complete: (prefix) =>
      ["push"].filter((word) => word.startsWith(prefix)).map((word) => ({ value: word, label: word })),
    async run(args, deps, output) {
      await backend.ready(); // a command typed right at start reports the first sync's outcome, not "connecting"
      if (args[0] === undefined) return output.info(describeBackendLines(backend.describe(deps.now())).join("\n"));
      if (args[0] !== "push")
        return output.error(unknownWordText("state", "action", args[0], ["push"], "/auto-router state [push]"));
      const results = await backend.pushLocal();
      output.info(["state push:", ...results.map((entry) => `  ${entry.name}: ${entry.result}`)].join("\n"));
    },
  };
}

/**
 * `limitedProviders`: the providers with a daily or monthly limit, from the config or set by command (the budget's
 * limits, which its reservation checks): while the team's ledger is unreachable their hard budget fails closed.
 */
export function createTeamPlugin(
  backend: StateBackend,
  config: () => RouterConfig,
  limitedProviders: () => string[],
): FeaturePlugin {
  // Refused (a user without `@write`) is down for what the team's state can be trusted for: the reservation is refused
  // as "the team store is down" meanwhile, so the mark and the fail-closed budget say it too (the state word stays).
  const down = (now: number) => {
    const connection = backend.describe(now).connection;
    return connection === "down" || connection === "refused";
  };
  return {
    name: "team",
    statusWarnings: (now) => (down(now) ? [STORE_DOWN_MARK] : []),
    providerStatus(now) {
      const settings = backend.settings;
      const current = config();
      if (
        settings.backend !== "redis" ||
        settings.onStoreDown !== "block" ||
        current.budgets?.policy !== "hard" ||
        !down(now)
      )
        return {};
      const result: Record<string, ProviderStatus> = {};
      for (const provider of limitedProviders())
        result[provider] = { budget: { level: "blocked", detail: STORE_DOWN_REFUSAL, spendUnknown: true } };
      return result;
    },
    subcommands: [stateCommand(backend)],
  };
}
