// Quota pacing (UVI) as a router plugin. Windows come from usage APIs (fetched in the background) and from the
// rate-limit headers of target responses (passive, persisted so every pi window and the next process see them).
// providerStatus() only reads memory: it never waits on a fetch.
import { salvageRecords } from "../state/salvage.ts";
import { lastValue } from "../runtime/last-value.ts";
import { z } from "zod";
import { stateTime } from "../state/state-numbers.ts";
import { stateObject } from "../state/unknown-fields.ts";
import type { PluginContext, QuotaTracker } from "../runtime/plugin.ts";
import type { RegistryLike } from "../runtime/start-target.ts";
import type { FeaturePlugin } from "../commands/command-types.ts";
import { accountOf, type ProviderStatus, type QuotaStatus, type RoutingSnapshot } from "../routing/types.ts";
import {
  assessQuota,
  assessWindows,
  formatUvi,
  MAX_QUOTA_WINDOW_MS,
  modelQuotaStatus,
  quotaStatus,
  type ProviderAssessment,
  type QuotaAssessment,
  type QuotaWindow,
} from "../routing/uvi.ts";
import { type RejectedHeader, windowKey, windowsFromHeaders } from "./header-windows.ts";
import { isUsedUp, loggedAssessmentSchema, quotaNews } from "./quota-events.ts";
import { SourceCache, type QuotaSource } from "./source-cache.ts";
import { createUsageSource, registryLogins, USAGE_API_PROVIDERS } from "./usage-sources.ts";
import { uviCommand } from "./uvi-command.ts";
import { uviSettings, type QuotaService } from "./uvi-settings.ts";
import { ownEntry } from "../own-record.ts";

// A window as a source reads it: a share used from 0 to 1, a length of at most a year, a reset time of a clock
// (state-numbers.ts). Anything else in the file is damage, kept aside with the rest salvaged.
const shareError = (issue: { input?: unknown }) => `expected a share used from 0 to 1, got ${String(issue.input)}`;
const lengthError = (issue: { input?: unknown }) =>
  `expected a window length above 0 ms, at most a year (${MAX_QUOTA_WINDOW_MS} ms), got ${String(issue.input)}`;
const windowSchema = stateObject({
  name: z.string(),
  usedFraction: z.number().min(0, { error: shareError, abort: true }).max(1, { error: shareError }),
  windowMs: z.number().positive({ error: lengthError, abort: true }).max(MAX_QUOTA_WINDOW_MS, { error: lengthError }),
  resetsAt: stateTime(),
  source: z.string().optional(),
  // Absent in readings persisted before windows had a scope: those load as provider-wide.
  models: stateObject({ family: z.string().optional(), id: z.string().optional() }).optional(),
  // Absent in readings persisted before refilling windows were told apart: those are read as fixed windows.
  refills: z.literal(true).optional(),
});
export const quotaStateSchema = stateObject({
  v: z.literal(1),
  /** Set by /auto-router uvi enable|disable; absent = config/env decide. */
  enabled: z.boolean().optional(),
  /** Windows seen in response headers, per provider and window name. */
  observed: z.record(z.string(), z.record(z.string(), windowSchema)),
  /** The last successful reading of each usage API (source id), with its time: one fetch serves every process. */
  readings: z.record(z.string(), stateObject({ windows: z.array(windowSchema), fetchedAt: stateTime() })).optional(),
  /** What the last `quota` event of each provider (and model scope) said, whichever process logged it. */
  logged: z.record(z.string(), loggedAssessmentSchema).optional(),
  /**
   * When each provider's answers last carried rate-limit headers: a quota source even while none of their windows
   * is open (all reset since), for a new process's notices as for this one's.
   */
  headersSeen: z.record(z.string(), stateTime()).optional(),
});
export type QuotaState = z.infer<typeof quotaStateSchema>;
export const emptyQuotaState = (): QuotaState => ({ v: 1, observed: {} });

