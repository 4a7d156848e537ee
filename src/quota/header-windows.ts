// Passive quota source: the rate-limit headers every target response already carries, read through pi-ai's
// onResponse hook. Any provider that sends them gets pacing with zero extra requests.
//   Anthropic: anthropic-ratelimit-unified-<5h|7d|...>-utilization (0..1) + -reset (epoch s) on subscriptions
//              ("7d_opus": a window only Opus models draw on, so it paces only them);
//              anthropic-ratelimit-<requests|tokens|input-tokens|output-tokens>-<limit|remaining|reset> (RFC 3339)
//   OpenAI:    x-ratelimit-<limit|remaining|reset>-<requests|tokens> (reset as "6m0s", "1s", "20ms"; Groq the same,
//              "1.57s"); other OpenAI-compatible providers send the reset as a bare number of seconds ("59.5") or
//              epoch seconds (see parseResetTime)
//   Cerebras:  x-ratelimit-<limit|remaining|reset>-<requests-day|tokens-minute> (reset in seconds, "11.382867097854614"):
//              the name says the window's length
//   Codex:     x-codex-<primary|secondary>-used-percent, -window-minutes, -reset-after-seconds | -reset-at (epoch s)
//   Unsuffixed x-ratelimit-<limit|remaining|reset> (one request limit; genericWindows), read when no suffixed
//   x-ratelimit-*-requests is sent:
//              OpenRouter: the reset in epoch MILLISECONDS ("X-RateLimit-Reset": "1743638400000" for a daily limit,
//                "1789138080000" for a per-minute one, in the metadata.headers of OpenRouter 429 bodies quoted in
//                public issues and tests);
//              Together AI: the reset as the time until it resets, in seconds (support.together.ai "Rate limits":
//                "x-ratelimit-reset: the time until the rate limit (based on requests) resets"), and its token limit
//                as x-tokenlimit-<limit|remaining> (no reset of its own: x-ratelimit-reset's applies);
//              other APIs of this shape send epoch seconds (GitHub-style "1700000000").
import { MAX_QUOTA_WINDOW_MS, resetBelievable, unbelievableResetText, type QuotaWindow } from "../routing/uvi.ts";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** Per-minute limits are the norm for request/token headers; longer resets mean a per-day limit. */
const MINUTE_WINDOW_MS = MINUTE_MS;

/** A window left out because its reset cannot be right: the header that said so, and why. */
export interface RejectedHeader {
  header: string;
  text: string;
}

/** Keeps a window whose reset is believable; names the header of any other in `rejected` (uvi.ts resetBelievable). */
function keep(
  windows: QuotaWindow[],
  rejected: RejectedHeader[],
  window: QuotaWindow,
  header: string,
  expected: string,
  now: number,
): void {
  if (resetBelievable(window, now)) windows.push(window);
  else
    rejected.push({
      header,
      text: `${header} says the ${window.name} window ${unbelievableResetText(window, now)} (expected ${expected}): window ignored`,
    });
}

const lower = (headers: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), String(value)]));

const finite = (text: string | undefined): number | undefined => {
  if (text === undefined || text.trim() === "") return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
};

/** "5h" -> 5 hours, "7d" -> 7 days, "30m" -> 30 minutes; undefined for names without a length ("7d_opus" -> 7 days). */
export function windowLengthFromName(name: string): number | undefined {
  const match = /^(\d+)([mhd])/.exec(name);
  if (!match) return undefined;
  const unit = match[2] === "m" ? MINUTE_MS : match[2] === "h" ? HOUR_MS : DAY_MS;
  return Number(match[1]) * unit;
}

/** OpenAI's reset durations: "1s", "6m0s", "1h2m3.5s", "20ms"; undefined for anything else (the whole text must be one). */
export function parseResetDuration(text: string | undefined): number | undefined {
  if (!text) return undefined;
  text = text.trim();
  if (!/^(?:\d+(?:\.\d+)?(?:ms|h|m|s))+$/.test(text)) return undefined;
  const pattern = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let matched = false;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    matched = true;
    const value = Number(match[1]);
    total +=
      match[2] === "ms"
        ? value
        : match[2] === "s"
          ? value * 1000
          : match[2] === "m"
            ? value * MINUTE_MS
            : value * HOUR_MS;
  }
  return matched ? total : undefined;
}

