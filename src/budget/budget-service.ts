// What the `budget` and `balance` subcommands read and change, as the budget plugin provides it.
import type { StateStore } from "../state/json-store.ts";
import type { BalanceBook, BalanceEntry, BalanceSource } from "./balance-book.ts";
import type { ProviderAudit } from "./budget-audit.ts";
import type { StandingRefusal } from "./budget-refusals.ts";
import type { EffectiveLimits, LimitsState } from "./budget-limits.ts";
import type { CalendarKeys } from "./calendar.ts";
import type { ProviderSpend, UsageLedger } from "./usage-ledger.ts";

export interface ProviderBudgetView {
  provider: string;
  limits: EffectiveLimits;
  spend: ProviderSpend;
  audit: ProviderAudit;
  /** A hard limit's refusal of a request that would still be refused now (its spend alone may be under the limit). */
  refused?: StandingRefusal;
}

export interface BudgetService {
  usage: StateStore<UsageLedger>;
  limits: StateStore<LimitsState>;
  balances: BalanceBook;
  /** The provider's balance now: the last reading less the USD spend the ledger booked since its fetch (lessSpend). */
  balanceNow(provider: string, now: number): BalanceEntry | undefined;
  timeZone(): string;
  /** In team mode, the machines counting the team's budgets on another calendar than this one's (as they said last). */
  otherCalendars(now: number): Array<{ machine: string; zone: string; agoMs: number }>;
  keys(now: number): CalendarKeys;
  views(now: number): ProviderBudgetView[];
  policy(): "soft" | "hard";
  balanceSources(): BalanceSource[];
}
