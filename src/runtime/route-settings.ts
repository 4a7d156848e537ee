// Effective per-route and per-target settings: top level < route < target.
import type { RouterConfig, TargetConfig, Timeouts } from "../config/schema.ts";
import { DEFAULT_COOLDOWN_WAIT_MS } from "../config/defaults.ts";
import type { FailureKind, FailureKindPolicy } from "./classify-failure.ts";
import { DEFAULT_HOLDOFF_MS, type RevertSettings } from "./revert-policy.ts";

/** A target that has said nothing for a minute before its first token is very likely stuck; long prompts on big models
 * can legitimately take ~30 s. */
export const DEFAULT_FIRST_TOKEN_TIMEOUT_MS = 60_000;
export const DEFAULT_STALL_TIMEOUT_MS = 120_000;
/** Inside a thinking block: pi-ai passes the target's keep-alive pings on to nobody (see attempt-watchdog.ts). */
export const DEFAULT_THINKING_STALL_TIMEOUT_MS = 600_000;
export const DEFAULT_MAX_ATTEMPTS = 6;

export interface EffectiveRouteSettings {
  policy: Partial<Record<FailureKind, Partial<FailureKindPolicy>>>;
  maxAttempts: number;
  cooldownWaitMs: number;
  agentRetry: boolean;
  /** failover.waitForReset.maxMs; undefined = never wait for a quota reset. */
  waitForResetMs?: number;
  revert: RevertSettings;
  /** failover.pinUpstream: pin OpenRouter targets to the upstream that first served them in the session. */
  pinUpstream: boolean;
}

/** One computation per route and config: every request of a route reads these, and a config is never changed in place. */
const settingsByConfig = new WeakMap<RouterConfig, Map<string, EffectiveRouteSettings>>();

/** The route's effective settings; shared between requests, so read-only to callers. */
export function routeSettings(config: RouterConfig, routeId: string): EffectiveRouteSettings {
  let byRoute = settingsByConfig.get(config);
  if (!byRoute) settingsByConfig.set(config, (byRoute = new Map()));
  let settings = byRoute.get(routeId);
  if (!settings) byRoute.set(routeId, (settings = computeRouteSettings(config, routeId)));
  return settings;
}

function computeRouteSettings(config: RouterConfig, routeId: string): EffectiveRouteSettings {
  const route = config.routes[routeId];
  const top = config.failover ?? {};
  const own = route?.failover ?? {};
  const policy: Partial<Record<FailureKind, Partial<FailureKindPolicy>>> = {};
  for (const source of [top.kinds ?? {}, own.kinds ?? {}]) {
    for (const [kind, value] of Object.entries(source)) {
      policy[kind as FailureKind] = { ...policy[kind as FailureKind], ...value };
    }
  }
  return {
    policy,
    maxAttempts: own.maxAttempts ?? top.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    cooldownWaitMs: own.cooldownWaitMs ?? top.cooldownWaitMs ?? DEFAULT_COOLDOWN_WAIT_MS,
    agentRetry: own.agentRetry ?? top.agentRetry ?? true,
    waitForResetMs: (own.waitForReset ?? top.waitForReset)?.maxMs,
    pinUpstream: own.pinUpstream ?? top.pinUpstream ?? true,
    revert: {
      mode: own.revert ?? top.revert ?? "cooldown-expiry",
      holdoffMs: own.holdoffMs ?? top.holdoffMs ?? DEFAULT_HOLDOFF_MS,
    },
  };
}

export function targetTimeouts(
  config: RouterConfig,
  routeId: string,
  target: TargetConfig | undefined,
): Required<Timeouts> {
  const merged: Timeouts = { ...config.timeouts, ...config.routes[routeId]?.timeouts, ...target?.timeouts };
  return {
    firstTokenMs: merged.firstTokenMs ?? DEFAULT_FIRST_TOKEN_TIMEOUT_MS,
    stallMs: merged.stallMs ?? DEFAULT_STALL_TIMEOUT_MS,
    thinkingStallMs: merged.thinkingStallMs ?? DEFAULT_THINKING_STALL_TIMEOUT_MS,
    requestMs: merged.requestMs ?? 0,
  };
}

export function findTarget(
  config: RouterConfig,
  routeId: string,
  provider: string,
  modelId: string,
): TargetConfig | undefined {
  return config.routes[routeId]?.targets.find((t) => t.provider === provider && t.modelId === modelId);
}