/**
 * A bare number in a reset header is seconds from now ("1", "59.5"), a time in epoch seconds ("1764662400") or one in
 * epoch milliseconds ("1764662400000", OpenRouter). Every epoch-seconds time a provider sends now lies past 1e9
 * (September 2001), and no rate-limit window comes near 1e9 seconds from now (a day is 86,400 s, a year 3.2e7 s), so 1e9
 * tells the first two apart. Epoch seconds reach 1e12 only in the year 33658, and every epoch-milliseconds time since
 * September 2001 lies past it, so 1e12 tells the last two apart.
 */
const EPOCH_SECONDS_FROM = 1e9;
const EPOCH_MILLISECONDS_FROM = 1e12;

/**
 * When a reset header says its window resets (epoch ms): a duration ("6m0s", "1.57s", "20ms") or a bare number
 * (seconds from now, epoch seconds or epoch milliseconds, see EPOCH_SECONDS_FROM); undefined when the value is neither.
 */
export function parseResetTime(text: string, now: number): number | undefined {
  const duration = parseResetDuration(text);
  if (duration !== undefined) return now + duration;
  const value = finite(text);
  if (value === undefined || value < 0) return undefined;
  if (value >= EPOCH_MILLISECONDS_FROM) return value;
  return value >= EPOCH_SECONDS_FROM ? value * 1000 : now + value * 1000;
}

/**
 * What a header's value looks like, for a warning: each digit as 9 and each letter as a, other characters kept
 * ("12:30" -> "99:99"). The value itself is never quoted: a header could carry anything.
 */
export function valueShape(text: string): string {
  const shape = text
    .trim()
    .replace(/[0-9]/g, "9")
    .replace(/[A-Za-z]/g, "a")
    .replace(/[^\x20-\x7e]/g, "?");
  if (shape === "") return "an empty value";
  return shape.length > 32
    ? `a value shaped ${shape.slice(0, 32)}... (${shape.length} characters)`
    : `a value shaped ${shape}`;
}

/** A reset header present but unreadable: named in `rejected` (warned once per provider and header), with its shape. */
function unreadable(rejected: RejectedHeader[], header: string, value: string, expected: string): void {
  rejected.push({
    header,
    text: `${header} has ${valueShape(value)}, which cannot be read as a reset (expected ${expected}): its window is ignored`,
  });
}

const RESET_TIME_EXPECTED = 'seconds from now ("59.5"), epoch seconds or milliseconds, or a duration such as "6m0s"';

/**
 * A request or token limit window. These limits are the model's (Anthropic's per model class, OpenAI's per model), so
 * with the answering model's id the window paces that model only: one model near its per-minute limit does not demote
 * or skip the provider's other models. `bucket`: the provider refills the limit continuously (Anthropic's and OpenAI's
 * request and token limits are token buckets, their reset the time until the bucket is full again), so a per-minute one
 * is read as refilling (uvi.ts REFILLING_ELAPSED_FRACTION), not as a fixed minute.
 */
function limitWindow(
  name: string,
  limit: number | undefined,
  remaining: number | undefined,
  resetInMs: number | undefined,
  now: number,
  modelId: string | undefined,
  namedWindowMs?: number,
  bucket = false,
): QuotaWindow | undefined {
  if (limit === undefined || remaining === undefined || limit <= 0 || resetInMs === undefined) return undefined;
  const windowMs = namedWindowMs ?? (resetInMs > MINUTE_WINDOW_MS ? DAY_MS : MINUTE_WINDOW_MS);
  const window: QuotaWindow = {
    name,
    usedFraction: Math.min(1, Math.max(0, 1 - remaining / limit)),
    windowMs,
    resetsAt: now + Math.max(0, resetInMs),
    source: "headers",
  };
  if (modelId) window.models = { id: modelId.toLowerCase() };
  if (bucket && windowMs === MINUTE_WINDOW_MS) window.refills = true;
  return window;
}

