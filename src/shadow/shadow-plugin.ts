// Shadow mode as a router plugin: a persisted switch that makes the runtime route in declared order while the full
// pipeline still ranks every request; both orders are kept (the last SHADOW_HISTORY requests, shared by every pi
// window through the state store) so `/auto-router shadow show` can say how often the ranking would have chosen
// another first target before the operator trusts it.
import { shadowCommand } from "./shadow-command.ts";
import type { PluginContext, ShadowSwitch } from "../runtime/plugin.ts";
import type { FeaturePlugin } from "../commands/command-types.ts";
import {
  addComparison,
  createShadowService,
  emptyShadow,
  shadowStateSchema,
  type ShadowRecord,
} from "./shadow-history.ts";
import { salvageRecords } from "../state/salvage.ts";
import { readSwitch } from "../config/environment.ts";

export const SHADOW_MARK = "🔬 shadow";

/** The shadow feature: uniform hooks, plus the switch the runtime reads on every decision. */
export type ShadowPlugin = FeaturePlugin & ShadowSwitch;

export const createShadowPlugin = (context: PluginContext): ShadowPlugin => {
  const store = context.openStore(
    "shadow",
    emptyShadow,
    (raw) => shadowStateSchema().parse(raw),
    salvageRecords(shadowStateSchema, emptyShadow),
  );
  // AUTO_ROUTER_SHADOW=1 (the earlier pi-auto-router's switch) keeps shadow mode on whatever the stored switch says.
  const forced = readSwitch("AUTO_ROUTER_SHADOW", context.processEnv.AUTO_ROUTER_SHADOW).on === true;
  const service = createShadowService(store, forced);
  return {
    name: "shadow",
    shadowMode: () => service.enabled(),
    onDecision(observation) {
      const { shadow } = observation;
      if (!shadow) return;
      const record: ShadowRecord = {
        at: observation.now,
        requestId: observation.requestId,
        routeId: observation.routeId,
        declaredOrder: shadow.declaredOrder,
        routedOrder: shadow.routedOrder,
        match: shadow.match,
      };
      store.update((state) => addComparison(state, record));
    },
    // The operator must not forget that routing ignores the ranking while this is on.
    statusMarks: () => (service.enabled() ? [SHADOW_MARK] : []),
    subcommands: [shadowCommand(service)],
  };
};
