// Gathers the health report of every provider used by a route: credentials and their kind, whether each target's
// model resolves, cooldowns and breaker state, the usage API's last reading (quota pacing's, from the background), the
// last error and the unhealthy mark; with `probe`, a 1-token request per target through the runtime's own credentials
// path, and a fetch of the usage API. Runs only from the command, never on the request path.
import type { Api, AssistantMessage, Context, Model } from "@mariozechner/pi-ai";
import type { RouterConfig } from "../config/schema.ts";
import { classifyFailure } from "../runtime/classify-failure.ts";
import { startTarget, type RegistryLike, type StreamFunction } from "../runtime/start-target.ts";
import { accountOf, billingOf, routeTargetKey, targetKey, type TargetStatus } from "../routing/types.ts";
import type { Billing } from "../config/routing-schema.ts";
import type { ProbeAnswer, ProbeReservation } from "../runtime/plugin.ts";
import { openWindowCount } from "../routing/uvi.ts";
import { redactText } from "../state/redact.ts";
import { isDirectModel } from "../routing/direct-model.ts";
import { unhealthyReason, type HealthRecord, type ProbeResult } from "./health-book.ts";
import type { QuotaSource, SourceCache, SourceReading } from "../quota/source-cache.ts";
import { ownRecord } from "../own-record.ts";

/** A probe or usage-API check slower than this is reported as failed. */
export const HEALTH_CHECK_TIMEOUT_MS = 15_000;

export type CredentialKind = "oauth" | "api-key" | "none";

export interface TargetHealth {
  key: string;
  resolvable: boolean;
  credentials: CredentialKind;
  cooldowns: Array<{ routeId: string; until: number; kind: string }>;
  breaker: "closed" | "open" | "half-open";
  breakerUntil?: number;
  probe?: ProbeResult;
  /** `probe: false` in the routes file: never probed. */
  probeOff?: true;
  /** Why `--probe` sent this target nothing: its account is over a hard budget (a probe is paid for too). */
  probeHeldBack?: string;
}

export interface QuotaSourceHealth {
  id: string;
  ok: boolean;
  /** Fetched for this check (`--probe`), or (false) quota pacing's last background reading. */
  live: boolean;
  latencyMs?: number;
  /** Its open windows (a reset still to come): one already reset or not believed paces nothing. */
  windows?: number;
  error?: string;
  /** When the reading's windows were fetched (a cached reading; a stale one keeps the last good time). */
  fetchedAt?: number;
}

export interface ProviderHealth {
  provider: string;
  /** The strongest kind among its targets: oauth > api-key > none. */
  credentials: CredentialKind;
  targets: TargetHealth[];
  quotaSource?: QuotaSourceHealth;
  consecutiveFailures: number;
  lastError?: { message: string; at: number };
  unhealthy?: string;
}

/**
 * Why a provider cannot serve however its checks went: none of its targets' models is in pi's registry, or pi has no
 * credentials for it. The gateway's /health/providers is not ok for such a provider, and `/auto-router health` says so.
 */
export function setupProblem(report: Pick<ProviderHealth, "credentials" | "targets">): string | undefined {
  if (!report.targets.some((target) => target.resolvable)) return "none of its models is in pi's registry";
  if (report.credentials === "none") return "no credentials: /login or an API key";
  return undefined;
}

/** Quota pacing's usage-API sources and their last readings (the health check reports them; `probe` fetches). */
export type UsageReadings = Pick<SourceCache, "list" | "reading">;

export interface HealthInput {
  config: RouterConfig;
  registry: RegistryLike | undefined;
  now: () => number;
  cooldowns: Record<string, { until: number; kind: string }>;
  targetStatus: Record<string, Partial<TargetStatus>>;
  records: (provider: string) => HealthRecord | undefined;
  /** Quota pacing's usage-API sources and their last readings: reported as read, fetched again only with `probe`. */
  usage: UsageReadings;
  probe: boolean;
  stream?: StreamFunction;
  /** Called once per provider with its targets' probe results (together they are one health check). */
  onProbes?: (provider: string, results: ProbeResult[]) => void;
  /** Why a per-token target of this account must not be paid for now (a hard budget blocks it), else undefined. */
  hardBudgetBlock?: (account: string) => string | undefined;
  /** Reserves a probe's cost under a hard budget (RouterPlugin.reserveProbe): why it is held back, else undefined. */
  reserveProbe?: (probe: ProbeReservation) => Promise<string | undefined>;
  /** Each probe's end, with its answer when one came, for the spend it used (RouterPlugin.onProbeAnswer). */
  onProbeAnswer?: (answer: ProbeAnswer) => void;
  timeoutMs?: number;
}

function credentialKind(registry: RegistryLike, model: Model<Api>): CredentialKind {
  try {
    if (!registry.hasConfiguredAuth(model)) return "none";
    return registry.isUsingOAuth?.(model) ? "oauth" : "api-key";
  } catch {
    return "none";
  }
}

