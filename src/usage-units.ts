// Billed units that are no tokens: Cohere rerank's `search_units`, an audio answer's `seconds`. No price in pi's
// registry applies to them (a model's `cost` is per million tokens); the routes file may price them per provider
// (`providers.<id>.unitPrices`, USD per unit). An answer whose units all have a price costs its tokens plus its units;
// one with a unit without a price is counted as a request, its units written beside its tokens in the event log, and
// its cost is unknown. They ride on the answer's usage (`usage.units`), from the gateway's wildcard proxy, which reads
// them, to the budget and the event log, which count, price and show them.
import type { RouterConfig } from "./config/schema.ts";
import { isObject } from "./is-object.ts";

/** Unit name (as the provider spells it) -> how many. */
export type UnitCounts = Record<string, number>;
/** Unit name (as the provider spells it) -> USD per unit. */
export type UnitPrices = Record<string, number>;

/** The units an answer's usage carries, or undefined when it carries none (or none valid). */
export function usageUnits(usage: unknown): UnitCounts | undefined {
  if (!isObject(usage) || !isObject(usage.units)) return undefined;
  const units: UnitCounts = {};
  for (const [name, value] of Object.entries(usage.units))
    if (typeof value === "number" && Number.isFinite(value) && value >= 0) units[name] = value;
  return Object.keys(units).length > 0 ? units : undefined;
}

/** The unit prices the routes file sets for a provider (`providers.<id>.unitPrices`), if any. */
export function unitPricesOf(config: RouterConfig, provider: string): UnitPrices | undefined {
  return config.providers?.[provider]?.unitPrices;
}

/** What an answer's units cost in USD: 0 without units, undefined when one of them has no price (cost unknown). */
export function unitsCostUsd(units: UnitCounts | undefined, prices: UnitPrices | undefined): number | undefined {
  if (!units) return 0; // every answer passes here: no units, nothing to look up
  let cost = 0;
  for (const [name, count] of Object.entries(units)) {
    const price = prices && Object.hasOwn(prices, name) ? prices[name] : undefined;
    if (typeof price !== "number" || !Number.isFinite(price) || price < 0) return undefined;
    cost += count * price;
  }
  return cost;
}