/**
 * The routed providers logged in with OAuth (a subscription): a usage API takes the login's token. A provider used
 * with an API key (an Anthropic key, say) is paced from its response headers and budgets; its key is never sent to a
 * usage API, which would refuse it.
 */
export function oauthProviders(config: RoutingSnapshot["config"], registry: RegistryLike | undefined): Set<string> {
  const out = new Set<string>();
  for (const route of Object.values(config.routes))
    for (const target of route.targets) {
      const account = accountOf(target);
      if (out.has(account)) continue;
      try {
        const model = registry?.find(target.provider, target.modelId);
        if (model && registry?.isUsingOAuth?.(model)) out.add(account);
      } catch {
        // A registry that cannot answer: no usage API for it.
      }
    }
  return out;
}

/** The model ids each account's routed targets use, with their lower-case form (what model scopes match). */
export function routedModels(config: RoutingSnapshot["config"]): Map<string, Array<[id: string, lower: string]>> {
  const byAccount = new Map<string, Array<[string, string]>>();
  for (const route of Object.values(config.routes))
    for (const target of route.targets) {
      const models = byAccount.get(accountOf(target)) ?? [];
      if (!models.some(([id]) => id === target.modelId)) models.push([target.modelId, target.modelId.toLowerCase()]);
      byAccount.set(accountOf(target), models);
    }
  return byAccount;
}

/**
 * What routing reads of one provider's quota: the provider-wide windows, each model scope apart (for showing), and per
 * routed model a scoped window covers, its own verdict: worked out here, so route() only looks a target's model up.
 */
export function providerQuotaStatus(
  quota: QuotaAssessment,
  models: ReadonlyArray<readonly [id: string, lower: string]>,
): ProviderStatus {
  const status: ProviderStatus = {};
  if (quota.shared) status.quota = quotaStatus([quota.shared]);
  const budgetFree = withoutBudgetWindows(quota);
  if (budgetFree) {
    const { quota: paced, quotaByModel } = providerQuotaStatus(budgetFree, models);
    status.subscriptionQuota = { ...(paced ? { quota: paced } : {}), ...(quotaByModel ? { quotaByModel } : {}) };
  }
  if (quota.scoped.length === 0) return status;
  status.scopedQuota = quota.scoped.map((scoped) => ({ ...quotaStatus([scoped.assessment]), models: scoped.label }));
  const byModel = new Map<string, QuotaStatus>();
  for (const [id, lower] of models) {
    const own = modelQuotaStatus(quota, lower);
    if (own) byModel.set(id, own);
  }
  if (byModel.size > 0) status.quotaByModel = byModel;
  return status;
}

/** The assessment without the monthly budget's windows (always provider-wide), or undefined when it has none. */
function withoutBudgetWindows(quota: QuotaAssessment): QuotaAssessment | undefined {
  const windows = quota.shared?.windows;
  if (!windows?.some((window) => window.source === "budget")) return undefined;
  const others = windows.filter((window) => window.source !== "budget");
  return { ...quota, shared: others.length ? assessWindows(others) : undefined };
}

export interface UviPluginOptions {
  /** Extra sources fetched in the background (tests); added to the usage APIs of the routed subscriptions. */
  extraSources?: (context: PluginContext) => QuotaSource[];
  /** Windows computed from local state on every assessment (the budget's monthly spend of per-token providers). */
  extraWindows?: (now: number) => Record<string, QuotaWindow[]>;
}

/** Quota pacing: uniform hooks, plus hard mode, its sources and the response headers it reads. */
export type UviPlugin = FeaturePlugin &
  QuotaTracker & {
    /** The usage-API sources and their last readings, for the health check (which must not poll them itself). */
    readonly usage: Pick<SourceCache, "list" | "reading">;
  };

const NOTHING_LOGGED: Readonly<Record<string, never>> = {};

