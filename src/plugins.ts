// The features that plug into the router (see src/runtime/plugin.ts). Each entry is one line; order does not matter.
import type { FeaturePluginFactory } from "./commands/command-types.ts";
import { createBudgetPlugin } from "./budget/budget-plugin.ts";
import { createBreakerPlugin } from "./breaker/breaker-plugin.ts";
import { publishedSpendWindows } from "./budget/monthly-spend.ts";
import { createHealthPlugin } from "./health/health-plugin.ts";
import { createRatingsPlugin } from "./ratings/ratings-plugin.ts";
import { createShadowPlugin } from "./shadow/shadow-plugin.ts";
import { createUviPluginWith } from "./quota/uvi-plugin.ts";

export const PLUGIN_FACTORIES: FeaturePluginFactory[] = [
  createBudgetPlugin,
  createBreakerPlugin,
  createUviPluginWith({ extraWindows: publishedSpendWindows }),
  createHealthPlugin,
  createRatingsPlugin,
  createShadowPlugin,
];
