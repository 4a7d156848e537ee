// The budget feature as one router plugin: counts every attempt's usage into the shared ledger, audits each
// provider's spend against its daily AND monthly limits (and its balance against a floor) for every routing
// snapshot, and adds the `budget` and `balance` subcommands. route() acts on the levels (blocked -> skipped
// "budget", soft/hard fallback by budgets.policy); this plugin only computes them, from memory.
import { statSync } from "node:fs";
import { formatUsd, plural } from "../analytics/text-format.ts";
import { join } from "node:path";
import { lastValue } from "../runtime/last-value.ts";
import type { RouterConfig } from "../config/schema.ts";
import type { FeaturePlugin } from "../commands/command-types.ts";
import type { AttemptRefusal, AttemptReserver, PluginContext } from "../runtime/plugin.ts";
import { ASSUMED_OUTPUT_TOKENS, type Candidate, type ProviderStatus } from "../routing/types.ts";
import { BALANCE_FIRST_WAIT_MS, balanceSources, lessSpend } from "./balance-book.ts";
import { openBalanceFloors } from "./balance-floors.ts";
import type { FetchLike } from "../quota/fetch-json.ts";
import { createBalanceSubcommand } from "./balance-commands.ts";
import { createBudgetSubcommands } from "./budget-commands.ts";
import type { BudgetService, ProviderBudgetView } from "./budget-service.ts";
import { auditProvider, bySetCommand, formatShare } from "./budget-audit.ts";
import { openRefusalBook, type RefusalsState, shortfallText, standingRefusal } from "./budget-refusals.ts";
import {
  accountSpellings,
  billedAccounts,
  effectiveLimits,
  emptyLimits,
  LIMITS_STORE_NAME,
  lenientLimitsStateSchema,
  parseLimits,
  providerNameIn,
  type LimitsState,
} from "./budget-limits.ts";
import { placeOf } from "../state/json-text.ts";
import { salvageRecords } from "../state/salvage.ts";
import { unitPricesOf } from "../usage-units.ts";

import { calendarKeys, isValidTimeZone, localTimeZone, nextDayStart, previousMonthKey } from "./calendar.ts";
import {
  addMarkerOperation,
  checkLegacyImport,
  importLegacyLimitsOperation,
  importLegacyOperation,
  LEGACY_STATS_FILE,
  legacyChangeMarker,
  legacyNoLimits,
  legacyOwnerMarker,
  onCalendar,
  readLegacyStats,
  withoutSubscriptionCost,
} from "./legacy-stats.ts";
import { calendarZoneOperation } from "./calendar-move.ts";
import { monthlySpendWindows, perTokenProviders, type MonthlySpendLink } from "./monthly-spend.ts";
import { reconcileUsage, TOKENS_PER_MILLION, type Pricing, type UsageRecord } from "./reconcile-usage.ts";
import { spendLedgerOf } from "./spend-ledger.ts";
import {
  emptyLedger,
  parseLedger,
  providerSpend,
  providerTotals,
  providersWithUsage,
  salvageLedger,
  spendSince,
  totalsOf,
  USAGE_STORE_NAME,
  type UsageLedger,
} from "./usage-ledger.ts";
import { openTeamCalendars } from "./team-calendars.ts";

/** What a health probe sends (health-check.ts: a one-line prompt, at most one output token), for its reservation. */
const PROBE_TOKENS = { input: 16, output: 1 };

/** A hard budget's reservation stops counting after this when its attempt never reports (a crashed process). */
export const RESERVATION_TTL_MS = 10 * 60_000;
/**
 * A live attempt renews its reservation this often, well before it would expire: an attempt may stream longer than
 * the TTL (thinking may be silent up to thinkingStallMs) and keeps holding its share of the limit until it ends.
 */
export const RESERVATION_RENEW_MS = RESERVATION_TTL_MS / 2;

/** How often balances with a configured floor are refreshed in the background. */
export const BALANCE_REFRESH_MS = 5 * 60_000;
/**
 * Every request changes the ledger; a whole-file rewrite per request was most of the bytes the router writes. Other
 * pi windows see this window's spend within this delay plus their 2 s refresh (team mode shares it through Redis at
 * once); this window counts it in memory at once, and the exit hook writes what is left.
 */
export const USAGE_FLUSH_DELAY_MS = 2_000;

export interface BudgetPluginOptions {
  fetch?: FetchLike;
  /** Where the monthly spend of per-token providers is published for quota pacing. */
  monthlySpend?: MonthlySpendLink;
}

