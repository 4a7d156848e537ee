// Balances as the budget audit uses them: the BalanceBook on its store (auto-router.balances.json; the team store in
// team mode), and the reading a provider's floor is compared with. Floors are in USD; a balance in another currency
// cannot be compared with one without an exchange rate, so it is not, and a warning says so once.
import { formatUsd } from "../analytics/text-format.ts";
import type { FetchLike } from "../quota/fetch-json.ts";
import type { PluginContext } from "../runtime/plugin.ts";
import { salvageRecords } from "../state/salvage.ts";
import {
  BALANCES_STORE_NAME,
  BalanceBook,
  balancesStateSchema,
  emptyBalances,
  floorApplies,
  formatBalance,
  isStale,
  parseBalances,
  storeReadingOperation,
  type BalancesState,
} from "./balance-book.ts";
import type { BalanceReading } from "./budget-audit.ts";

export interface BalanceFloors {
  book: BalanceBook;
  /** The stored readings: a new object whenever one changes (in this process or another), for memo keys. */
  stored(): BalancesState;
  /** What `provider`'s floor is compared with: its balance when in USD, else none (warned about once). */
  readingFor(provider: string, floorUsd: number | undefined, now: number): BalanceReading | undefined;
}

export function openBalanceFloors(context: PluginContext, fetch?: FetchLike): BalanceFloors {
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
    readingFor(provider, floorUsd, now) {
      const balance = book.get(provider);
      if (balance?.amount === undefined) return undefined;
      if (!floorApplies(balance)) {
        if (floorUsd !== undefined && !warned.has(`${provider}|${balance.currency}`)) {
          warned.add(`${provider}|${balance.currency}`);
          context.warn(
            `auto-router: ${provider}'s balance is ${formatBalance(balance.amount, balance.currency)}; its balanceFloor (${formatUsd(floorUsd, "spend")}) is in USD and is not applied to a balance in ${balance.currency}`,
          );
        }
        return undefined;
      }
      return {
        usd: balance.amount,
        stale: isStale(balance, now),
        fetchedAgoMs: balance.fetchedAt === undefined ? undefined : now - balance.fetchedAt,
      };
    },
  };
}
