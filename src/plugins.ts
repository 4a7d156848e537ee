// The features that plug into the router (see src/runtime/plugin.ts). Each entry is one line; order does not matter.
import type { PluginFactory } from "./runtime/plugin.ts";
import { createBudgetPlugin } from "./budget/budget-plugin.ts";
import { createBreakerPlugin } from "./quota/breaker-plugin.ts";
import { createUviPlugin } from "./quota/uvi-plugin.ts";

export const PLUGIN_FACTORIES: PluginFactory[] = [
  createBudgetPlugin,
  createBreakerPlugin,
  createUviPlugin,
];
