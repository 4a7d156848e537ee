// /auto-router budget [show] | budget set <provider> <usd|off> [daily|monthly] | budget clear <provider> [daily|monthly]
import { closestKey } from "../config/key-suggestions.ts";
import { dailyAboveMonthly } from "../config/silent-strategies.ts";
import { redactText } from "../state/redact.ts";
import type { CompletionItem, Subcommand } from "../commands/command-types.ts";
import { table } from "../commands/format.ts";
import { formatDuration, formatUsd, plural } from "../analytics/text-format.ts";
import { currencyProblem, formatMoney, parseFloorAmount, USD } from "../config/floor-amount.ts";
import { balanceAge, formatShare, type PeriodAudit } from "./budget-audit.ts";
import { standingRefusalNote } from "./budget-refusals.ts";
import {
  billedAccounts,
  BUDGET_PERIODS,
  clearLimitOperation,
  providerNameIn,
  sameProvider,
  setLimitOperation,
  switchedOff,
  type BudgetPeriod,
  type EffectiveLimit,
} from "./budget-limits.ts";
import type { BudgetService } from "./budget-service.ts";
import { otherZonesText } from "./team-calendars.ts";
import type { RouterConfig } from "../config/schema.ts";
import type { UsageLedger, UsageTotals } from "./usage-ledger.ts";
import { unknownWordText } from "../commands/unknown-word.ts";

const BUDGET_ACTIONS = ["show", "set", "clear"] as const;
const BUDGET_GRAMMAR =
  "budget [show] | budget set <provider> <usd|off> [daily|monthly] | budget clear <provider> [daily|monthly]";
const BUDGET_USAGE = `/auto-router ${BUDGET_GRAMMAR}`;

/** "$5.00 (config)", "$10.00" set by command, "$10.00 (set, config $50.00)" when that overrides the config's. */
export function limitCell(limit: EffectiveLimit | undefined): string {
  if (!limit) return "-";
  const from =
    limit.source === "config"
      ? " (config)"
      : limit.overrides !== undefined
        ? ` (set, config ${formatMoney(limit.overrides.amount, limit.overrides.currency)})`
        : "";
  return `${formatMoney(limit.amount, limit.currency)}${from}`;
}

/** `refused`: a hard limit of this period refuses what a request is expected to cost, whatever the share spent. */
function shareCell(period: PeriodAudit | undefined, refused = false): string {
  if (!period) return "-";
  return `${formatShare(period.share)}${period.level === "blocked" || refused ? " BLOCKED" : period.level === "warning" ? " warning" : ""}`;
}

const requestsCell = (totals: UsageTotals): string =>
  `${totals.requests}${totals.estimated > 0 ? ` (${totals.estimated} estimated)` : ""}`;

function providerNames(service: BudgetService, now: number): string[] {
  return [
    ...new Set([
      ...service.views(now).map((view) => view.provider),
      ...service.balanceSources().map((source) => source.provider),
    ]),
  ];
}

/** A period's limit cell; a limit switched off by command is "off (set)", with the config's limit it overrides. */
function periodCell(limit: EffectiveLimit | undefined, off: ReturnType<typeof switchedOff>): string {
  if (limit || !off) return limitCell(limit);
  return `off (set${off.config ? `, config ${formatMoney(off.config.amount, off.config.currency)}` : ""})`;
}

/**
 * Providers whose limits are all switched off by command and that spent nothing this month: no view has them (they
 * have neither a limit nor spend), yet the table says what the command overrides (`off (set, config $5.00)`).
 */
function switchedOffOnly(service: BudgetService, config: RouterConfig, shown: readonly string[]): string[] {
  const stored = service.limits.read();
  const accounts = billedAccounts(config);
  const names = new Map<string, string>();
  for (const [name, limits] of Object.entries(stored.providers))
    for (const period of BUDGET_PERIODS)
      if (
        limits[period] === null &&
        !shown.some((provider) => sameProvider(provider, name)) &&
        switchedOff(config.budgets, stored, name, period)
      )
        names.set(name.toLowerCase(), providerNameIn(accounts, name));
  return [...names.values()].sort();
}

