// The features that plug into the router (see src/runtime/plugin.ts), made for one engine: every feature is a plugin
// with the uniform hooks, and the few roles only one feature fills are handed to the runtime by name.
import type { FeaturePlugin } from "./commands/command-types.ts";
import type { PluginContext, RouterCollaborators } from "./runtime/plugin.ts";
import { createBudgetPlugin } from "./budget/budget-plugin.ts";
import { createBreakerPlugin } from "./breaker/breaker-plugin.ts";
import { MonthlySpendLink } from "./budget/monthly-spend.ts";
import { createHealthPlugin } from "./health/health-plugin.ts";
import { createRatingsPlugin } from "./ratings/ratings-plugin.ts";
import { createShadowPlugin } from "./shadow/shadow-plugin.ts";
import { createUviPlugin } from "./quota/uvi-plugin.ts";

export interface Features {
  plugins: FeaturePlugin[];
  collaborators: RouterCollaborators;
  /** The providers with a daily or monthly limit, set in the config or by command (the budget's own limits). */
  limitedProviders(): string[];
}

export function createFeatures(context: PluginContext): Features {
  // Quota pacing paces per-token providers on the budget's monthly spend, without either feature importing the other.
  const monthlySpend = new MonthlySpendLink();
  const budget = createBudgetPlugin(context, { monthlySpend });
  const breaker = createBreakerPlugin(context);
  const quota = createUviPlugin(context, { extraWindows: monthlySpend.windows });
  const shadow = createShadowPlugin(context);
  return {
    plugins: [budget, breaker, quota, createHealthPlugin(context, quota.usage), createRatingsPlugin(context), shadow],
    collaborators: { probes: breaker, breakers: breaker, quota, shadow, budget },
    limitedProviders: () => budget.limitedProviders(),
  };
}