const KIND_RANK: Record<CredentialKind, number> = { none: 0, "api-key": 1, oauth: 2 };

/** One minimal request (1 output token) to a target through startTarget, with a timeout. */
export async function probeTarget(
  registry: RegistryLike,
  model: Model<Api>,
  options: {
    now: () => number;
    stream?: StreamFunction;
    timeoutMs?: number;
    /** The answer, whatever it ended in: what it used is spend like a routed answer's. */
    onAnswer?: (message: AssistantMessage) => void;
  },
): Promise<ProbeResult> {
  const startedAt = options.now();
  let status: number | undefined;
  const signal = AbortSignal.timeout(options.timeoutMs ?? HEALTH_CHECK_TIMEOUT_MS);
  const context: Context = { messages: [{ role: "user", content: "Reply with one word: ok", timestamp: startedAt }] };
  const finish = (message: AssistantMessage | undefined, errorText?: string): ProbeResult => {
    const latencyMs = options.now() - startedAt;
    const failed = errorText !== undefined || message?.stopReason === "error" || message?.stopReason === "aborted";
    const result: ProbeResult = { ok: !failed, latencyMs };
    if (status !== undefined) result.status = status;
    if (failed) {
      const failure = classifyFailure(
        {
          stopReason: message?.stopReason === "aborted" || signal.aborted ? "aborted" : "error",
          errorMessage: errorText ?? message?.errorMessage,
        },
        options.now(),
      );
      result.failureKind = signal.aborted ? "timeout" : failure.kind;
      // pi-ai reports the status of successful responses only; a failed one's status is in its error text. An answer
      // that began 200 and then failed (an error event in the stream) shows the failure's status, or none: "failed 200
      // server ...: 503 Service Unavailable" read as a contradiction.
      if (failure.status !== undefined) result.status = failure.status;
      else delete result.status;
      result.error = redactText(
        signal.aborted
          ? `no answer within ${options.timeoutMs ?? HEALTH_CHECK_TIMEOUT_MS} ms`
          : failure.message || failure.kind,
      );
    }
    return result;
  };
  const started = await startTarget({
    registry,
    model,
    context,
    signal,
    stream: options.stream,
    options: { maxTokens: 1, onResponse: (response: { status: number }) => void (status = response.status) } as never,
  });
  if (typeof started === "string") return finish(undefined, started);
  try {
    const message = await started.result();
    options.onAnswer?.(message);
    return finish(message);
  } catch (error) {
    return finish(undefined, error instanceof Error ? error.message : String(error));
  }
}

async function checkSource(source: QuotaSource, now: () => number, timeoutMs: number): Promise<QuotaSourceHealth> {
  const startedAt = now();
  try {
    const windows = await source.fetch(AbortSignal.timeout(timeoutMs));
    const at = now();
    return { id: source.id, ok: true, live: true, latencyMs: at - startedAt, windows: openWindowCount(windows, at) };
  } catch (error) {
    return {
      id: source.id,
      ok: false,
      live: true,
      latencyMs: now() - startedAt,
      error: redactText(error instanceof Error ? error.message : String(error)),
    };
  }
}

/**
 * The source as quota pacing last read it in the background (a health check polled often must not fetch); also the
 * debug report's.
 */
export function cachedSource(id: string, reading: SourceReading | undefined, now: number): QuotaSourceHealth {
  if (!reading) return { id, ok: false, live: false, error: "not fetched yet" };
  const report: QuotaSourceHealth = {
    id,
    ok: !reading.stale,
    live: false,
    windows: openWindowCount(reading.windows, now),
  };
  if (reading.latencyMs !== undefined) report.latencyMs = reading.latencyMs;
  if (reading.fetchedAt !== undefined) report.fetchedAt = reading.fetchedAt;
  if (reading.stale) report.error = redactText(reading.error ?? "the last fetch failed");
  return report;
}

