// Builds the RoutingSnapshot at the edge: what pi's registry says about each configured target, plus live state
// from the stores. route() itself stays pure.
import type { RouterConfig } from "../config/schema.ts";
import {
  targetKey,
  type ModelFacts,
  type ProviderStatus,
  type RoutingSnapshot,
  type TargetStatus,
} from "../routing/types.ts";
import { localTimeZone } from "../time/zoned-time.ts";
import type { RegistryLike } from "./start-target.ts";

/** Facts for every distinct target of every route (a tier may switch to another route). */
export function collectModelFacts(
  registry: RegistryLike | undefined,
  config: RouterConfig,
): Record<string, ModelFacts> {
  const facts: Record<string, ModelFacts> = {};
  for (const route of Object.values(config.routes)) {
    for (const target of route.targets) {
      const key = targetKey(target.provider, target.modelId);
      if (facts[key]) continue;
      const model = registry?.find(target.provider, target.modelId);
      if (!model) {
        facts[key] = { resolvable: false, hasCredentials: false };
        continue;
      }
      let hasCredentials = false;
      let usesOAuth = false;
      try {
        hasCredentials = registry!.hasConfiguredAuth(model);
        usesOAuth = registry!.isUsingOAuth?.(model) ?? false;
      } catch {
        // A registry that cannot answer is treated as "no credentials": skipped with a reason, never a crash.
      }
      facts[key] = {
        resolvable: true,
        hasCredentials,
        usesOAuth,
        contextWindow: model.contextWindow,
        maxTokens: model.maxTokens,
        reasoning: model.reasoning,
        vision: model.input?.includes("image"),
        pricing: model.cost ? { input: model.cost.input, output: model.cost.output } : undefined,
      };
      const xhigh = (model.thinkingLevelMap as Record<string, unknown> | undefined)?.xhigh;
      if (model.reasoning && xhigh !== undefined && xhigh !== null) facts[key].xhigh = true;
    }
  }
  return facts;
}

export interface SnapshotParts {
  config: RouterConfig;
  models: Record<string, ModelFacts>;
  cooldowns: RoutingSnapshot["cooldowns"];
  targets?: Record<string, TargetStatus>;
  providers?: Record<string, ProviderStatus>;
  quotaHard?: boolean;
  timeZone?: string;
}

export function buildSnapshot(parts: SnapshotParts): RoutingSnapshot {
  return {
    config: parts.config,
    models: parts.models,
    cooldowns: parts.cooldowns,
    targets: parts.targets ?? {},
    providers: parts.providers ?? {},
    budgetPolicy: parts.config.budgets?.policy ?? "soft",
    quotaHard: parts.quotaHard ?? false,
    timeZone: parts.timeZone ?? parts.config.budgets?.timeZone ?? localTimeZone(),
  };
}
