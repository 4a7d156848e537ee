// Shadow comparisons: the declared order that was routed beside the order the full ranking produced, per request,
// the last SHADOW_HISTORY of them kept in a state store, and the match rates `/auto-router shadow show` prints.
import { z } from "zod";
import { stateTime } from "../state/state-numbers.ts";
import { stateObject } from "../state/unknown-fields.ts";
import type { StateStore } from "../state/json-store.ts";
import { lazy } from "../lazy.ts";
import { ownEntry } from "../own-record.ts";

export const SHADOW_HISTORY = 200;

const comparisonSchema = () =>
  stateObject({
    at: stateTime(),
    requestId: z.string(),
    routeId: z.string(),
    declaredOrder: z.array(z.string()),
    routedOrder: z.array(z.string()),
    match: z.boolean(),
  });
/** Built when a shadow file is first read: most sessions never switch shadow mode on. */
export const shadowStateSchema = lazy(() =>
  stateObject({
    v: z.literal(1),
    enabled: z.boolean(),
    comparisons: z.array(comparisonSchema()),
  }),
);
export type ShadowState = z.infer<ReturnType<typeof shadowStateSchema>>;
export type ShadowRecord = z.infer<ReturnType<typeof comparisonSchema>>;
export const emptyShadow = (): ShadowState => ({ v: 1, enabled: false, comparisons: [] });

/** Pure store operation: append one comparison, keep the last SHADOW_HISTORY. */
export const addComparison = (state: ShadowState, record: ShadowRecord): ShadowState => ({
  ...state,
  comparisons: [...state.comparisons.filter((c) => c.requestId !== record.requestId), record].slice(-SHADOW_HISTORY),
});

export interface ShadowSummary {
  count: number;
  /** Same first target. */
  matches: number;
  /** Same whole order. */
  sameOrder: number;
  byRoute: Record<string, { count: number; matches: number }>;
  /** Most recent first. */
  mismatches: ShadowRecord[];
}

export function summarizeShadow(comparisons: readonly ShadowRecord[], last = SHADOW_HISTORY): ShadowSummary {
  const window = comparisons.slice(-last);
  const summary: ShadowSummary = { count: window.length, matches: 0, sameOrder: 0, byRoute: {}, mismatches: [] };
  for (const record of window) {
    const route = ownEntry(summary.byRoute, record.routeId, () => ({ count: 0, matches: 0 }));
    route.count += 1;
    if (record.match) {
      summary.matches += 1;
      route.matches += 1;
    } else {
      summary.mismatches.unshift(record);
    }
    if (record.declaredOrder.join("\n") === record.routedOrder.join("\n")) summary.sameOrder += 1;
  }
  return summary;
}

export interface ShadowService {
  enabled(): boolean;
  /** On through the environment (AUTO_ROUTER_SHADOW=1): `disable` cannot turn it off. */
  forcedOn(): boolean;
  setEnabled(enabled: boolean): void;
  comparisons(): ShadowRecord[];
}

export function createShadowService(store: StateStore<ShadowState>, forcedOn = false): ShadowService {
  return {
    enabled: () => forcedOn || store.read().enabled,
    forcedOn: () => forcedOn,
    setEnabled: (enabled) => store.update((state) => ({ ...state, enabled })),
    comparisons: () => store.read().comparisons,
  };
}