function anthropicWindows(
  headers: Record<string, string>,
  now: number,
  rejected: RejectedHeader[],
  modelId: string | undefined,
): QuotaWindow[] {
  const windows: QuotaWindow[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const match = /^anthropic-ratelimit-unified-(.+)-utilization$/.exec(name);
    if (!match) continue;
    const windowName = match[1]!;
    const utilization = finite(value);
    const resetHeader = `anthropic-ratelimit-unified-${windowName}-reset`;
    const resetText = headers[resetHeader];
    // Epoch seconds, as Anthropic sends; a bare number of seconds from now or a duration is read too (parseResetTime).
    const resetsAt = resetText === undefined ? undefined : parseResetTime(resetText, now);
    const windowMs = windowLengthFromName(windowName);
    if (utilization === undefined || windowMs === undefined) continue;
    if (resetsAt === undefined) {
      if (resetText !== undefined) unreadable(rejected, resetHeader, resetText, "epoch seconds");
      continue;
    }
    const window: QuotaWindow = {
      name: windowName,
      usedFraction: Math.min(1, Math.max(0, utilization)),
      windowMs,
      resetsAt,
      source: "headers",
    };
    const family = /^\d+[mhd]_([a-z]+)$/.exec(windowName)?.[1];
    if (family) window.models = { family };
    keep(windows, rejected, window, resetHeader, "epoch seconds", now);
  }
  for (const kind of ["requests", "tokens", "input-tokens", "output-tokens"]) {
    const reset = headers[`anthropic-ratelimit-${kind}-reset`];
    const resetAt = reset ? Date.parse(reset) : NaN;
    if (reset !== undefined && Number.isNaN(resetAt)) {
      unreadable(rejected, `anthropic-ratelimit-${kind}-reset`, reset, "an RFC 3339 time");
      continue;
    }
    const window = limitWindow(
      kind,
      finite(headers[`anthropic-ratelimit-${kind}-limit`]),
      finite(headers[`anthropic-ratelimit-${kind}-remaining`]),
      Number.isNaN(resetAt) ? undefined : resetAt - now,
      now,
      modelId,
      undefined,
      true,
    );
    if (window)
      keep(windows, rejected, window, `anthropic-ratelimit-${kind}-reset`, "an RFC 3339 time within a day", now);
  }
  return windows;
}

/** The x-ratelimit-*-<kind> suffixes read: OpenAI's (window length from the reset) and Cerebras's (named). */
const LIMIT_KINDS: ReadonlyArray<{ kind: string; windowMs?: number; within: string }> = [
  { kind: "requests", within: "a day" },
  { kind: "tokens", within: "a day" },
  ...["requests", "tokens"].flatMap((kind) => [
    { kind: `${kind}-minute`, windowMs: MINUTE_MS, within: "a minute" },
    { kind: `${kind}-hour`, windowMs: HOUR_MS, within: "an hour" },
    { kind: `${kind}-day`, windowMs: DAY_MS, within: "a day" },
  ]),
];

function openaiWindows(
  headers: Record<string, string>,
  now: number,
  rejected: RejectedHeader[],
  modelId: string | undefined,
): QuotaWindow[] {
  const windows: QuotaWindow[] = [];
  for (const { kind, windowMs, within } of LIMIT_KINDS) {
    const resetHeader = `x-ratelimit-reset-${kind}`;
    const resetText = headers[resetHeader];
    const resetsAt = resetText === undefined ? undefined : parseResetTime(resetText, now);
    if (resetText !== undefined && resetsAt === undefined) {
      unreadable(rejected, resetHeader, resetText, RESET_TIME_EXPECTED);
      continue;
    }
    const window = limitWindow(
      kind,
      finite(headers[`x-ratelimit-limit-${kind}`]),
      finite(headers[`x-ratelimit-remaining-${kind}`]),
      resetsAt === undefined ? undefined : resetsAt - now,
      now,
      modelId,
      windowMs,
      // OpenAI's own (and Groq's) limits; Cerebras's named windows are not known to refill continuously.
      windowMs === undefined,
    );
    if (window) keep(windows, rejected, window, resetHeader, `a reset within ${within}`, now);
  }
  for (const slot of ["primary", "secondary"]) {
    const usedPercent = finite(headers[`x-codex-${slot}-used-percent`]);
    const windowMinutes = finite(headers[`x-codex-${slot}-window-minutes`]);
    // A window no longer than a year (uvi.ts): a longer one is a broken header, not a window to pace by.
    const lengthOk =
      windowMinutes !== undefined && windowMinutes > 0 && windowMinutes * MINUTE_MS <= MAX_QUOTA_WINDOW_MS;
    if (usedPercent === undefined || !lengthOk) continue;
    const afterText = headers[`x-codex-${slot}-reset-after-seconds`];
    const atText = headers[`x-codex-${slot}-reset-at`];
    const resetAfter = finite(afterText);
    const resetAt = finite(atText);
    const resetsAt =
      resetAfter !== undefined ? now + resetAfter * 1000 : resetAt !== undefined ? resetAt * 1000 : undefined;
    if (resetsAt === undefined) {
      // Present but unreadable: said, as for the other reset headers (neither present: no reset given, nothing to say).
      if (afterText !== undefined) unreadable(rejected, `x-codex-${slot}-reset-after-seconds`, afterText, "seconds");
      else if (atText !== undefined) unreadable(rejected, `x-codex-${slot}-reset-at`, atText, "epoch seconds");
      continue;
    }
    const window: QuotaWindow = {
      name: slot,
      usedFraction: Math.min(1, Math.max(0, usedPercent / 100)),
      windowMs: windowMinutes * MINUTE_MS,
      resetsAt,
      source: "headers",
    };
    const header = `x-codex-${slot}-${resetAfter !== undefined ? "reset-after-seconds" : "reset-at"}`;
    keep(windows, rejected, window, header, resetAfter !== undefined ? "seconds" : "epoch seconds", now);
  }
  return windows;
}