/** Providers (auth providers) used by any route, with their targets (first route order, each target once). */
export function providerTargets(
  config: RouterConfig,
): Map<string, Array<{ provider: string; modelId: string; probeOff?: true; billing?: Billing }>> {
  const out = new Map<string, Array<{ provider: string; modelId: string; probeOff?: true; billing?: Billing }>>();
  for (const route of Object.values(config.routes)) {
    for (const target of route.targets) {
      const provider = accountOf(target);
      const list = out.get(provider) ?? [];
      const listed = list.find((item) => item.provider === target.provider && item.modelId === target.modelId);
      if (!listed)
        list.push({
          provider: target.provider,
          modelId: target.modelId,
          ...(target.billing ? { billing: target.billing } : {}),
        });
      // `probe: false` on any route's entry of the target: it is not probed.
      if (target.probe === false) (listed ?? list.at(-1)!).probeOff = true;
      out.set(provider, list);
    }
  }
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The config with a one-target route for each gateway `provider/model` route (direct-model.ts) a target rests on: pi's
 * commands share the gateway's state directory but not its routes, so without them health would not show those rests
 * (status lists every rest). A route the config has already (the gateway's own, DirectRoutes) is kept as it is.
 */
export function withRestingDirectRoutes(
  config: RouterConfig,
  cooldowns: Readonly<Record<string, unknown>>,
): RouterConfig {
  let routes: RouterConfig["routes"] | undefined;
  for (const cooldownKey of Object.keys(cooldowns)) {
    // A direct route's rest key is `p/m::p/m`: the route is its one target.
    const routeId = cooldownKey.slice(0, (cooldownKey.length - 2) / 2);
    if (!isDirectModel(routeId) || cooldownKey !== routeTargetKey(routeId, routeId)) continue;
    if (config.routes[routeId] || routes?.[routeId]) continue;
    const slash = routeId.indexOf("/");
    routes ??= ownRecord(config.routes);
    routes[routeId] = {
      sortBy: "config",
      targets: [{ provider: routeId.slice(0, slash), modelId: routeId.slice(slash + 1) }],
    };
  }
  return routes ? { ...config, routes } : config;
}

export async function checkHealth(input: HealthInput): Promise<ProviderHealth[]> {
  const timeoutMs = input.timeoutMs ?? HEALTH_CHECK_TIMEOUT_MS;
  const config = withRestingDirectRoutes(input.config, input.cooldowns);
  const routeIds = Object.keys(config.routes);
  const reports = [...providerTargets(config).entries()].map(async ([provider, targets]): Promise<ProviderHealth> => {
    const targetReports = await Promise.all(
      targets.map(async (target): Promise<TargetHealth> => {
        const key = targetKey(target.provider, target.modelId);
        let model: Model<Api> | undefined;
        try {
          model = input.registry?.find(target.provider, target.modelId);
        } catch {
          model = undefined;
        }
        const cooldowns = routeIds.flatMap((routeId) => {
          const entry = input.cooldowns[routeTargetKey(routeId, key)];
          return entry ? [{ routeId, until: entry.until, kind: entry.kind }] : [];
        });
        const breaker = input.targetStatus[key]?.breaker;
        const report: TargetHealth = {
          key,
          resolvable: model !== undefined,
          credentials: model && input.registry ? credentialKind(input.registry, model) : "none",
          cooldowns,
          breaker: breaker?.state ?? "closed",
        };
        if (breaker?.until !== undefined) report.breakerUntil = breaker.until;
        const billing = billingOf(target, { usesOAuth: report.credentials === "oauth" });
        // A subscription's answer costs nothing of the budget: only a per-token target is held back.
        const heldBack = input.probe && billing === "per-token" ? input.hardBudgetBlock?.(provider) : undefined;
        const sendable = input.probe && model && input.registry && !target.probeOff && !heldBack;
        const probe: ProbeReservation = {
          id: `probe:${key}:${input.now()}`,
          account: provider,
          provider: target.provider,
          modelId: target.modelId,
          billing,
          now: input.now(),
        };
        const refused = sendable ? await input.reserveProbe?.(probe) : undefined;
        if (target.probeOff) report.probeOff = true;
        else if (heldBack || refused) report.probeHeldBack = (heldBack ?? refused)!;
        else if (sendable) {
          let answered = false;
          report.probe = await probeTarget(input.registry!, model!, {
            now: input.now,
            stream: input.stream,
            timeoutMs,
            onAnswer: (message) => {
              answered = true;
              input.onProbeAnswer?.({ ...probe, message, now: input.now() });
            },
          });
          if (!answered) input.onProbeAnswer?.({ ...probe, now: input.now() });
        }
        return report;
      }),
    );
    const probes = targetReports.flatMap((target) => (target.probe ? [target.probe] : []));
    if (probes.length > 0) input.onProbes?.(provider, probes);
    const source = input.usage.list().find((item) => item.provider === provider);
    const record = input.records(provider);
    const report: ProviderHealth = {
      provider,
      credentials: targetReports.reduce<CredentialKind>(
        (best, target) => (KIND_RANK[target.credentials] > KIND_RANK[best] ? target.credentials : best),
        "none",
      ),
      targets: targetReports,
      consecutiveFailures: record?.failures ?? 0,
    };
    if (source)
      report.quotaSource = input.probe
        ? await checkSource(source, input.now, timeoutMs)
        : cachedSource(source.id, input.usage.reading(source.id), input.now());
    if (record?.lastError !== undefined && record.lastErrorAt !== undefined)
      report.lastError = { message: record.lastError, at: record.lastErrorAt };
    const unhealthy = unhealthyReason(input.records(provider), input.now());
    if (unhealthy) report.unhealthy = unhealthy;
    return report;
  });
  return Promise.all(reports);
}
