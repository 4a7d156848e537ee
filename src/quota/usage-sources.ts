// Subscription usage APIs, read with the user's OAuth token from pi's model registry (getApiKeyForProvider refreshes
// it; auth.json is never read or written here). Every endpoint can be overridden (config `uvi.endpoints` or env) so
// tests run against a local emulator.
//   Anthropic   GET  /api/oauth/usage  -> {five_hour:{utilization(0..100), resets_at}, seven_day:{...}, ...}; the
//                                          seven_day_opus / seven_day_sonnet limits count (and pace) only those models
//   Codex       GET  /backend-api/wham/usage -> {rate_limit:{primary_window:{used_percent, limit_window_seconds,
//                                                reset_at | reset_after_seconds}, secondary_window:{...}}}
//   Gemini CLI  POST /v1internal:retrieveUserQuota {project} -> {buckets:[{remainingFraction, resetTime, modelId}]};
//                                          a bucket counts (and paces) only its model. Each model comes twice, its
//                                          own bucket and one whose modelId ends in "_vertex" ("gemini-2.5-pro" and
//                                          "gemini-2.5-pro_vertex", in answers quoted by Gemini CLI quota viewers and
//                                          CLIProxyAPI's management UI, which strips the suffix): see bucketModelId
import {
  googleBucketWindow,
  MAX_QUOTA_WINDOW_MS,
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

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** A value as a problem shows it: short, and never the inside of an object. */
function shown(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (isObject(value)) return "an object";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/**
 * The answer's fields read with their types checked: a field absent or null is not there (a window not started yet),
 * one of another type is a problem named by its path, and the fetch fails rather than read as "no windows".
 */
class Fields {
  constructor(readonly problems: string[]) {}
  wrong(where: string, expected: string, value: unknown): undefined {
    this.problems.push(`${where}: expected ${expected}, got ${shown(value)}`);
    return undefined;
  }
  number(entry: Record<string, unknown>, name: string, where: string): number | undefined {
    const value = entry[name];
    if (value === undefined || value === null) return undefined;
    return typeof value === "number" && Number.isFinite(value)
      ? value
      : this.wrong(`${where}.${name}`, "a number", value);
  }
  time(entry: Record<string, unknown>, name: string, where: string): number | undefined {
    const value = entry[name];
    if (value === undefined || value === null) return undefined;
    const time = typeof value === "string" ? Date.parse(value) : NaN;
    return Number.isNaN(time) ? this.wrong(`${where}.${name}`, "an ISO 8601 time", value) : time;
  }
  /** An entry that must be an object when present; undefined (and a problem when it is something else) otherwise. */
  object(value: unknown, where: string, expected: string): Record<string, unknown> | undefined {
    if (value === undefined || value === null) return undefined;
    return isObject(value) ? value : this.wrong(where, expected, value);
  }
}

const percentToFraction = (percent: number): number => Math.min(1, Math.max(0, percent / 100));

/** The account-wide windows, and the weekly ones that only Opus or only Sonnet models draw on. */
const ANTHROPIC_WINDOWS: Record<string, { name: string; windowMs: number; models?: ModelScope }> = {
  five_hour: { name: "5h", windowMs: 5 * HOUR_MS },
  seven_day: { name: "7d", windowMs: 7 * DAY_MS },
  seven_day_opus: { name: "7d opus", windowMs: 7 * DAY_MS, models: { family: "opus" } },
  seven_day_sonnet: { name: "7d sonnet", windowMs: 7 * DAY_MS, models: { family: "sonnet" } },
};

/** A window null, or without a reset, has not started (nothing used in it yet): no window, and no problem. */
export function anthropicUsageWindows(body: unknown, now: number, problems: string[] = []): QuotaWindow[] {
  const fields = new Fields(problems);
  const names = Object.keys(ANTHROPIC_WINDOWS);
  if (!isObject(body) || !names.some((name) => name in body)) {
    fields.wrong("the answer", `an object with ${names.join(", ")}`, body);
    return [];
  }
  const windows: QuotaWindow[] = [];
  for (const [field, spec] of Object.entries(ANTHROPIC_WINDOWS)) {
    const entry = fields.object(body[field], field, "an object {utilization, resets_at}");
    if (!entry) continue;
    const utilization = fields.number(entry, "utilization", field);
    const resetsAt = fields.time(entry, "resets_at", field);
    if (utilization === undefined || resetsAt === undefined) continue;
    const window: QuotaWindow = {
      name: spec.name,
      usedFraction: percentToFraction(utilization),
      windowMs: spec.windowMs,
      resetsAt,
      source: "usage-api",
    };
    if (spec.models) window.models = spec.models;
    keep(windows, problems, window, `${field}.resets_at`, now);
  }
  return windows;
}

/** `rate_limit: null` is an account without limits: no windows, and no problem. */
export function codexUsageWindows(body: unknown, now: number, problems: string[] = []): QuotaWindow[] {
  const fields = new Fields(problems);
  if (!isObject(body) || !("rate_limit" in body)) {
    fields.wrong("the answer", "an object with rate_limit", body);
    return [];
  }
  const limits = fields.object(body.rate_limit, "rate_limit", "an object {primary_window, secondary_window}");
  const windows: QuotaWindow[] = [];
  for (const [field, name] of [
    ["primary_window", "primary"],
    ["secondary_window", "secondary"],
  ] as const) {
    const where = `rate_limit.${field}`;
    const entry = limits && fields.object(limits[field], where, "an object {used_percent, limit_window_seconds, ...}");
    if (!entry) continue;
    const used = fields.number(entry, "used_percent", where);
    const windowSeconds = fields.number(entry, "limit_window_seconds", where);
    const resetAt = fields.number(entry, "reset_at", where);
    const resetAfter = resetAt === undefined ? fields.number(entry, "reset_after_seconds", where) : undefined;
    if (used === undefined || windowSeconds === undefined) continue;
    const windowTooLong = windowSeconds * 1000 > MAX_QUOTA_WINDOW_MS;
    if (windowSeconds <= 0 || windowTooLong)
      fields.wrong(
        `${where}.limit_window_seconds`,
        `a number above 0, at most a year (${MAX_QUOTA_WINDOW_MS / 1000})`,
        windowSeconds,
      );
    const resetsAt = resetAt !== undefined ? resetAt * 1000 : resetAfter !== undefined ? now + resetAfter * 1000 : NaN;
    if (Number.isNaN(resetsAt)) fields.wrong(where, "reset_at or reset_after_seconds", entry);
    if (windowSeconds <= 0 || windowTooLong || Number.isNaN(resetsAt)) continue;
    const window: QuotaWindow = {
      name,
      usedFraction: percentToFraction(used),
      windowMs: windowSeconds * 1000,
      resetsAt,
      source: "usage-api",
    };
    keep(windows, problems, window, `${where}.${resetAt !== undefined ? "reset_at" : "reset_after_seconds"}`, now);
  }
  return windows;
}

/**
 * Suffixes a Gemini CLI bucket's modelId carries after the model's own id. Only "_vertex" is known; a routed Gemini id
 * never holds an underscore, so cutting it never turns one model's id into another's ("gemini-2.5-pro-preview_vertex"
 * is gemini-2.5-pro-preview's, never gemini-2.5-pro's).
 */
export const GEMINI_BUCKET_MODEL_SUFFIXES: readonly string[] = ["_vertex"];

/** The model a bucket counts: its modelId without a known suffix ("gemini-2.5-pro_vertex" -> "gemini-2.5-pro"). */
export function bucketModelId(modelId: string): string {
  const lower = modelId.toLowerCase();
  const suffix = GEMINI_BUCKET_MODEL_SUFFIXES.find((end) => lower.length > end.length && lower.endsWith(end));
  return suffix ? modelId.slice(0, -suffix.length) : modelId;
}

/**
 * An empty bucket list is an account without buckets; a bucket without remainingFraction is not limited. A bucket's
 * name keeps its modelId as sent; its model scope is the model it counts (bucketModelId), the id routes use.
 */
export function geminiQuotaWindows(
  body: unknown,
  now: number,
  problems: string[] = [],
  periodMs: number = GEMINI_BUCKET_PERIOD_MS,
): QuotaWindow[] {
  const fields = new Fields(problems);
  if (!isObject(body) || !Array.isArray(body.buckets)) {
    fields.wrong("the answer", "an object with a buckets array", body);
    return [];
  }
  const windows: QuotaWindow[] = [];
  for (const [index, item] of body.buckets.entries()) {
    const where = `buckets[${index}]`;
    const bucket = fields.object(item, where, "an object {remainingFraction, resetTime, modelId}");
    if (!bucket) continue;
    const remaining = fields.number(bucket, "remainingFraction", where);
    const resetsAt = fields.time(bucket, "resetTime", where);
    if (remaining === undefined || resetsAt === undefined) continue;
    const name = [bucket.modelId, bucket.tokenType].filter((part) => typeof part === "string").join(" ") || "bucket";
    const modelId =
      typeof bucket.modelId === "string" && bucket.modelId !== "" ? bucketModelId(bucket.modelId) : undefined;
    const window = googleBucketWindow({ name, remainingFraction: remaining, resetsAt, periodMs, modelId });
    keep(windows, problems, window, `${where}.resetTime`, now);
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