/**
 * The unsuffixed limits (see the top of the file): x-ratelimit-limit/-remaining as a requests window, Together's
 * x-tokenlimit-limit/-remaining as a tokens window, each reset by the first reset header present. Each is left to the
 * suffixed headers when the provider sends those too (x-ratelimit-limit-requests...), so no limit is read twice.
 */
const GENERIC_LIMITS: ReadonlyArray<{ name: string; prefix: string; resets: readonly string[]; suffixed: string }> = [
  { name: "requests", prefix: "x-ratelimit", resets: ["x-ratelimit-reset"], suffixed: "requests" },
  { name: "tokens", prefix: "x-tokenlimit", resets: ["x-tokenlimit-reset", "x-ratelimit-reset"], suffixed: "tokens" },
];

/**
 * OpenRouter's free variants (model ids ending in `:free`) share one limit of the account, per minute and per day,
 * whichever of them is asked: a window read on one of them paces them all (scope: ids containing `:free`), so the
 * router does not try each free model in turn into the same 429. Only OpenRouter names models so.
 */
const FREE_VARIANT = ":free";

function genericWindows(
  headers: Record<string, string>,
  now: number,
  rejected: RejectedHeader[],
  modelId: string | undefined,
): QuotaWindow[] {
  const freeVariant = modelId?.toLowerCase().endsWith(FREE_VARIANT) === true;
  const windows: QuotaWindow[] = [];
  for (const { name, prefix, resets, suffixed } of GENERIC_LIMITS) {
    const limit = finite(headers[`${prefix}-limit`]);
    const remaining = finite(headers[`${prefix}-remaining`]);
    if (limit === undefined || remaining === undefined) continue;
    if (`x-ratelimit-limit-${suffixed}` in headers || `x-ratelimit-remaining-${suffixed}` in headers) continue;
    const resetHeader = resets.find((header) => headers[header] !== undefined);
    if (resetHeader === undefined) continue; // no reset given: nothing to pace on, nothing to say
    const resetText = headers[resetHeader]!;
    const resetsAt = parseResetTime(resetText, now);
    if (resetsAt === undefined) {
      unreadable(rejected, resetHeader, resetText, RESET_TIME_EXPECTED);
      continue;
    }
    const window = limitWindow(name, limit, remaining, resetsAt - now, now, modelId);
    if (window && freeVariant) window.models = { family: FREE_VARIANT };
    if (window) keep(windows, rejected, window, resetHeader, "a reset within a day", now);
  }
  return windows;
}

const isQuotaHeader = (name: string): boolean => {
  const lowered = name.toLowerCase();
  return lowered.includes("ratelimit") || lowered.includes("tokenlimit") || lowered.startsWith("x-codex-");
};

/**
 * Every quota window the headers of one response describe (none when the provider sends no such headers). A window
 * whose reset lies further away than the window is long is left out, named in `rejected`. `modelId`: the model that
 * answered, whose own request and token limits the headers give (see limitWindow).
 */
export function windowsFromHeaders(
  headers: Record<string, string>,
  now: number,
  rejected: RejectedHeader[] = [],
  modelId?: string,
): QuotaWindow[] {
  if (!Object.keys(headers).some(isQuotaHeader)) return []; // most providers send none: checked before any copying
  const normalized = lower(headers);
  return [
    ...anthropicWindows(normalized, now, rejected, modelId),
    ...openaiWindows(normalized, now, rejected, modelId),
    ...genericWindows(normalized, now, rejected, modelId),
  ];
}

/** Where a window is kept among its provider's: one per name and model scope (each model's own request limit). */
export const windowKey = (window: QuotaWindow): string =>
  window.models?.id ? `${window.name} ${window.models.id}` : window.name;
