// A hard budget refuses an attempt when spent + in flight + the attempt's expected cost would pass a limit, so a
// provider whose spend alone is under its limit (0% of $0.05, when a request is expected to cost $3.27) can refuse
// every request. The last refusal of each provider is kept (auto-router.budget-refusals.json, shared like the rest of
// the budget's state) so `/auto-router budget` and status can say so; whether it still stands is asked of the very
// check the reservation made (checkReservation), on the ledger and limits as they are now, never of a second rule.
import { z } from "zod";
import { stateTime } from "../state/state-numbers.ts";
import { stateObject } from "../state/unknown-fields.ts";
import { formatDuration, formatUsd } from "../analytics/text-format.ts";
import type { AttemptRefusal, LimitShortfall, PluginContext } from "../runtime/plugin.ts";
import { salvageRecords } from "../state/salvage.ts";
import { bySetCommand } from "./budget-audit.ts";
import type { EffectiveLimits, LimitSource } from "./budget-limits.ts";
import type { CalendarKeys } from "./calendar.ts";
import { reservedUsd } from "./ledger-reservations.ts";
import { checkReservation } from "./spend-ledger.ts";
import type { UsageLedger } from "./usage-ledger.ts";

export const REFUSALS_STORE_NAME = "budget-refusals";

const refusalsSchema = stateObject({
  v: z.literal(1),
  /** Per provider: the expected cost its hard budget last refused, and when. */
  providers: z.record(z.string(), stateObject({ amountUsd: z.number(), at: stateTime() })),
});
export type RefusalsState = z.infer<typeof refusalsSchema>;
export type LastRefusal = RefusalsState["providers"][string];
const emptyRefusals = (): RefusalsState => ({ v: 1, providers: {} });

/** The limit a standing refusal does not fit, and where that limit comes from (named when set by command). */
export interface StandingShortfall extends LimitShortfall {
  source: LimitSource;
}

/** A refusal that still stands: the limit it does not fit now, and when the request was refused. */
export interface StandingRefusal {
  shortfall: StandingShortfall;
  at: number;
}

/**
 * Whether a request expected to cost what `last` did would be refused now: the reservation's own check on the current
 * ledger, limits and requests in flight. Undefined when it would fit (the limit was raised, a new day began).
 */
export function standingRefusal(
  last: LastRefusal | undefined,
  input: { provider: string; ledger: UsageLedger; calendar: CalendarKeys; limits: EffectiveLimits; now: number },
): StandingRefusal | undefined {
  if (!last) return undefined;
  const { provider, ledger, calendar, limits, now } = input;
  const refusal = checkReservation(ledger, reservedUsd(ledger.reservations, provider, now, ""), {
    id: "",
    provider,
    calendar,
    amountUsd: last.amountUsd,
    dailyUsd: limits.daily?.amount,
    monthlyUsd: limits.monthly?.amount,
    ttlMs: 0,
    now,
  });
  const shortfall = refusal?.shortfall;
  // The check refused against this period's limit, so the limit exists.
  return shortfall ? { shortfall: { ...shortfall, source: limits[shortfall.period]!.source }, at: last.at } : undefined;
}

/** "a request's estimate ~$3.27 does not fit the $0.05 left": what the refused request met. */
function estimateText(shortfall: LimitShortfall): string {
  const left = Math.max(0, shortfall.limitUsd - shortfall.spentUsd - shortfall.reservedUsd);
  return `a request's estimate ~${formatUsd(shortfall.amountUsd, "spend")} does not fit the ${formatUsd(left, "spend")} left`;
}

/**
 * The refusal in a few words (status warnings, `list`); "... left of its daily limit set with /auto-router budget set"
 * for a limit set by command, named as the budget audit names it: nothing in the routes file explains it.
 */
export function shortfallText(shortfall: StandingShortfall): string {
  const setBy = bySetCommand(shortfall, "budget set");
  return `${estimateText(shortfall)}${setBy && ` of its ${shortfall.period} limit${setBy}`}`;
}

/** The budget table's line for a provider that refuses requests while its spend is under the limit. */
export function standingRefusalNote(provider: string, standing: StandingRefusal, now: number): string {
  const { shortfall } = standing;
  return `${provider}: BLOCKED: ${estimateText(shortfall)} of its hard ${shortfall.period} limit ${formatUsd(shortfall.limitUsd, "spend")}${bySetCommand(shortfall, "budget set")} (spent ${formatUsd(shortfall.spentUsd, "spend")}, in flight ${formatUsd(shortfall.reservedUsd, "spend")}; last refused ${formatDuration(Math.max(0, now - standing.at))} ago)`;
}

export interface RefusalBook {
  read(): RefusalsState;
  /** Keeps a reservation's answer: a refusal over a limit is the provider's last, a granted one ends it. */
  noteAnswer(provider: string, answer: AttemptRefusal | undefined, amountUsd: number, now: number): void;
}

export function openRefusalBook(context: PluginContext): RefusalBook {
  const store = context.openStore(
    REFUSALS_STORE_NAME,
    emptyRefusals,
    (raw) => refusalsSchema.parse(raw),
    salvageRecords(refusalsSchema, emptyRefusals),
  );
  return {
    read: () => store.read(),
    noteAnswer(provider, answer, amountUsd, now) {
      if (answer?.spendUnknown) return; // the spend could not be read: nothing is known about the limit
      if (answer === undefined) {
        if (!Object.hasOwn(store.read().providers, provider)) return; // nothing to end: no write
        store.update((state) => {
          const { [provider]: _ended, ...rest } = state.providers;
          return { ...state, providers: rest };
        });
        return;
      }
      // A new refusal, written whole (unknown-fields.ts); the other providers' and the file's fields stay.
      store.update((state) => ({ ...state, providers: { ...state.providers, [provider]: { amountUsd, at: now } } }));
    },
  };
}
