// /auto-router balance [show|fetch] | balance floor <provider> <amount [currency]|off|clear>
// A floor set by command is kept in the limits store beside budget set's limits (auto-router.budget-limits.json; the
// team's in team mode) and overrides the config's floor as a command-set limit overrides the config's limit.
import { formatDuration } from "../analytics/text-format.ts";
import type { CommandDeps, CommandOutput, Subcommand } from "../commands/command-types.ts";
import { table } from "../commands/format.ts";
import { FLOOR_EXPECTED, type FloorAmount, formatMoney, parseFloorAmount, USD } from "../config/floor-amount.ts";
import { closestKey } from "../config/key-suggestions.ts";
import type { RouterConfig } from "../config/schema.ts";
import { redactText } from "../state/redact.ts";
import {
  BALANCE_FIRST_WAIT_MS,
  BALANCE_STALE_AFTER_MS,
  type BalanceSource,
  balanceIn,
  formatBalances,
  isStale,
} from "./balance-book.ts";
import { limitCell, pick } from "./budget-commands.ts";
import {
  clearLimitOperation,
  type EffectiveLimit,
  sameProvider,
  setLimitOperation,
  switchedOff,
} from "./budget-limits.ts";
import type { BudgetService } from "./budget-service.ts";
import { unknownWordText } from "../commands/unknown-word.ts";

const BALANCE_ACTIONS = ["show", "fetch", "floor"] as const;
const BALANCE_GRAMMAR = "balance [show|fetch] | balance floor <provider> <amount [currency]|off|clear>";
const BALANCE_USAGE = `/auto-router ${BALANCE_GRAMMAR}`;

/** The balance source `written` names (its own spelling first, then any case), and every source's name. */
export function floorSources(
  sources: readonly BalanceSource[],
  written: string,
): { source?: BalanceSource; names: string[] } {
  const source =
    sources.find((candidate) => candidate.provider === written) ??
    sources.find((candidate) => sameProvider(candidate.provider, written));
  return { source, names: sources.map((candidate) => candidate.provider).sort() };
}

/**
 * The words after the provider: an amount of 0 or more with its currency ("5", "$2.50", "30 CNY", "30cny"), null for
 * `off`, "clear" to let the config apply again; or what is wrong with them.
 */
export function parseFloorValue(words: readonly string[]): FloorAmount | null | "clear" | { problem: string } {
  const text = words.join(" ");
  if (text.toLowerCase() === "clear") return "clear";
  if (text.toLowerCase() === "off") return null;
  return parseFloorAmount(text, ", off or clear");
}

/** A floor's cell: as a limit's, and "(set)" for a command-set floor no config floor is under. */
const floorLimitCell = (floor: EffectiveLimit): string =>
  `${limitCell(floor)}${floor.source === "command" && floor.overrides === undefined ? " (set)" : ""}`;

