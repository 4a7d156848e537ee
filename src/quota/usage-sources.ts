// Subscription usage APIs, read with the user's OAuth token from pi's model registry (getApiKeyForProvider refreshes
// it; auth.json is never read or written here). Every endpoint can be overridden (config `uvi.endpoints` or env) so
// tests run against a local emulator.
//   Anthropic   GET  /api/oauth/usage  -> {five_hour:{utilization(0..100), resets_at}, seven_day:{...}, ...}; the
//                                          seven_day_opus / seven_day_sonnet limits count (and pace) only those models
//   Codex       GET  /backend-api/wham/usage -> {rate_limit:{primary_window:{used_percent, limit_window_seconds,
//                                                reset_at | reset_after_seconds}, secondary_window:{...}}}
//   Gemini CLI  POST /v1internal:retrieveUserQuota {project} -> {buckets:[{remainingFraction, resetTime, modelId}]};
//                                          a bucket counts (and paces) only its model
import {
  googleBucketWindow,
  resetBelievable,
  unbelievableResetText,
  type ModelScope,
  type QuotaWindow,
} from "../routing/uvi.ts";
import { fetchJsonWithRetry, type FetchJsonOptions } from "./fetch-json.ts";
import type { QuotaSource } from "./source-cache.ts";

export const ANTHROPIC_USAGE_URL = "https://api.anthropic.com/api/oauth/usage";
export const CODEX_USAGE_URL = "https://chatgpt.com/backend-api/wham/usage";
export const GEMINI_QUOTA_URL = "https://cloudcode-pa.googleapis.com/v1internal:retrieveUserQuota";
/** Gemini CLI buckets are per-day request quotas. */
export const GEMINI_BUCKET_PERIOD_MS = 24 * 60 * 60 * 1000;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** pi provider ids of the subscriptions that have a usage API. */
export const USAGE_API_PROVIDERS = ["anthropic", "openai-codex", "google-gemini-cli"] as const;
export type UsageApiProvider = (typeof USAGE_API_PROVIDERS)[number];

export type TokenLookup = (provider: string) => Promise<string | undefined>;

/** How a usage source reaches pi's login: the token (refreshed by pi), and whether a login is stored at all. */
export interface LoginLookup {
  token: TokenLookup;
  /** pi's auth.json holds a credential for the provider (`/login`), whether or not it still gives a token. */
  hasLogin?: (provider: string) => boolean;
}

/** The login lookups on pi's model registry (both pi lines have these methods; never `authStorage`). */
export function registryLogins(registry: () => unknown): LoginLookup {
  type Registry = {
    getApiKeyForProvider?: (provider: string) => Promise<string | undefined>;
    getProviderAuthStatus?: (provider: string) => { source?: string } | undefined;
  };
  return {
    token: async (provider) => (registry() as Registry | undefined)?.getApiKeyForProvider?.(provider),
    hasLogin: (provider) => {
      try {
        return (registry() as Registry | undefined)?.getProviderAuthStatus?.(provider)?.source === "stored";
      } catch {
        return false;
      }
    },
  };
}

/** One try (the source cache refreshes on its own schedule), cancelled with the cache's signal. */
function getJson(
  url: string,
  request: Pick<FetchJsonOptions, "headers" | "method" | "body">,
  signal: AbortSignal,
): Promise<any> {
  return fetchJsonWithRetry(url, { ...request, signal, retries: 0 });
}

/**
 * Keeps a window whose reset is believable; any other is a problem of the answer, named by its field (`where`): the
 * fetch fails, and the last good reading stays, marked stale, rather than a window keeping the target out for ages.
 */
function keep(windows: QuotaWindow[], problems: string[], window: QuotaWindow, where: string, now: number): void {
  if (resetBelievable(window, now)) windows.push(window);
  else problems.push(`${where}: the ${window.name} window ${unbelievableResetText(window, now)}`);
}

const toFraction = (percent: unknown): number | undefined =>
  typeof percent === "number" && Number.isFinite(percent) ? Math.min(1, Math.max(0, percent / 100)) : undefined;

/** The account-wide windows, and the weekly ones that only Opus or only Sonnet models draw on. */
const ANTHROPIC_WINDOWS: Record<string, { name: string; windowMs: number; models?: ModelScope }> = {
  five_hour: { name: "5h", windowMs: 5 * HOUR_MS },
  seven_day: { name: "7d", windowMs: 7 * DAY_MS },
  seven_day_opus: { name: "7d opus", windowMs: 7 * DAY_MS, models: { family: "opus" } },
  seven_day_sonnet: { name: "7d sonnet", windowMs: 7 * DAY_MS, models: { family: "sonnet" } },
};

export function anthropicUsageWindows(body: any, now: number, problems: string[] = []): QuotaWindow[] {
  const windows: QuotaWindow[] = [];
  for (const [field, spec] of Object.entries(ANTHROPIC_WINDOWS)) {
    const entry = body?.[field];
    const used = toFraction(entry?.utilization);
    const resetsAt = typeof entry?.resets_at === "string" ? Date.parse(entry.resets_at) : NaN;
    if (used === undefined || Number.isNaN(resetsAt)) continue;
    const window: QuotaWindow = {
      name: spec.name,
      usedFraction: used,
      windowMs: spec.windowMs,
      resetsAt,
      source: "usage-api",
    };
    if (spec.models) window.models = spec.models;
    keep(windows, problems, window, `${field}.resets_at`, now);
  }
  return windows;
}