function showBudget(service: BudgetService, now: number, config: RouterConfig): string {
  const keys = service.keys(now);
  const views = service.views(now);
  const others = service.otherCalendars(now);
  // A team whose machines count on different calendars splits a day's spend between their days: said with the calendar.
  const header = `budgets: today ${keys.day}, month ${keys.month} (${service.timeZone()}); policy ${service.policy()}${
    others.length > 0
      ? `\n  the team's budgets are also counted on other calendars: ${otherZonesText(others)}, so the team's daily spend is split between their days and a daily limit can be passed; set the same budgets.timeZone in every machine's routes file`
      : ""
  }`;
  const offOnly = switchedOffOnly(
    service,
    config,
    views.map((view) => view.provider),
  );
  if (views.length === 0 && offOnly.length === 0)
    return `${header}\nno spend recorded and no budget set. Set one: /auto-router budget set <provider> <usd> [monthly]`;
  const off = (provider: string, period: BudgetPeriod) =>
    switchedOff(config.budgets, service.limits.read(), provider, period);
  const offRows = offOnly.flatMap((provider) => [
    [provider, "today", formatUsd(0, "spend"), periodCell(undefined, off(provider, "daily")), "-", "0"],
    ["", "month", formatUsd(0, "spend"), periodCell(undefined, off(provider, "monthly")), "-", "0"],
  ]);
  const viewRows = views.flatMap((view) => {
    const daily = view.audit.periods.find((period) => period.period === "daily");
    const monthly = view.audit.periods.find((period) => period.period === "monthly");
    return [
      [
        view.provider,
        "today",
        formatUsd(view.spend.day.costUsd, "spend"),
        periodCell(view.limits.daily, off(view.provider, "daily")),
        shareCell(daily, view.refused?.shortfall.period === "daily"),
        requestsCell(view.spend.day),
      ],
      [
        "",
        "month",
        formatUsd(view.spend.month.costUsd, "spend"),
        periodCell(view.limits.monthly, off(view.provider, "monthly")),
        shareCell(monthly, view.refused?.shortfall.period === "monthly"),
        requestsCell(view.spend.month),
      ],
    ];
  });
  const notes = views
    .filter((view) => view.audit.balance)
    .map(
      (view) =>
        `${view.provider}: balance ${formatMoney(view.audit.balance!.amount, view.audit.balance!.currency)}${balanceAge(view.audit.balance!)}, floor ${formatMoney(view.audit.balance!.floor, view.audit.balance!.currency)}${view.audit.balance!.level === "blocked" ? " BLOCKED" : ""}`,
    );
  const refusals = views.flatMap((view) =>
    view.refused ? [standingRefusalNote(view.provider, view.refused, now)] : [],
  );
  return [
    header,
    table(["provider", "period", "spent", "limit", "used", "requests"], [...viewRows, ...offRows]),
    ...refusals,
    ...notes,
    ...inFlightNotes(service.usage.read().reservations, now),
  ].join("\n");
}

/**
 * What the hard budgets hold for requests in flight on this machine (the file store's reservations): a hard limit
 * counts it beside the spend, so a provider can be refused while its spend alone is under the limit. A process that
 * ended mid-request leaves its reservation until it expires; when the last one does is said.
 */
function inFlightNotes(reservations: UsageLedger["reservations"] | undefined, now: number): string[] {
  const open = new Map<string, { usd: number; count: number; until: number }>();
  for (const entry of Object.values(reservations ?? {})) {
    if (entry.expiresAt <= now) continue;
    const held = open.get(entry.provider) ?? { usd: 0, count: 0, until: 0 };
    held.usd += entry.amountUsd;
    held.count += 1;
    held.until = Math.max(held.until, entry.expiresAt);
    open.set(entry.provider, held);
  }
  return [...open].map(
    ([provider, held]) =>
      `${provider}: in flight ~${formatUsd(held.usd, "spend")} reserved by ${plural(held.count, "request")} under the hard limit (one whose process ended stops counting within ${formatDuration(held.until - now)})`,
  );
}

export function parseUsd(text: string | undefined): number | null | undefined {
  if (text === undefined) return undefined;
  if (text.toLowerCase() === "off") return null;
  // The balance floor's amount grammar (decimal only: "0x10", "1e3" and "" are no amounts), in USD alone.
  const parsed = parseFloorAmount(text);
  return "problem" in parsed || parsed.currency !== USD ? undefined : parsed.amount;
}

const isPeriod = (text: string | undefined): boolean => (BUDGET_PERIODS as readonly string[]).includes(text ?? "");

function parsePeriod(text: string | undefined): BudgetPeriod | undefined | "invalid" {
  if (text === undefined) return undefined;
  return isPeriod(text) ? (text as BudgetPeriod) : "invalid";
}

/** The period a mistyped one probably meant (`Monthly`, `month`), as `reset` suggests a scope: `; did you mean ...?`. */
function periodMeant(word: string): string {
  const lower = word.toLowerCase();
  const near =
    closestKey(word, BUDGET_PERIODS) ??
    (lower.length >= 3 ? BUDGET_PERIODS.find((period) => period.startsWith(lower)) : undefined);
  return near ? `; did you mean "${near}"?` : "";
}

export const pick = (values: readonly string[], prefix: string): CompletionItem[] =>
  values.filter((value) => value.startsWith(prefix)).map((value) => ({ value, label: value }));

export function createBudgetSubcommands(service: BudgetService): Subcommand[] {
  const budget: Subcommand = {
    name: "budget",
    usage: "budget [show|set|clear]",
    fullUsage: BUDGET_GRAMMAR,
    description: "Spend per provider today and this month against its daily/monthly USD limits; set or clear limits",
    complete(prefix, deps) {
      const words = prefix.split(/\s+/);
      // A chosen value replaces the whole argument text: the words before the last one are kept in it.
      const last = (values: readonly string[]) =>
        pick(values, words.at(-1) ?? "").map((item) => ({
          ...item,
          value: [...words.slice(0, -1), item.value].join(" "),
        }));
      if (words.length <= 1) return last(BUDGET_ACTIONS);
      // The providers with spend or limits, and every provider a route's target bills to (a first limit is set on one
      // of those).
      if (words.length === 2 && words[0] !== "show")
        return last([...new Set([...providerNames(service, deps.now()), ...billedAccounts(deps.config())])].sort());
      if (words[0] === "clear" && words.length === 3) return last(BUDGET_PERIODS);
      if (words[0] === "set" && words.length === 4) return last(BUDGET_PERIODS);
      return [];
    },
    async run(args, deps, output) {
      const [action = "show", written, ...rest] = args;
      const now = deps.now();
      if (action === "show") {
        if (args.length > 1)
          return output.error(`budget show: unexpected "${args.slice(1).join(" ")}"\nusage: ${BUDGET_USAGE}`);
        // The team plugin blocks budgeted providers while the team store is down and onStoreDown is block: the spend
        // shown is this machine's view, which the hard budget does not trust then.
        const unknown = Object.entries(deps.runtime.liveStatus(now).providers)
          .filter(([, status]) => status.budget?.spendUnknown)
          .map(([provider, status]) => `${provider}: BLOCKED, spend unknown: ${status.budget!.detail}`);
        // A table is a report, its warnings a notification of their own (pi puts "Warning:" before a warning's text).
        output.info(showBudget(service, now, deps.config()));
        if (unknown.length > 0) output.warn(unknown.join("\n"));
        return;
      }
      if (action !== "set" && action !== "clear")
        return output.error(unknownWordText("budget", "action", action, BUDGET_ACTIONS, BUDGET_USAGE));
      if (!written) return output.error(`usage: ${BUDGET_USAGE}`);
      // A key pasted in place of the provider name would be stored in the limits file as a provider.
      if (redactText(written) !== written)
        return output.error("budget: that provider name looks like an API key or token; nothing was changed");
      // Names match case-insensitively (as in budgets.providers): `MOCK-A` is the provider a target calls mock-a; one
      // no target bills to keeps the spelling a command stored it under (`clear MOKC-A` clears `set mokc-a`'s limit).
      const billed = billedAccounts(deps.config());
      const provider = billed.some((account) => sameProvider(account, written))
        ? providerNameIn(billed, written)
        : providerNameIn(Object.keys(service.limits.read().providers), written);
      const meant = (name: string) => {
        const near = closestKey(name, billed);
        return near ? `. Did you mean "${near}"?` : "";
      };
      const most = action === "set" ? 2 : 1;
      if (rest.length > most)
        return output.error(`budget ${action}: unexpected "${rest.slice(most).join(" ")}"\nusage: ${BUDGET_USAGE}`);
      if (action === "set") {
        // The period may come first (`set acct monthly 50`, as one says it): a period and an amount are told apart by
        // their words.
        const periodFirst = isPeriod(rest[0]);
        const [amountText, periodText] = periodFirst ? [rest[1], rest[0]] : [rest[0], rest[1]];
        const usd = parseUsd(amountText);
        const period = parsePeriod(periodText) ?? "daily";
        if (usd === undefined)
          return output.error(
            amountText === undefined
              ? `budget set: expected an amount after ${[provider, ...(periodFirst ? [periodText] : [])].join(" ")}: USD of 0 or more (e.g. 5 or $2.50), or off\nusage: ${BUDGET_USAGE}`
              : `budget set: "${amountText}" is not an amount: expected USD of 0 or more (e.g. 5 or $2.50), or off\nusage: ${BUDGET_USAGE}`,
          );
        if (period === "invalid")
          return output.error(
            // Spend is counted in USD (pi's prices): a currency after the amount is not one a budget can be in.
            /^[A-Za-z]{3}$/.test(periodText!) && !currencyProblem(periodText!)
              ? `budget set: a budget is in USD, the currency pi's prices count spend in: write ${amountText} without "${periodText}" (a balance floor takes other currencies: /auto-router balance floor)\nusage: ${BUDGET_USAGE}`
              : `budget set: "${periodText}" is not a period: expected daily or monthly${periodMeant(periodText!)}\nusage: ${BUDGET_USAGE}`,
          );
        service.limits.update(setLimitOperation(provider, period, usd, now));
        await service.limits.flush();
        // Kept either way (a target may bill to it later), but a limit nothing is billed to is said to do nothing.
        const unused = billed.includes(provider)
          ? ""
          : `\nnote: no target of any route bills to ${provider} (billed: ${[...billed].sort().join(", ") || "none"}); the limit applies once one does${meant(provider)}`;
        // The config check's warning, on the limits that apply now (one of them may come from the config).
        const applied = service.views(now).find((view) => view.provider === provider)?.limits;
        const neverBlocks = dailyAboveMonthly({ daily: applied?.daily?.amount, monthly: applied?.monthly?.amount });
        output.info(
          usd === null
            ? `${period} budget for ${provider} switched off${switchedOff(deps.config().budgets, service.limits.read(), provider, period)?.config ? " (also overrides the config)" : ""}${unused}`
            : `${period} budget for ${provider} set to ${formatUsd(usd, "spend")}${unused}\n${showBudget(service, now, deps.config())}`,
        );
        if (neverBlocks) output.warn(`${provider}: ${neverBlocks}`);
        return;
      }
      const period = parsePeriod(rest[0]);
      if (period === "invalid")
        return output.error(
          `budget clear: "${rest[0]}" is not a period: expected daily or monthly (or none for both)${periodMeant(rest[0]!)}\nusage: ${BUDGET_USAGE}`,
        );
      const commandSet = service.limits.read().providers;
      const cleared = (period ? [period] : BUDGET_PERIODS).filter((name) =>
        Object.entries(commandSet).some(
          ([other, limits]) => sameProvider(other, provider) && limits[name] !== undefined,
        ),
      );
      if (cleared.length === 0) {
        const others = Object.keys(commandSet).filter((name) =>
          BUDGET_PERIODS.some((p) => commandSet[name]?.[p] !== undefined),
        );
        return output.info(
          `budget clear: no ${period ?? "daily or monthly"} budget for ${provider} was set by command, so nothing changed` +
            ` (set by command: ${others.sort().join(", ") || "none"})`,
        );
      }
      service.limits.update(clearLimitOperation(provider, period, now));
      await service.limits.flush();
      // What is in force now, for each period cleared: the routes file's limit, or none.
      const applied = service.views(now).find((view) => sameProvider(view.provider, provider))?.limits;
      const inForce = cleared.map((name) => {
        const limit = applied?.[name];
        return limit
          ? `the config's ${name} ${formatUsd(limit.amount, "spend")} applies again`
          : `no ${name} limit now (the routes file sets none)`;
      });
      output.info(`${cleared.join(" and ")} budget set by command for ${provider} cleared: ${inForce.join("; ")}`);
    },
  };

  return [budget];
}
