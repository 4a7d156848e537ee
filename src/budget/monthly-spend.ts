// A quota source for per-token providers: monthly spend against its monthly budget, as one UVI window over
// the calendar month (spent share / elapsed share of the month). Subscriptions have their own usage APIs; this is
// for every provider paid per token that has a monthly budget, whether or not it has a balance API.
//
// Sharing: the budget plugin owns the ledger and the limits, the UVI plugin owns pacing. Instead of the UVI plugin
// opening the same stores a second time (a second copy of the ledger, seconds behind the first), the budget plugin
// publishes a function computing these windows from its own in-memory state on a MonthlySpendLink that src/plugins.ts
// creates and hands to both. Neither plugin imports the other.
import type { RouterConfig } from "../config/schema.ts";
import { monthlySpendWindow, type QuotaWindow } from "../routing/uvi.ts";
import type { RegistryLike } from "../runtime/start-target.ts";
import { wallClockToInstant } from "../time/zoned-time.ts";
import { calendarKeys } from "./calendar.ts";
import { accountOf } from "../routing/types.ts";

export type SpendWindows = (now: number) => Record<string, QuotaWindow[]>;

/** One provider's spend this month and its monthly limit (from the budget plugin's views). */
export interface MonthlySpend {
  provider: string;
  spentUsd: number;
  monthlyUsd?: number;
}

/**
 * Providers (auth providers) with at least one routed target billed per token: the target's `billing` when set,
 * else per-token unless pi authenticates the model with OAuth. A target pi cannot resolve says nothing.
 */
export function perTokenProviders(config: RouterConfig, registry: RegistryLike | undefined): Set<string> {
  const providers = new Set<string>();
  for (const route of Object.values(config.routes)) {
    for (const target of route.targets) {
      const provider = accountOf(target);
      if (target.billing) {
        if (target.billing === "per-token") providers.add(provider);
        continue;
      }
      try {
        const model = registry?.find(target.provider, target.modelId);
        if (model && !(registry!.isUsingOAuth?.(model) ?? false)) providers.add(provider);
      } catch {
        // A registry that cannot answer: no billing known for this target.
      }
    }
  }
  return providers;
}

const lastBounds = new Map<string, { month: string; bounds: { start: number; end: number } }>();

/** Start and end (epoch ms) of the calendar month containing `now` in `zone`: the same calendar the ledger uses. */
export function monthBounds(now: number, zone: string): { start: number; end: number } {
  const month = calendarKeys(now, zone).month;
  const cached = lastBounds.get(zone);
  if (cached?.month === month) return cached.bounds;
  const [year, monthNumber] = month.split("-").map(Number) as [number, number];
  const bounds = {
    start: wallClockToInstant(year, monthNumber, 1, 0, 0, zone) ?? Number.NaN,
    end: wallClockToInstant(year, monthNumber + 1, 1, 0, 0, zone) ?? Number.NaN,
  };
  lastBounds.set(zone, { month, bounds });
  return bounds;
}

/** The monthly-budget window of every per-token provider that has a monthly limit above zero. Pure. */
export function monthlySpendWindows(
  spends: MonthlySpend[],
  perToken: ReadonlySet<string>,
  now: number,
  zone: string,
): Record<string, QuotaWindow[]> {
  const out: Record<string, QuotaWindow[]> = {};
  const { start, end } = monthBounds(now, zone);
  for (const spend of spends) {
    if (!perToken.has(spend.provider) || spend.monthlyUsd === undefined || spend.monthlyUsd <= 0) continue;
    out[spend.provider] = [monthlySpendWindow(spend.spentUsd, spend.monthlyUsd, start, end)];
  }
  return out;
}

/** The budget plugin's monthly-spend windows, read by the UVI plugin of the same engine. */
export class MonthlySpendLink {
  private source: SpendWindows | undefined;

  /** Called once by the budget plugin with its computation. */
  publish(windows: SpendWindows): void {
    this.source = windows;
  }

  /** What the budget plugin published, looked up at call time (plugin order does not matter); nothing without one. */
  readonly windows: SpendWindows = (now) => this.source?.(now) ?? {};
}