export function codexUsageWindows(body: any, now: number, problems: string[] = []): QuotaWindow[] {
  const windows: QuotaWindow[] = [];
  for (const [field, name] of [
    ["primary_window", "primary"],
    ["secondary_window", "secondary"],
  ] as const) {
    const entry = body?.rate_limit?.[field];
    const used = toFraction(entry?.used_percent);
    const windowSeconds = entry?.limit_window_seconds;
    if (used === undefined || typeof windowSeconds !== "number" || windowSeconds <= 0) continue;
    const resetsAt =
      typeof entry.reset_at === "number"
        ? entry.reset_at * 1000
        : typeof entry.reset_after_seconds === "number"
          ? now + entry.reset_after_seconds * 1000
          : undefined;
    if (resetsAt === undefined) continue;
    const window: QuotaWindow = {
      name,
      usedFraction: used,
      windowMs: windowSeconds * 1000,
      resetsAt,
      source: "usage-api",
    };
    const reset = typeof entry.reset_at === "number" ? "reset_at" : "reset_after_seconds";
    keep(windows, problems, window, `rate_limit.${field}.${reset}`, now);
  }
  return windows;
}

export function geminiQuotaWindows(
  body: any,
  now: number,
  problems: string[] = [],
  periodMs: number = GEMINI_BUCKET_PERIOD_MS,
): QuotaWindow[] {
  const windows: QuotaWindow[] = [];
  const buckets: unknown[] = Array.isArray(body?.buckets) ? body.buckets : [];
  for (const [index, bucket] of buckets.entries() as IterableIterator<[number, any]>) {
    const remaining = bucket?.remainingFraction;
    const resetsAt = typeof bucket?.resetTime === "string" ? Date.parse(bucket.resetTime) : NaN;
    if (typeof remaining !== "number" || Number.isNaN(resetsAt)) continue;
    const name = [bucket.modelId, bucket.tokenType].filter((part) => typeof part === "string").join(" ") || "bucket";
    const modelId = typeof bucket.modelId === "string" && bucket.modelId !== "" ? bucket.modelId : undefined;
    const window = googleBucketWindow({ name, remainingFraction: remaining, resetsAt, periodMs, modelId });
    keep(windows, problems, window, `buckets[${index}].resetTime`, now);
  }
  return windows;
}

/** The Gemini CLI credential pi hands out is JSON {token, projectId}; a bare token has no project. */
function geminiCredential(raw: string): { token: string; projectId?: string } {
  try {
    const parsed = JSON.parse(raw);
    if (parsed && typeof parsed.token === "string")
      return { token: parsed.token, projectId: typeof parsed.projectId === "string" ? parsed.projectId : undefined };
  } catch {
    // not JSON: a bare token
  }
  return { token: raw };
}

/** The windows an answer gives, or a failed fetch naming every problem found in it. */
function checked(read: (problems: string[]) => QuotaWindow[]): QuotaWindow[] {
  const problems: string[] = [];
  const windows = read(problems);
  if (problems.length > 0) throw new Error(`unusable usage API answer: ${problems.join("; ")}`);
  return windows;
}

export interface UsageSourceOptions extends LoginLookup {
  provider: UsageApiProvider;
  endpoint?: string;
  now: () => number;
}

export function createUsageSource(options: UsageSourceOptions): QuotaSource {
  const { provider, token, now } = options;
  const needToken = async () => {
    const value = await token(provider);
    if (value) return value;
    // pi keeps an OAuth login whose refresh failed (offline, revoked) and gives no token for it: that is not "no login".
    throw new Error(
      options.hasLogin?.(provider)
        ? `pi has a login for ${provider}, but its OAuth token has expired and could not be refreshed (offline, or the login was revoked?): /login again`
        : `no OAuth credentials for ${provider} (/login)`,
    );
  };
  switch (provider) {
    case "anthropic":
      return {
        id: "anthropic-usage",
        provider,
        async fetch(signal) {
          const body = await getJson(
            options.endpoint ?? ANTHROPIC_USAGE_URL,
            { headers: { authorization: `Bearer ${await needToken()}`, "anthropic-beta": "oauth-2025-04-20" } },
            signal,
          );
          return checked((problems) => anthropicUsageWindows(body, now(), problems));
        },
      };
    case "openai-codex":
      return {
        id: "codex-usage",
        provider,
        async fetch(signal) {
          const body = await getJson(
            options.endpoint ?? CODEX_USAGE_URL,
            { headers: { authorization: `Bearer ${await needToken()}` } },
            signal,
          );
          return checked((problems) => codexUsageWindows(body, now(), problems));
        },
      };
    case "google-gemini-cli":
      return {
        id: "gemini-quota",
        provider,
        async fetch(signal) {
          const credential = geminiCredential(await needToken());
          const body = await getJson(
            options.endpoint ?? GEMINI_QUOTA_URL,
            {
              method: "POST",
              headers: { authorization: `Bearer ${credential.token}`, "content-type": "application/json" },
              body: JSON.stringify(credential.projectId ? { project: credential.projectId } : {}),
            },
            signal,
          );
          return checked((problems) => geminiQuotaWindows(body, now(), problems));
        },
      };
  }
}
