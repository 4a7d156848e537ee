// Billed units that are no tokens: Cohere rerank's `search_units`, an audio answer's `seconds`. No price in pi's
// registry applies to them (a model's `cost` is per million tokens), so they are never priced: an answer that reports
// them is counted as a request, its units written beside its tokens in the event log, and its cost is unknown. They
// ride on the answer's usage (`usage.units`), from the gateway's wildcard proxy, which reads them, to the budget and the
// event log, which count and show them.
import { isObject } from "./is-object.ts";

/** Unit name (as the provider spells it) -> how many. */
export type UnitCounts = Record<string, number>;

/** The units an answer's usage carries, or undefined when it carries none (or none valid). */
export function usageUnits(usage: unknown): UnitCounts | undefined {
  if (!isObject(usage) || !isObject(usage.units)) return undefined;
  const units: UnitCounts = {};
  for (const [name, value] of Object.entries(usage.units))
    if (typeof value === "number" && Number.isFinite(value) && value >= 0) units[name] = value;
  return Object.keys(units).length > 0 ? units : undefined;
}
