// Quota pacing (UVI) as a router plugin. Windows come from usage APIs (fetched in the background) and from the
// rate-limit headers of target responses (passive, persisted so every pi window and the next process see them).
// providerStatus() only reads memory: it never waits on a fetch.
import { salvageRecords } from "../state/salvage.ts";
import { lastValue } from "../runtime/last-value.ts";
import { z } from "zod";
import type { PluginContext, QuotaTracker } from "../runtime/plugin.ts";
import type { FeaturePlugin } from "../commands/command-types.ts";
import { accountOf, type ProviderStatus, type RoutingSnapshot } from "../routing/types.ts";
import { assessProvider, type ProviderAssessment, type QuotaWindow } from "../routing/uvi.ts";
import { windowsFromHeaders } from "./header-windows.ts";
import { SourceCache, type QuotaSource } from "./source-cache.ts";
import { createUsageSource, USAGE_API_PROVIDERS } from "./usage-sources.ts";
import { uviCommand } from "./uvi-command.ts";
import { uviSettings, type QuotaService } from "./uvi-settings.ts";

const windowSchema = z.object({
  name: z.string(),
  usedFraction: z.number(),
  windowMs: z.number(),
  resetsAt: z.number(),
  source: z.string().optional(),
});
export const quotaStateSchema = z.object({
  v: z.literal(1),
  /** Set by /auto-router uvi enable|disable; absent = config/env decide. */
  enabled: z.boolean().optional(),
  /** Windows seen in response headers, per provider and window name. */
  observed: z.record(z.string(), z.record(z.string(), windowSchema)),
  /** The last successful reading of each usage API (source id), with its time: one fetch serves every process. */
  readings: z.record(z.string(), z.object({ windows: z.array(windowSchema), fetchedAt: z.number() })).optional(),
});
export type QuotaState = z.infer<typeof quotaStateSchema>;
export const emptyQuotaState = (): QuotaState => ({ v: 1, observed: {} });

/** Providers (auth providers) used by any route. */
export function routedProviders(config: RoutingSnapshot["config"]): string[] {
  const providers = new Set<string>();
  for (const route of Object.values(config.routes))
    for (const target of route.targets) providers.add(accountOf(target));
  return [...providers].sort();
}

export interface UviPluginOptions {
  /** Extra sources fetched in the background (tests); added to the usage APIs of the routed subscriptions. */
  extraSources?: (context: PluginContext) => QuotaSource[];
  /** Windows computed from local state on every assessment (the budget's monthly spend of per-token providers). */
  extraWindows?: (now: number) => Record<string, QuotaWindow[]>;
}

/** A provider's assessment is logged again (a `quota` event) when its UVI moved at least this much since the last. */
export const QUOTA_EVENT_UVI_STEP = 0.25;

type LoggedAssessment = { level: string; uvi: number; window: string };

/** True when `assessment` is news compared with what was last logged for the provider: the UVI timeline's points. */
export function assessmentChanged(last: LoggedAssessment | undefined, assessment: ProviderAssessment): boolean {
  return (
    !last ||
    last.level !== assessment.level ||
    last.window !== assessment.worst.name ||
    Math.abs(last.uvi - assessment.uvi) >= QUOTA_EVENT_UVI_STEP
  );
}

/** Quota pacing: uniform hooks, plus hard mode, its sources and the response headers it reads. */
export type UviPlugin = FeaturePlugin &
  QuotaTracker & {
    /** The usage-API sources and their last readings, for the health check (which must not poll them itself). */
    readonly usage: Pick<SourceCache, "list" | "reading">;
  };

