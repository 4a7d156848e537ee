// Budget limits come from two places: the config's `budgets.providers` block and `/auto-router budget set|clear`.
// Command-set limits live in a store (auto-router.budget-limits.json) so every pi window sees them. Precedence, per
// provider AND period: a command-set value overrides the config's value for that period; `off` (stored as null)
// switches a config limit off; `clear` removes the command-set values so the config applies again.
import { z } from "zod";
import type { BudgetsConfig } from "../config/schema.ts";

export const LIMITS_STORE_NAME = "budget-limits";
export const BUDGET_PERIODS = ["daily", "monthly"] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

const usd = z.number().finite().nonnegative().nullable().optional();
export const limitsStateSchema = z.object({
  version: z.number().int().default(1),
  providers: z
    .record(z.string(), z.object({ daily: usd, monthly: usd, balanceFloor: usd, updatedAt: z.number().optional() }))
    .default({}),
});
export type LimitsState = z.infer<typeof limitsStateSchema>;

export const emptyLimits = (): LimitsState => ({ version: 1, providers: {} });
export const parseLimits = (raw: unknown): LimitsState => limitsStateSchema.parse(raw);

/** `usd` null switches the period off even when the config sets it. */
export function setLimitOperation(provider: string, period: BudgetPeriod, usdLimit: number | null, at: number) {
  return (state: LimitsState): LimitsState => ({
    ...state,
    providers: { ...state.providers, [provider]: { ...state.providers[provider], [period]: usdLimit, updatedAt: at } },
  });
}

/** Removes command-set values: one period, or every period of the provider when `period` is undefined. */
export function clearLimitOperation(provider: string, period: BudgetPeriod | undefined) {
  return (state: LimitsState): LimitsState => {
    const current = state.providers[provider];
    if (!current) return state;
    const providers = { ...state.providers };
    if (period === undefined) delete providers[provider];
    else {
      const { [period]: _removed, ...rest } = current;
      providers[provider] = rest;
    }
    return { ...state, providers };
  };
}

export type LimitSource = "config" | "command";
export interface EffectiveLimit {
  usd: number;
  source: LimitSource;
}
export interface EffectiveLimits {
  daily?: EffectiveLimit;
  monthly?: EffectiveLimit;
  balanceFloor?: EffectiveLimit;
}

/** The limits that apply per provider after precedence (see the file comment). */
export function effectiveLimits(
  config: BudgetsConfig | undefined,
  stored: LimitsState,
): Record<string, EffectiveLimits> {
  const result: Record<string, EffectiveLimits> = {};
  const providers = new Set([...Object.keys(config?.providers ?? {}), ...Object.keys(stored.providers)]);
  for (const provider of providers) {
    const fromConfig = config?.providers?.[provider] ?? {};
    const fromCommand = stored.providers[provider] ?? {};
    const limits: EffectiveLimits = {};
    for (const field of [...BUDGET_PERIODS, "balanceFloor"] as const) {
      const commandValue = fromCommand[field];
      if (commandValue !== undefined) {
        if (commandValue !== null) limits[field] = { usd: commandValue, source: "command" };
      } else if (fromConfig[field] !== undefined) {
        limits[field] = { usd: fromConfig[field]!, source: "config" };
      }
    }
    if (limits.daily || limits.monthly || limits.balanceFloor) result[provider] = limits;
  }
  return result;
}