/** The budget feature: uniform hooks, plus the hard budget's per-attempt reservation. */
export type BudgetPlugin = FeaturePlugin &
  AttemptReserver & {
    /**
     * The providers (as billed, spelled as the routes spell them) with a daily or monthly limit from the config or a
     * command: those a hard budget reserves for, so those the team store's outage blocks (team-plugin.ts).
     */
    limitedProviders(): string[];
  };

export function createBudgetPlugin(context: PluginContext, options: BudgetPluginOptions = {}): BudgetPlugin {
  const usage = context.openStore(USAGE_STORE_NAME, emptyLedger, parseLedger, salvageLedger, USAGE_FLUSH_DELAY_MS);
  const ledger = spendLedgerOf(usage);
  const limits = context.openStore(
    LIMITS_STORE_NAME,
    emptyLimits,
    parseLimits,
    salvageRecords(lenientLimitsStateSchema, emptyLimits),
  );
  // Each reading keeps the provider's spend this month as booked when it was fetched: a floor is compared with the
  // balance less what was booked since (lessSpend), from the same ledger the views read.
  const floors = openBalanceFloors(context, options.fetch, (provider) => {
    const { month } = keys(context.now());
    return { month, usd: providerTotals(usage.read().months, month, accountIn(provider)).costUsd };
  });
  const refusals = openRefusalBook(context);
  const balances = floors.book;
  let firstBalances: Promise<void> | undefined;
  let warnedZone: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let dayEndTimer: NodeJS.Timeout | undefined;

  // A team counts one calendar: machines in other zones would each fill their own local day's totals.
  const teamCalendars = openTeamCalendars(context);
  const defaultZone = () => (context.teamMode ? "UTC" : localTimeZone());
  /** This process's zone: budgets.timeZone, else the machine's (UTC in team mode). */
  const ownZone = (): string => {
    const configured = context.config().budgets?.timeZone;
    if (!configured) return defaultZone();
    if (isValidTimeZone(configured)) return configured;
    if (warnedZone !== configured) {
      warnedZone = configured;
      context.warn(`auto-router: budgets.timeZone "${configured}" is not a known time zone; using ${defaultZone()}`);
    }
    return defaultZone();
  };
  // The zone this process last put the ledger on: a window whose routes file is reloaded a moment after another's
  // leaves the ledger alone until its own zone changes.
  let ledgerZone: string | undefined;
  /**
   * The calendar spend is booked and checked on. Without budgets.timeZone, the zone the file ledger records: another
   * process (a pi window in another zone than the gateway) may have moved it since this one started, and a process
   * booking on its own calendar there would put its spend on dates the others do not count as today.
   */
  const timeZone = (): string => {
    const own = ownZone();
    if (context.teamMode || own === configuredZone()) return own;
    const recorded = usage.read().timeZone;
    return recorded !== undefined && isValidTimeZone(recorded) ? recorded : own;
  };
  const keys = (now: number) => {
    const zone = ownZone();
    if (zone !== ledgerZone) followZone(zone, now);
    return calendarKeys(now, timeZone());
  };
  /**
   * Puts the file ledger on `zone`'s calendar when its dates are another zone's (budgets.timeZone changed, or the
   * machine's zone), so today's spend is still today's. A team counts on its one calendar in Redis: not moved there.
   */
  function followZone(zone: string, now: number): void {
    ledgerZone = zone;
    if (context.teamMode) return teamCalendars.follow(zone, now);
    const ledger = usage.read();
    if (ledger.timeZone === zone) return;
    // An empty ledger gets its zone with its first spend: a session that spends nothing writes nothing.
    const hasSpend = Object.keys(ledger.days).length > 0 || Object.keys(ledger.months).length > 0;
    if (ledger.timeZone === undefined && !hasSpend) return;
    putLedgerOn(zone, now);
    if (ledger.timeZone !== undefined && isValidTimeZone(ledger.timeZone))
      context.warn(
        `auto-router: the budget calendar is now ${zone} (the spend ledger's dates were ${ledger.timeZone}'s): each day's spend counts in the day that holds its middle there, today's in today, and each month's in the month that holds its middle.${configuredZone() === undefined ? " Set budgets.timeZone in the routes file so every process (pi windows, the gateway) counts on one calendar." : ""}`,
      );
  }
  /** Moves the ledger's dates onto `zone`'s calendar and records the zone. */
  const putLedgerOn = (zone: string, now: number) =>
    usage.update(calendarZoneOperation(zone, now, (at) => calendarKeys(at, zone)));
  const configuredZone = () => context.config().budgets?.timeZone;
  const accountsOf = lastValue(billedAccounts);
  const spellingsOf = lastValue(accountSpellings);
  /** The one name an account's spend is booked, reserved and checked under, whatever case a target writes it in. */
  const accountIn = (account: string) => providerNameIn(accountsOf(context.config()), account);
  /** The names the targets bill `account` under: route() looks a target's status up by its own spelling. */
  const spellingsIn = (account: string) => spellingsOf(context.config()).get(account) ?? [account];
  // Keyed by the billed provider's own spelling, so a limit written `Mock-A` finds provider mock-a's spend.
  const limitsOf = lastValue(effectiveLimits);
  const limitsIn = (config: RouterConfig, state: LimitsState) => limitsOf(config.budgets, state, accountsOf(config));
  /** The limits set by config or command; none means the audits have nothing to say (every level "ok"). */
  const currentLimits = () => limitsIn(context.config(), limits.read());
  const nothingToAudit = () => {
    for (const _provider in currentLimits()) return false;
    return true;
  };

  // Read by the snapshot, the status warnings and the quota windows of one request: computed once per instant,
  // ledger, limits, config and balances.
  const viewsAt = lastValue(
    (
      now: number,
      ledger: UsageLedger,
      limitsState: LimitsState,
      config: RouterConfig,
      _balances: number,
      _storedBalances: unknown,
      refused: RefusalsState,
    ): ProviderBudgetView[] => {
      const calendar = keys(now);
      const effective = limitsIn(config, limitsState);
      const hard = (config.budgets?.policy ?? "soft") === "hard";
      const providers = [...new Set([...Object.keys(effective), ...providersWithUsage(ledger, calendar)])].sort();
      return providers.map((provider) => {
        const spend = providerSpend(ledger, calendar, provider);
        const providerLimits = effective[provider] ?? {};
        const audit = auditProvider({
          limits: providerLimits,
          spentTodayUsd: spend.day.costUsd,
          spentThisMonthUsd: spend.month.costUsd,
          balance: floors.readingFor(provider, providerLimits.balanceFloor, now, (mark) =>
            spendSince(ledger, calendar, provider, mark),
          ),
        });
        // Only a hard budget reserves: its last refusal is said while the same check would still refuse it.
        const standing = hard
          ? standingRefusal(refused.providers[provider], { provider, ledger, calendar, limits: providerLimits, now })
          : undefined;
        return { provider, limits: providerLimits, spend, audit, ...(standing && { refused: standing }) };
      });
    },
  );
  const views = (now: number) =>
    viewsAt(now, usage.read(), limits.read(), context.config(), balances.version, floors.stored(), refusals.read());

  // Quota source 2 (monthly spend / monthly budget of per-token providers) for the UVI plugin: see monthly-spend.ts.
  options.monthlySpend?.publish((now) => {
    if (nothingToAudit()) return {};
    const spends = views(now).map((view) => ({
      provider: view.provider,
      spentUsd: view.spend.month.costUsd,
      monthlyUsd: view.limits.monthly?.amount,
    }));
    // Which providers bill per token asks pi's registry (a scan of its models): only when a monthly budget exists.
    if (!spends.some((spend) => spend.monthlyUsd !== undefined && spend.monthlyUsd > 0)) return {};
    const windows = monthlySpendWindows(
      spends,
      perTokenProviders(context.config(), context.registry()),
      now,
      timeZone(),
    );
    // Pacing looks a target's windows up by its own spelling of the account, as route() does its budget status.
    for (const [provider, list] of Object.entries(windows))
      for (const spelling of spellingsIn(provider)) windows[spelling] = list;
    return windows;
  });

  // pi's registry finds a model by scanning all of its models: prices are looked up once per target, registry and
  // config, not once per attempt.
  const pricesFor = lastValue((_registry: unknown, _config: RouterConfig) => new Map<string, Pricing | undefined>());
  const pricingOf = (candidate: Pick<Candidate, "key" | "provider" | "modelId">): Pricing | undefined => {
    const prices = pricesFor(context.registry(), context.config());
    if (prices.has(candidate.key)) return prices.get(candidate.key);
    let pricing: Pricing | undefined;
    try {
      const cost = context.registry()?.find(candidate.provider, candidate.modelId)?.cost;
      pricing = cost
        ? { input: cost.input, output: cost.output, cacheRead: cost.cacheRead, cacheWrite: cost.cacheWrite }
        : undefined;
    } catch {
      return undefined;
    }
    prices.set(candidate.key, pricing);
    return pricing;
  };

  /**
   * What an attempt is expected to cost: the model's average cost per request this month (what its requests really
   * cost), else last month's (the first requests of a month), or before any the decision's estimate: the prompt's
   * tokens and the output asked for (else an assumed 1,000 tokens) at the model's prices. The output is most of an
   * answer's cost, so the prompt alone would let a burst of first requests pass a limit many times over. A hard budget
   * reserves this before the attempt starts; the recorded cost replaces it.
   */
  const expectedCostUsd = (
    candidate: Candidate,
    account: string,
    month: string,
    estimatedInputTokens: number | undefined,
    /** The smallest limit in force: an estimate above it without history is taken at an assumed output instead. */
    wholeLimitUsd = Number.POSITIVE_INFINITY,
  ): number => {
    const months = usage.read().months;
    for (const key of [month, previousMonthKey(month)]) {
      const totals = months[key]?.[account]?.[candidate.modelId];
      if (totals && totals.requests > 0) return totals.costUsd / totals.requests;
    }
    const pricing = pricingOf(candidate);
    const prompt = ((estimatedInputTokens ?? 0) * (pricing?.input ?? 0)) / TOKENS_PER_MILLION;
    if (candidate.estimatedCostUsd === undefined) return prompt;
    // The output asked for is a ceiling (Claude Code asks for 128k tokens: ~$1.96 at $15 per 1M). Above the whole limit,
    // no request of the model would ever be let through to give it a history: its first is expected at an assumed
    // 1,000 tokens of output, and what it really cost is what the next ones are expected to cost.
    if (candidate.estimatedCostUsd > wholeLimitUsd)
      return prompt + (ASSUMED_OUTPUT_TOKENS * (pricing?.output ?? 0)) / TOKENS_PER_MILLION;
    return candidate.estimatedCostUsd;
  };

  /**
   * A warning on the status line may be about today's (or this month's) spend, which the calendar day's end clears:
   * an idle pi's line is rebuilt then (a second late at most), not at its next prompt.
   */
  const rebuildAtDayEnd = (now: number) => {
    if (dayEndTimer) return;
    dayEndTimer = setTimeout(
      () => {
        dayEndTimer = undefined;
        context.stateChanged?.();
      },
      Math.max(1_000, nextDayStart(now, timeZone()) - now),
    );
    dayEndTimer.unref();
  };

  const flooredSources = () => {
    const effective = currentLimits();
    return balanceSources(context.config()).filter((source) => effective[source.provider]?.balanceFloor);
  };
  let warnedAfterRefresh = "";
  const refreshFloors = () => {
    const fetches = flooredSources().map((source) => balances.refresh(source).catch(() => undefined));
    if (fetches.length === 0) return;
    // Between requests the status line is built only by them: a balance the refresh found below its floor (or topped
    // up) would be said there only at the next prompt.
    void Promise.all(fetches)
      .then(() => {
        const warnings = plugin.statusWarnings!(context.now()).join("\n");
        if (warnings !== warnedAfterRefresh) context.stateChanged?.();
        warnedAfterRefresh = warnings;
      })
      .catch(() => undefined);
  };

  // Synchronous up to the in-memory updates, so the first request already sees the imported limits and spend.
  function migrateLegacy(): void {
    const file = join(context.stateDir, LEGACY_STATS_FILE);
    const scope = { machine: context.machine ?? "local", teamMode: context.teamMode === true };
    try {
      const read = readLegacyStats(context.stateDir);
      if (!read) return;
      const { legacy, dropped } = read;
      const check = checkLegacyImport(usage.read().migratedFrom, LEGACY_STATS_FILE, legacy, scope);
      if (check === "imported" || check === "changed-noted") return;
      if (check === "changed") {
        context.warn(
          `auto-router: ${file} changed after its spend was imported; the change is not imported (the earlier router's file is imported once per state directory, so nothing counts twice): spend the earlier router recorded there after the import is not counted here, and a limit set or changed there since is not applied either: set it with /auto-router budget set <provider> <usd> [daily|monthly], or in the routes file's budgets.providers (a limit imported from this file was set by command and overrides that one: /auto-router budget clear <provider> removes it)`,
        );
        usage.update(addMarkerOperation(legacyChangeMarker(LEGACY_STATS_FILE, scope)));
      } else {
        // Limits first: the ledger's marker is what stops a later start from importing again.
        // Set by the earlier router no later than it last wrote its file: a limit set here since is newer (what
        // `state push` compares), whichever of this dir's stores gets the import first.
        const setBy = Math.min(context.now(), statSync(file).mtimeMs);
        limits.update(importLegacyLimitsOperation(legacy, setBy));
        // The marker stays that of the file's content; the spend is counted as this router counts it.
        const counted = withoutSubscriptionCost(legacy);
        usage.update(
          importLegacyOperation(LEGACY_STATS_FILE, legacy, scope, onCalendar(counted.legacy, context.now(), keys)),
        );
        // Its own step: in team mode the content marker alone decides, in Redis, whether the spend is added.
        usage.update(addMarkerOperation(legacyOwnerMarker(LEGACY_STATS_FILE, scope)));
        // Said at the import only: later starts find the same content imported.
        if (dropped.length > 0)
          context.warn(
            `auto-router: imported ${file} without ${dropped.length === 1 ? "an entry" : `${dropped.length} entries`} it could not read (the file is kept unchanged and imported once: ${dropped.length === 1 ? "it is" : "they are"} not counted here):\n  ${dropped.join("\n  ")}`,
          );
        const subscription = Object.entries(counted.subscription);
        if (subscription.length > 0)
          context.warn(
            `auto-router: ${file}: the daily spend of ${subscription.map(([provider, { usd, days }]) => `${provider} (${formatUsd(usd, "spend")} over ${plural(days, "day")})`).join(", ")} is imported as $0, its tokens kept: the file's monthly spend, where the earlier router counted only per-token targets, does not hold it, so it was subscription targets' answers, which are no spend here`,
          );
        const noLimits = legacyNoLimits(legacy);
        if (noLimits.length > 0)
          context.warn(
            `auto-router: ${file}: ${noLimits.join(", ")} not imported as a limit: the earlier router read a limit of 0 or less as no limit`,
          );
      }
      void Promise.all([limits.flush(), usage.flush()]).catch(() => undefined);
    } catch (error) {
      context.warn(
        `auto-router: could not migrate ${placeOf(file, error)} (kept unchanged): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  const service: BudgetService = {
    usage,
    limits,
    balances,
    balanceNow: (provider, now) =>
      lessSpend(balances.get(provider), (mark) => spendSince(usage.read(), keys(now), accountIn(provider), mark)),
    timeZone,
    otherCalendars: (now) => teamCalendars.others(timeZone(), now),
    keys,
    views,
    policy: () => context.config().budgets?.policy ?? "soft",
    balanceSources: () => balanceSources(context.config()),
  };

  /** Books an answer's spend (ending its reservation, if any); the first spend puts the ledger on this zone. */
  const book = (spend: Parameters<typeof ledger.record>[0], now: number) => {
    ledger.record(spend);
    if (!context.teamMode && usage.read().timeZone === undefined) putLedgerOn(ownZone(), now);
  };

  /**
   * The renewal timers of this process's attempts holding a hard budget's reservation, by attempt id: cleared when
   * the attempt ends (onAttemptResult). unref()'d, and a process that dies stops renewing, so its reservations expire.
   */
  const renewals = new Map<string, NodeJS.Timeout>();
  const stopRenewing = (id: string) => {
    const renewal = renewals.get(id);
    if (renewal === undefined) return;
    clearInterval(renewal);
    renewals.delete(id);
  };
  const keepRenewing = (id: string, provider: string) => {
    stopRenewing(id);
    const renewal = setInterval(
      () => void ledger.renew({ id, provider, ttlMs: RESERVATION_TTL_MS, now: context.now() }),
      RESERVATION_RENEW_MS,
    );
    renewal.unref();
    renewals.set(id, renewal);
  };

  /** Probes that asked for a reservation (health --probe under a hard budget): their end releases it. */
  const reservedProbes = new Set<string>();

  const plugin: BudgetPlugin = {
    name: "budget",
    limitedProviders: () =>
      Object.entries(currentLimits())
        .filter(([, limits]) => limits.daily !== undefined || limits.monthly !== undefined)
        .flatMap(([provider]) => spellingsIn(provider)),
    providerStatus(now) {
      const result: Record<string, ProviderStatus> = {};
      // Without limits no view has a period or a balance audit: nothing to compute per request.
      if (nothingToAudit()) return result;
      for (const view of views(now)) {
        if (view.audit.periods.length === 0 && !view.audit.balance) continue;
        // A hard limit whose reservation would refuse what a request is expected to cost: its attempts are refused
        // (not left out of the decision: a cheaper request may fit), and list says so.
        const refused =
          view.refused && view.audit.level !== "blocked" ? shortfallText(view.refused.shortfall) : undefined;
        const budget = { level: view.audit.level, detail: view.audit.detail, ...(refused && { refused }) };
        for (const spelling of spellingsIn(view.provider)) result[spelling] = { budget };
      }
      return result;
    },
    reserveAttempt(attempt) {
      const config = context.config();
      // A subscription's answer costs nothing of the budget, so there is nothing to reserve: a $0 reservation would be
      // refused once the account's per-token spend passed the limit, and granted, would end the refusal the account's
      // per-token targets still meet (as a probe, it is never held back).
      if ((config.budgets?.policy ?? "soft") !== "hard" || attempt.candidate.billing === "subscription")
        return undefined;
      const provider = accountIn(attempt.candidate.account);
      const providerLimits = limitsIn(config, limits.read())[provider];
      if (!providerLimits?.daily && !providerLimits?.monthly) return undefined;
      const calendar = keys(attempt.now);
      const amountUsd = expectedCostUsd(
        attempt.candidate,
        provider,
        calendar.month,
        attempt.estimatedInputTokens,
        Math.min(
          providerLimits.daily?.amount ?? Number.POSITIVE_INFINITY,
          providerLimits.monthly?.amount ?? Number.POSITIVE_INFINITY,
        ),
      );
      const id = `${attempt.requestId}:${attempt.attempt}`;
      const answer = ledger.reserve({
        id,
        provider,
        calendar,
        amountUsd,
        dailyUsd: providerLimits.daily?.amount,
        monthlyUsd: providerLimits.monthly?.amount,
        ttlMs: RESERVATION_TTL_MS,
        now: attempt.now,
      });
      // Kept for `budget` and status: a provider under its limit that refuses every request must not look open.
      const noted = (answered: AttemptRefusal | undefined) => {
        // A limit set by command (perhaps on another machine of the team) is in no routes file: the reason says so.
        const period = answered?.shortfall?.period;
        const setBy = period ? bySetCommand(providerLimits[period], "budget set") : "";
        const refusal = setBy && answered ? { ...answered, reason: `${answered.reason}${setBy}` } : answered;
        refusals.noteAnswer(provider, refusal, amountUsd, attempt.now);
        if (refusal === undefined) keepRenewing(id, provider);
        return refusal;
      };
      return answer instanceof Promise ? answer.then(noted) : noted(answer);
    },
    onAttemptResult(observation) {
      const { outcome, candidate } = observation;
      const provider = accountIn(candidate.account);
      const id = `${observation.requestId}:${observation.attempt}`;
      if (renewals.size > 0) stopRenewing(id);
      const record = reconcileUsage({
        message: outcome.message,
        pricing: pricingOf(candidate),
        unitPrices: unitPricesOf(context.config(), candidate.provider),
        estimatedInputTokens: observation.estimatedInputTokens,
      });
      if (!record) {
        ledger.release(id, provider);
        return;
      }
      const calendar = keys(observation.now);
      // A subscription's answer costs nothing more: its tokens are counted, its list price is not spend.
      if (candidate.billing === "subscription") record.costUsd = 0;
      book({ id, calendar, provider, modelId: candidate.modelId, totals: totalsOf(record) }, observation.now);
      context.record(
        "usage",
        {
          ...usageEventData(record, calendar),
          attempt: observation.attempt,
          target: candidate.key,
          provider,
          outcome: outcome.status,
        },
        { requestId: observation.requestId, routeId: observation.routeId },
      );
    },
    // Under a hard budget a probe is paid for like a routed attempt: it reserves what it may cost (its one-line prompt
    // and one output token at the model's prices) and is not sent when that does not fit.
    reserveProbe(probe) {
      const config = context.config();
      if ((config.budgets?.policy ?? "soft") !== "hard" || probe.billing === "subscription") return undefined;
      const provider = accountIn(probe.account);
      const providerLimits = limitsIn(config, limits.read())[provider];
      if (!providerLimits?.daily && !providerLimits?.monthly) return undefined;
      const key = `${probe.provider}/${probe.modelId}`;
      const pricing = pricingOf({ key, provider: probe.provider, modelId: probe.modelId });
      reservedProbes.add(probe.id);
      const refused = (refusal: AttemptRefusal | undefined) => {
        if (refusal) reservedProbes.delete(probe.id);
        return refusal;
      };
      const answer = ledger.reserve({
        id: probe.id,
        provider,
        calendar: keys(probe.now),
        amountUsd:
          (PROBE_TOKENS.input * (pricing?.input ?? 0) + PROBE_TOKENS.output * (pricing?.output ?? 0)) /
          TOKENS_PER_MILLION,
        dailyUsd: providerLimits.daily?.amount,
        monthlyUsd: providerLimits.monthly?.amount,
        ttlMs: RESERVATION_TTL_MS,
        now: probe.now,
      });
      return answer instanceof Promise ? answer.then(refused) : refused(answer);
    },
    // A health probe's answer is spend like a routed one's; it ends the probe's reservation, if it made one.
    onProbeAnswer(answer) {
      const key = `${answer.provider}/${answer.modelId}`;
      const provider = accountIn(answer.account);
      const record =
        answer.message &&
        reconcileUsage({
          message: answer.message,
          pricing: pricingOf({ key, provider: answer.provider, modelId: answer.modelId }),
          unitPrices: unitPricesOf(context.config(), answer.provider),
        });
      const reserved = reservedProbes.delete(answer.id);
      if (!record) return reserved ? ledger.release(answer.id, provider) : undefined;
      if (answer.billing === "subscription") record.costUsd = 0;
      const calendar = keys(answer.now);
      book({ id: answer.id, calendar, provider, modelId: answer.modelId, totals: totalsOf(record) }, answer.now);
      // Logged as a routed answer's usage is, so the reports' spend is the ledger's; it belongs to no request.
      context.record("usage", {
        ...usageEventData(record, calendar),
        attempt: 1,
        target: key,
        provider,
        outcome: answer.message.stopReason === "error" ? "failed" : "success",
        probe: true,
      });
    },
    statusWarnings(now) {
      if (nothingToAudit()) return [];
      const warnings = views(now)
        .filter((view) => view.audit.level !== "ok" || view.refused)
        .map((view) => {
          // Its spend is under the limit, but the hard check refuses what a request is expected to cost.
          if (view.audit.level !== "blocked" && view.refused)
            return `budget ${view.provider} blocked: ${shortfallText(view.refused.shortfall)}`;
          const share = Math.max(0, ...view.audit.periods.map((period) => period.share));
          const what = view.audit.periods.some((period) => period.level !== "ok") ? formatShare(share) : "balance low";
          return `budget ${view.provider} ${what}${view.audit.level === "blocked" ? " blocked" : ""}`;
        });
      if (warnings.length > 0) rebuildAtDayEnd(now);
      return warnings;
    },
    subcommands: [...createBudgetSubcommands(service), createBalanceSubcommand(service)],
    // Once per process, after the team store's first sync: a floor with no balance known at all (a new install, or a
    // balance API that never answered) waits for its first fetch, briefly, rather than let the first prompt past it.
    ready() {
      firstBalances ??= balances.firstReadings(flooredSources(), BALANCE_FIRST_WAIT_MS);
      return firstBalances;
    },
    start() {
      migrateLegacy();
      if (timer) return;
      refreshFloors();
      timer = setInterval(refreshFloors, BALANCE_REFRESH_MS);
      timer.unref();
    },
    async close() {
      if (timer) clearInterval(timer);
      if (dayEndTimer) clearTimeout(dayEndTimer);
      timer = dayEndTimer = undefined;
      for (const renewal of renewals.values()) clearInterval(renewal);
      renewals.clear();
      await balances.close();
    },
  };
  return plugin;
}

/** The usage event's counts, cost and calendar, routed answer and probe alike. */
function usageEventData(record: UsageRecord, calendar: { day: string; month: string }) {
  return {
    input: record.input,
    output: record.output,
    cacheRead: record.cacheRead,
    cacheWrite: record.cacheWrite,
    costUsd: record.costUsd,
    estimated: record.estimated ?? false,
    estimateReason: record.reason,
    ...(record.units ? { units: record.units } : {}),
    day: calendar.day,
    month: calendar.month,
  };
}