export function createUviPlugin(context: PluginContext, options: UviPluginOptions = {}): UviPlugin {
  const store = context.openStore(
    "quota",
    emptyQuotaState,
    (raw) => quotaStateSchema.parse(raw),
    salvageRecords(quotaStateSchema, emptyQuotaState),
  );
  const settingsOf = lastValue((config: unknown) => uviSettings(config, context.processEnv, context.piSettings?.()));
  const settings = () => settingsOf(context.config());
  const token = async (provider: string): Promise<string | undefined> => {
    const registry = context.registry() as
      | { getApiKeyForProvider?: (provider: string) => Promise<string | undefined> }
      | undefined;
    return registry?.getApiKeyForProvider ? registry.getApiKeyForProvider(provider) : undefined;
  };
  const buildSources = (): QuotaSource[] => {
    const current = settings();
    const routed = new Set(routedProviders(context.config()));
    const usage = USAGE_API_PROVIDERS.filter((provider) => routed.has(provider)).map((provider) =>
      createUsageSource({ provider, endpoint: current.endpoints[provider], token, now: context.now }),
    );
    return [...usage, ...(options.extraSources?.(context) ?? [])];
  };
  const cache = new SourceCache([], context.now, () => settings().ttlMs, {
    read: (id) => store.read().readings?.[id],
    write: (id, reading) => store.update((state) => ({ ...state, readings: { ...state.readings, [id]: reading } })),
    claim: (name, ttlMs) => context.claim(name, ttlMs),
  });
  const extraWindows = options.extraWindows;
  const logged = new Map<string, LoggedAssessment>();

  const windowsOf = (now: number): Record<string, QuotaWindow[]> => {
    const byProvider = cache.windowsByProvider();
    for (const [provider, windows] of Object.entries(extraWindows?.(now) ?? {}))
      (byProvider[provider] ??= []).push(...windows);
    for (const [provider, windows] of Object.entries(store.read().observed)) {
      for (const window of Object.values(windows))
        if (window.resetsAt > now) (byProvider[provider] ??= []).push(window);
    }
    return byProvider;
  };
  // Several readers assess within one request (snapshot, status warnings): once per instant, state and config.
  const assessAt = lastValue(
    (now: number, _state: QuotaState, _config: unknown): Record<string, ProviderAssessment> => {
      const thresholds = settings().thresholds;
      const out: Record<string, ProviderAssessment> = {};
      for (const [provider, windows] of Object.entries(windowsOf(now))) {
        const assessment = assessProvider(windows, now, thresholds);
        if (assessment) out[provider] = assessment;
      }
      return out;
    },
  );
  const service: QuotaService = {
    settings,
    enabled: () => !settings().forcedOff && (store.read().enabled ?? settings().enabled),
    setEnabled: (enabled) => store.update((state) => ({ ...state, enabled })),
    assess: (now) => assessAt(now, store.read(), context.config()),
    sources: () => cache,
    refresh: () => {
      cache.setSources(buildSources());
      return cache.refresh(true).then(() => void logChanges(service.assess(context.now())));
    },
  };

  /** Appends a `quota` event for each provider whose assessment changed; memory and a buffered append only. */
  function logChanges(assessments: Record<string, ProviderAssessment>): Record<string, ProviderAssessment> {
    for (const provider of logged.keys()) if (!assessments[provider]) logged.delete(provider);
    for (const [provider, assessment] of Object.entries(assessments)) {
      if (!assessmentChanged(logged.get(provider), assessment)) continue;
      logged.set(provider, { level: assessment.level, uvi: assessment.uvi, window: assessment.worst.name });
      context.record("quota", {
        provider,
        uvi: Math.round(assessment.uvi * 100) / 100,
        level: assessment.level,
        window: assessment.worst.name,
        source: assessment.worst.source ?? "unknown",
      });
    }
    return assessments;
  }

  return {
    name: "uvi",
    usage: cache,
    providerStatus(now) {
      if (!service.enabled()) return {};
      const out: Record<string, ProviderStatus> = {};
      for (const [provider, assessment] of Object.entries(logChanges(service.assess(now)))) {
        const fullest = assessment.windows.reduce(
          (most, window) => (window.usedFraction > most.usedFraction ? window : most),
          assessment.worst,
        );
        out[provider] = {
          quota: {
            level: assessment.level,
            uvi: assessment.uvi,
            detail: assessment.detail,
            usedFraction: fullest.usedFraction,
            window: fullest.name,
          },
        };
      }
      return out;
    },
    quotaHard: () => service.enabled() && settings().hard,
    statusMarks: () => (service.enabled() && settings().hard ? [UVI_HARD_MARK] : []),
    quotaSources: (now) => ({
      enabled: service.enabled(),
      hard: settings().hard,
      providers: [...USAGE_API_PROVIDERS, ...Object.keys(windowsOf(now))],
    }),
    onTargetResponse(response) {
      const windows = windowsFromHeaders(response.headers, response.now);
      if (windows.length === 0) return;
      const provider = response.candidate.account;
      const now = response.now;
      store.update((state) => {
        const observed: QuotaState["observed"] = {};
        for (const [name, entries] of Object.entries(state.observed)) {
          const live = Object.fromEntries(Object.entries(entries).filter(([, window]) => window.resetsAt > now));
          if (Object.keys(live).length) observed[name] = live;
        }
        observed[provider] = {
          ...observed[provider],
          ...Object.fromEntries(windows.map((window) => [window.name, window])),
        };
        return { ...state, observed };
      });
      if (service.enabled()) logChanges(service.assess(now));
    },
    statusWarnings(now) {
      if (!service.enabled()) return [];
      return Object.entries(service.assess(now))
        .filter(([, assessment]) => assessment.level === "stressed" || assessment.level === "critical")
        .map(([provider, assessment]) => `quota ${assessment.level} ${provider} ${assessment.uvi.toFixed(1)}`);
    },
    subcommands: [uviCommand(service)],
    start() {
      cache.setSources(buildSources());
      cache.start(() => {
        if (service.enabled()) logChanges(service.assess(context.now()));
      });
    },
    close: () => cache.close(),
  };
}

export const UVI_HARD_MARK = "🛡️ uvi-hard";
