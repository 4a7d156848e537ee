// Balances as the budget audit uses them: the BalanceBook on its store (auto-router.balances.json; the team store in
// team mode), and the reading a provider's floor is compared with. A floor is in the currency it names (USD when it
// names none); a balance in another currency cannot be compared with it without an exchange rate, so it is not, and a
// warning says so once and how to write the floor in the balance's currency. A USD balance is compared less the spend
// the usage ledger booked for the provider since its fetch (lessSpend): between two fetches (BALANCE_TTL_MS) the
// provider would otherwise spend below its floor unseen.
import { formatMoney, USD } from "../config/floor-amount.ts";
import type { FetchLike } from "../quota/fetch-json.ts";
import type { PluginContext } from "../runtime/plugin.ts";
import { salvageRecords } from "../state/salvage.ts";
import {
  BALANCES_STORE_NAME,
  BalanceBook,
  balancesStateSchema,
  emptyBalances,
  balanceIn,
  formatBalances,
  isStale,
  lessSpend,
  parseBalances,
  type SpendMark,
  storeReadingOperation,
  type BalancesState,
} from "./balance-book.ts";
import type { BalanceReading } from "./budget-audit.ts";
import type { EffectiveLimit } from "./budget-limits.ts";

export interface BalanceFloors {
  book: BalanceBook;
  /** The stored readings: a new object whenever one changes (in this process or another), for memo keys. */
  stored(): BalancesState;
  /**
   * What `provider`'s floor is compared with: its balance when in the floor's currency, else none (warned once); a USD
   * balance less what `spentSince` says the ledger booked after its mark.
   */
  readingFor(
    provider: string,
    floor: EffectiveLimit | undefined,
    now: number,
    spentSince: (mark: SpendMark) => number,
  ): BalanceReading | undefined;
}

/** `spendMark`: the provider's ledger spend now, kept with each reading it fetches. */
export function openBalanceFloors(
  context: PluginContext,
  fetch: FetchLike | undefined,
  spendMark: (provider: string) => SpendMark | undefined,
): BalanceFloors {
  const store = context.openStore(
    BALANCES_STORE_NAME,
    emptyBalances,
    parseBalances,
    salvageRecords(balancesStateSchema, emptyBalances),
  );
  const book = new BalanceBook({
    registry: () => context.registry(),
    now: () => context.now(),
    fetch,
    spendMark,
    shared: {
      read: (provider) => store.read().readings[provider],
      write: (provider, reading) => store.update(storeReadingOperation(provider, reading)),
      claim: (name, ttlMs) => context.claim(name, ttlMs),
    },
  });
  const warned = new Set<string>();
  return {
    book,
    stored: () => store.read(),
    readingFor(provider, floor, now, spentSince) {
      const balance = lessSpend(book.get(provider), spentSince);
      if (balance?.amount === undefined || !floor) return undefined;
      const wants = floor.currency ?? USD;
      const amount = balanceIn(balance, wants);
      if (amount === undefined) {
        const held = [balance.currency ?? USD, ...Object.keys(balance.others ?? {})];
        const key = `${provider}|${held.join(",")}|${wants}`;
        if (!warned.has(key)) {
          warned.add(key);
          const where =
            floor.source === "config"
              ? `"balanceFloor": "<amount> ${held[0]}" in the routes file, or /auto-router balance floor ${provider} <amount> ${held[0]}`
              : `/auto-router balance floor ${provider} <amount> ${held[0]}`;
          context.warn(
            `auto-router: ${provider}'s balance is ${formatBalances(balance)}; its floor (${formatMoney(floor.amount, wants)}, ${floor.source === "config" ? "balanceFloor in the routes file" : "set with /auto-router balance floor"}) is in ${wants} and is not applied to a balance in ${held.join(" or ")}: write it in ${held.join(" or ")} (${where})`,
          );
        }
        return undefined;
      }
      return {
        amount,
        ...(wants !== USD ? { currency: wants } : {}),
        stale: isStale(balance, now),
        fetchedAgoMs: balance.fetchedAt === undefined ? undefined : now - balance.fetchedAt,
        // Only the USD balance has spend taken off.
        ...(wants === USD && balance.spentSinceUsd !== undefined ? { spentSinceUsd: balance.spentSinceUsd } : {}),
      };
    },
  };
}