export function createUviPlugin(context: PluginContext, options: UviPluginOptions = {}): UviPlugin {
  const store = context.openStore(
    "quota",
    emptyQuotaState,
    (raw) => quotaStateSchema.parse(raw),
    salvageRecords(quotaStateSchema, emptyQuotaState),
  );
  const settingsOf = lastValue((config: unknown) => uviSettings(config, context.processEnv, context.piSettings?.()));
  const settings = () => settingsOf(context.config());
  const logins = registryLogins(() => context.registry());
  const buildSources = (): QuotaSource[] => {
    const current = settings();
    const loggedIn = oauthProviders(context.config(), context.registry());
    const usage = USAGE_API_PROVIDERS.filter((provider) => loggedIn.has(provider)).map((provider) =>
      createUsageSource({ provider, endpoint: current.endpoints[provider], ...logins, now: context.now }),
    );
    return [...usage, ...(options.extraSources?.(context) ?? [])];
  };
  const cache = new SourceCache([], context.now, () => settings().ttlMs, {
    read: (id) => store.read().readings?.[id],
    write: (id, reading) => store.update((state) => ({ ...state, readings: { ...state.readings, [id]: reading } })),
    claim: (name, ttlMs) => context.claim(name, ttlMs),
  });
  const extraWindows = options.extraWindows;
  /** Provider and header of each impossible reset already warned about: said once, not on every answer. */
  const warnedResets = new Set<string>();

  const windowsOf = (now: number): Record<string, QuotaWindow[]> => {
    const byProvider = cache.windowsByProvider();
    for (const [provider, windows] of Object.entries(extraWindows?.(now) ?? {}))
      ownEntry(byProvider, provider, () => []).push(...windows);
    for (const [provider, windows] of Object.entries(store.read().observed)) {
      for (const window of Object.values(windows))
        if (window.resetsAt > now) ownEntry(byProvider, provider, () => []).push(window);
    }
    return byProvider;
  };
  // Several readers assess within one request (snapshot, status warnings): once per instant, state and config.
  const assessAt = lastValue((now: number, _state: QuotaState, _config: unknown): Record<string, QuotaAssessment> => {
    const thresholds = settings().thresholds;
    const out: Record<string, QuotaAssessment> = {};
    for (const [provider, windows] of Object.entries(windowsOf(now))) {
      const assessment = assessQuota(windows, now, thresholds);
      if (assessment) out[provider] = assessment;
    }
    return out;
  });
  const modelsOf = lastValue(routedModels);
  const headerProviders = () => Object.keys(store.read().headersSeen ?? {});
  const service: QuotaService = {
    settings,
    enabled: () => settings().forcedOff === undefined && (store.read().enabled ?? settings().enabled),
    disabledBy: () => {
      if (service.enabled()) return undefined;
      const { forcedOff, enabledBy } = settings();
      return forcedOff ?? (store.read().enabled === false ? "/auto-router uvi disable" : enabledBy);
    },
    setEnabled: (enabled) => store.update((state) => ({ ...state, enabled })),
    assess: (now) => assessAt(now, store.read(), context.config()),
    sources: () => cache,
    refresh: () => {
      cache.setSources(buildSources());
      return cache.refresh(true).then(() => void logChanges(service.assess(context.now())));
    },
  };

  /**
   * Appends a `quota` event for each provider (and each model scope of it, with `models`) whose assessment changed
   * since the last one logged (by any process); memory, a buffered append and a queued state write only.
   */
  function logChanges(assessments: Record<string, QuotaAssessment>): Record<string, QuotaAssessment> {
    const last = store.read().logged ?? NOTHING_LOGGED;
    const { news, next } = quotaNews(last, assessments);
    if (next === last) return assessments;
    // Replayed on what the disk holds when flushed: another process may have logged the same change meanwhile.
    store.update((state) => {
      const before = state.logged ?? NOTHING_LOGGED;
      const after = quotaNews(before, assessments).next;
      return after === before ? state : { ...state, logged: { ...after } };
    });
    for (const { provider, models, assessment } of news)
      context.record("quota", {
        provider,
        ...(models === undefined ? {} : { models }),
        uvi: Number(formatUvi(assessment.uvi)),
        level: assessment.level,
        window: assessment.worst.name,
        ...(isUsedUp(assessment) ? { usedUp: true as const } : {}),
        source: assessment.worst.source ?? "unknown",
      });
    return assessments;
  }

  const plugin: UviPlugin = {
    name: "uvi",
    usage: cache,
    providerStatus(now) {
      if (!service.enabled()) return {};
      const out: Record<string, ProviderStatus> = {};
      const models = modelsOf(context.config());
      for (const [provider, quota] of Object.entries(logChanges(service.assess(now))))
        out[provider] = providerQuotaStatus(quota, models.get(provider) ?? []);
      return out;
    },
    quotaHard: () => service.enabled() && settings().hard,
    statusMarks: () => (service.enabled() && settings().hard ? [UVI_HARD_MARK] : []),
    quotaSources: (now) => ({
      enabled: service.enabled(),
      hard: settings().hard,
      providers: [...new Set([...USAGE_API_PROVIDERS, ...Object.keys(windowsOf(now)), ...headerProviders()])],
    }),
    onTargetResponse(response) {
      const rejected: RejectedHeader[] = [];
      const windows = windowsFromHeaders(response.headers, response.now, rejected, response.candidate.modelId);
      const provider = response.candidate.account;
      for (const { header, text } of rejected) {
        if (warnedResets.has(`${provider} ${header}`)) continue;
        warnedResets.add(`${provider} ${header}`);
        context.warn(`auto-router: quota pacing of ${provider}: ${text}`);
      }
      if (windows.length === 0) return;
      const now = response.now;
      store.update((state) => {
        const observed: QuotaState["observed"] = {};
        for (const [name, entries] of Object.entries(state.observed)) {
          const live = Object.fromEntries(Object.entries(entries).filter(([, window]) => window.resetsAt > now));
          if (Object.keys(live).length) observed[name] = live;
        }
        observed[provider] = {
          ...observed[provider],
          ...Object.fromEntries(windows.map((window) => [windowKey(window), window])),
        };
        return { ...state, observed, headersSeen: { ...state.headersSeen, [provider]: now } };
      });
      if (service.enabled()) logChanges(service.assess(now));
    },
    statusWarnings(now) {
      if (!service.enabled()) return [];
      const warnings: string[] = [];
      const warn = (who: string, assessment: ProviderAssessment | undefined) => {
        if (assessment?.level !== "stressed" && assessment?.level !== "critical") return;
        // A used-up window's UVI says nothing (1.4 at 70% elapsed, below stressed): it is out until its reset.
        const figure = assessment.worst.usedFraction >= 1 ? "used up" : formatUvi(assessment.uvi, 1);
        warnings.push(`quota ${assessment.level} ${who} ${figure}`);
      };
      // A window of some models only is named with them: "quota critical anthropic (opus models) 4.0".
      for (const [provider, quota] of Object.entries(service.assess(now))) {
        warn(provider, quota.shared);
        for (const scoped of quota.scoped) warn(`${provider} (${scoped.label})`, scoped.assessment);
      }
      return warnings;
    },
    subcommands: [uviCommand(service)],
    start() {
      let warned = "";
      cache.start(() => {
        if (!service.enabled()) return;
        const now = context.now();
        logChanges(service.assess(now));
        // Between requests the status line is built only by them: a window the refresh found eased (or critical now)
        // would keep its old warning there until the next prompt.
        const warnings = plugin.statusWarnings!(now).join("\n");
        if (warnings !== warned) context.stateChanged?.();
        warned = warnings;
      }, buildSources);
    },
    close: () => cache.close(),
  };
  return plugin;
}

export const UVI_HARD_MARK = "🛡️ uvi-hard";
