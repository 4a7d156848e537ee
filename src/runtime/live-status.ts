// Live per-target and per-provider state for route(): latency averages plus every plugin's audits (breakers, budgets,
// quota), and whether quota pacing is hard.
import type { RouterConfig } from "../config/schema.ts";
import type { ProviderStatus, TargetStatus } from "../routing/types.ts";
import type { LatencyBook } from "./latency-book.ts";
import type { RouterCollaborators, RouterPlugin } from "./plugin.ts";

export interface LiveStatus {
  targets: Record<string, TargetStatus>;
  providers: Record<string, ProviderStatus>;
  quotaHard: boolean;
}

function* configuredTargetKeys(config: RouterConfig): Iterable<string> {
  for (const route of Object.values(config.routes))
    for (const target of route.targets) yield `${target.provider}/${target.modelId}`;
}

export function liveStatus(
  sources: {
    config: () => RouterConfig;
    latency: LatencyBook;
    plugins: readonly RouterPlugin[];
    quota: RouterCollaborators["quota"];
  },
  now: number,
): LiveStatus {
  const targets: Record<string, TargetStatus> = {};
  for (const [key, sample] of Object.entries(sources.latency.all(() => configuredTargetKeys(sources.config())))) {
    targets[key] = { ttftMs: sample.ttftMs, tokensPerSecond: sample.tokensPerSecond };
  }
  const providers: Record<string, ProviderStatus> = {};
  for (const plugin of sources.plugins) {
    for (const [key, status] of Object.entries(plugin.targetStatus?.(now) ?? {}))
      targets[key] = { ...targets[key], ...status };
    for (const [provider, status] of Object.entries(plugin.providerStatus?.(now) ?? {}))
      providers[provider] = { ...providers[provider], ...status };
  }
  return { targets, providers, quotaHard: sources.quota?.quotaHard() ?? false };
}
