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
  // Built for every decision: plain loops (no entry arrays), and a status only copied when two sources share a key.
  const targets: Record<string, TargetStatus> = {};
  const samples = sources.latency.all(() => configuredTargetKeys(sources.config()));
  for (const key in samples) {
    const sample = samples[key]!;
    const status: TargetStatus = { ttftMs: sample.ttftMs, tokensPerSecond: sample.tokensPerSecond };
    // No sample of its own: the provider's average carried over from the earlier router stands in.
    if (sample.samples === 0) status.ttftFromEarlierRouter = true;
    targets[key] = status;
  }
  const providers: Record<string, ProviderStatus> = {};
  for (const plugin of sources.plugins) {
    const byTarget = plugin.targetStatus?.(now);
    for (const key in byTarget) {
      const earlier = targets[key];
      targets[key] = earlier ? { ...earlier, ...byTarget[key] } : { ...byTarget[key] };
    }
    const byProvider = plugin.providerStatus?.(now);
    for (const provider in byProvider) {
      const earlier = providers[provider];
      providers[provider] = earlier ? { ...earlier, ...byProvider[provider] } : { ...byProvider[provider] };
    }
  }
  return { targets, providers, quotaHard: sources.quota?.quotaHard() ?? false };
}