export function createBalanceSubcommand(service: BudgetService): Subcommand {
  /**
   * The balance table: each provider's balance, the floor in force and where it comes from, and how fresh it is; and
   * a warning line (its own notification, not the table's heading) when a reading is stale.
   */
  function showBalances(now: number, config: RouterConfig): { text: string; staleWarning?: string } {
    const sources = service.balanceSources();
    const views = new Map(service.views(now).map((view) => [view.provider, view]));
    const rows = sources.map((source) => {
      const entry = service.balanceNow(source.provider, now);
      const view = views.get(source.provider);
      const floor = view?.limits.balanceFloor;
      const known = entry?.amount !== undefined;
      const value = formatBalances(entry);
      const off = floor
        ? undefined
        : switchedOff(config.budgets, service.limits.read(), source.provider, "balanceFloor");
      const floorCell = !floor
        ? off
          ? `off (set${off.config ? `, config ${formatMoney(off.config.amount, off.config.currency)}` : ""})`
          : "-"
        : known && balanceIn(entry, floor.currency) === undefined
          ? `${floorLimitCell(floor)}, not applied: balance in ${[entry.currency ?? "USD", ...Object.keys(entry.others ?? {})].join(", ")}`
          : `${floorLimitCell(floor)}${view?.audit.balance?.level === "blocked" ? " BLOCKED" : ""}`;
      const fetched = entry?.fetchedAt !== undefined ? `${formatDuration(now - entry.fetchedAt)} ago` : "never";
      const state =
        !known && service.balances.fetching(source.provider)
          ? "fetching (the floor applies once the balance is known)"
          : entry?.stale
            ? // Before any reading there is nothing stale: the fetch failed, and the floor waits for one that succeeds.
              `${known ? "stale" : "fetch failed"}: ${entry.error ?? "fetch failed"}`
            : entry?.fetchedAt === undefined
              ? "not fetched (try balance fetch)"
              : isStale(entry, now)
                ? `stale: not refreshed in ${formatDuration(BALANCE_STALE_AFTER_MS)}`
                : "fresh";
      return [source.provider, value, floorCell, fetched, state];
    });
    const stale: string[] = [];
    const none: string[] = [];
    for (const source of sources) {
      const entry = service.balances.get(source.provider);
      if (entry === undefined || !isStale(entry, now)) continue;
      // Before any reading, only a provider with a floor waits for one; the table says the fetch failed either way.
      if (entry.amount !== undefined) stale.push(source.provider);
      else if (views.get(source.provider)?.limits.balanceFloor) none.push(source.provider);
    }
    const warnings = [
      ...(stale.length > 0
        ? [
            `stale balance: ${stale.join(", ")} (see its state above); a floor is compared with the last reading (less the USD spent since) until a fetch succeeds`,
          ]
        : []),
      ...(none.length > 0
        ? [
            `no balance yet for ${none.join(", ")}: ${none.length === 1 ? "its floor applies" : "their floors apply"} once a fetch succeeds`,
          ]
        : []),
    ];
    return {
      text: table(["provider", "balance", "floor", "fetched", "state"], rows),
      ...(warnings.length > 0 && { staleWarning: warnings.join("\n") }),
    };
  }

  /** `balance floor <provider> <amount [currency]|off|clear>`: a command-set floor, kept in the limits store. */
  async function setFloor(args: string[], deps: CommandDeps, output: CommandOutput): Promise<void> {
    const [written, ...value] = args;
    if (!written) return output.error(`balance floor: expected a provider and an amount\nusage: ${BALANCE_USAGE}`);
    // A key pasted in place of the provider name would be stored in the limits file as a provider.
    if (redactText(written) !== written)
      return output.error("balance floor: that provider name looks like an API key or token; nothing was changed");
    if (value.length > 2)
      return output.error(`balance floor: unexpected "${value.slice(2).join(" ")}"\nusage: ${BALANCE_USAGE}`);
    const sources = floorSources(service.balanceSources(), written);
    if (!sources.source) {
      const near = closestKey(written, sources.names);
      return output.error(
        `balance floor: ${written} has no balance source (providers with one: ${sources.names.join(", ") || "none: no target uses deepseek or openrouter"})${near ? `. Did you mean "${near}"?` : ""}\nusage: ${BALANCE_USAGE}`,
      );
    }
    const provider = sources.source.provider;
    const parsed = parseFloorValue(value);
    if (parsed !== null && typeof parsed === "object" && "problem" in parsed)
      return output.error(
        value.length === 0
          ? `balance floor: expected an amount after ${provider}: ${FLOOR_EXPECTED}, off or clear\nusage: ${BALANCE_USAGE}`
          : `balance floor: ${parsed.problem}\nusage: ${BALANCE_USAGE}`,
      );
    const now = deps.now();
    if (parsed === "clear") {
      const commandSet = service.limits.read().providers;
      const held = Object.entries(commandSet).some(
        ([other, limits]) => sameProvider(other, provider) && limits.balanceFloor !== undefined,
      );
      if (!held) {
        const others = Object.keys(commandSet).filter((name) => commandSet[name]?.balanceFloor !== undefined);
        return output.info(
          `balance floor clear: no balance floor for ${provider} was set by command, so nothing changed` +
            ` (set by command: ${others.sort().join(", ") || "none"})`,
        );
      }
      service.limits.update(clearLimitOperation(provider, "balanceFloor", now));
    } else
      service.limits.update(setLimitOperation(provider, "balanceFloor", parsed?.amount ?? null, now, parsed?.currency));
    await service.limits.flush();
    // A floor with no balance known yet: its first fetch now (one another window made within the TTL is reused), so
    // the next prompt is already compared with it; waited for as briefly as a first prompt waits (a balance API that
    // hangs would hold the command for its timeouts and retries), the table then says it is still fetching.
    await service.balances.firstReadings([sources.source], BALANCE_FIRST_WAIT_MS);
    const applied = service.views(deps.now()).find((view) => view.provider === provider)?.limits.balanceFloor;
    const inForce = applied
      ? `the floor is now ${formatMoney(applied.amount, applied.currency)} (${applied.source === "config" ? "config" : "set by command"})`
      : "no floor applies now";
    const said =
      parsed === "clear"
        ? `balance floor set by command for ${provider} cleared; the config's floor (if any) applies again: ${inForce}`
        : parsed === null
          ? `balance floor for ${provider} switched off${switchedOff(deps.config().budgets, service.limits.read(), provider, "balanceFloor")?.config ? " (also overrides the config)" : ""}`
          : `balance floor for ${provider} set to ${formatMoney(parsed.amount, parsed.currency)}`;
    const shown = showBalances(deps.now(), deps.config());
    output.info(`${said}\n${shown.text}`);
    if (shown.staleWarning) output.warn(shown.staleWarning);
  }

  const balance: Subcommand = {
    name: "balance",
    usage: "balance [show|fetch|floor]",
    fullUsage: BALANCE_GRAMMAR,
    description:
      "Prepaid balances (DeepSeek, OpenRouter); fetch to refresh; floor <provider> <amount|off|clear> sets the floor",
    maxArguments: { show: 1, fetch: 1 },
    complete(prefix) {
      const words = prefix.split(/\s+/);
      const last = (values: readonly string[], typed = words.at(-1) ?? "") =>
        pick(values, typed).map((item) => ({
          ...item,
          value: [...words.slice(0, -1), item.value].join(" "),
        }));
      if (words.length <= 1) return last(BALANCE_ACTIONS);
      if (words[0] !== "floor") return [];
      // Only providers with a balance source take a floor.
      if (words.length === 2)
        return last(
          service
            .balanceSources()
            .map((source) => source.provider)
            .sort(),
        );
      if (words.length === 3) return last(["off", "clear"]);
      // After an amount: the currencies the provider's balance is in, so a floor is written in one it is compared with.
      if (words.length === 4 && /^\d/.test(words[2]!)) {
        const { source } = floorSources(service.balanceSources(), words[1]!);
        const entry = source ? service.balances.get(source.provider) : undefined;
        const currencies = [entry?.currency ?? USD, ...Object.keys(entry?.others ?? {})];
        return entry?.amount === undefined ? [] : last(currencies, words[3]!.toUpperCase());
      }
      return [];
    },
    async run(args, deps, output) {
      const action = args[0] ?? "show";
      if (!(BALANCE_ACTIONS as readonly string[]).includes(action))
        return output.error(unknownWordText("balance", "action", action, BALANCE_ACTIONS, BALANCE_USAGE));
      if (action === "floor") return setFloor(args.slice(1), deps, output);
      const sources = service.balanceSources();
      if (sources.length === 0)
        return output.info("no target uses a provider with a known balance API (deepseek, openrouter)");
      if (action === "fetch") await Promise.all(sources.map((source) => service.balances.refresh(source, true)));
      const shown = showBalances(deps.now(), deps.config());
      output.info(shown.text);
      if (shown.staleWarning) output.warn(shown.staleWarning);
    },
  };
  return balance;
}
