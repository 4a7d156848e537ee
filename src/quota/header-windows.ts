// Passive quota source: the rate-limit headers every target response already carries, read through pi-ai's
// onResponse hook. Any provider that sends them gets pacing with zero extra requests.
//   Anthropic: anthropic-ratelimit-unified-<5h|7d|...>-utilization (0..1) + -reset (epoch s) on subscriptions
//              ("7d_opus": a window only Opus models draw on, so it paces only them);
//              anthropic-ratelimit-<requests|tokens|input-tokens|output-tokens>-<limit|remaining|reset> (RFC 3339)
//   OpenAI:    x-ratelimit-<limit|remaining|reset>-<requests|tokens> (reset as "6m0s", "1s", "20ms")
//   Codex:     x-codex-<primary|secondary>-used-percent, -window-minutes, -reset-after-seconds | -reset-at (epoch s)
import { resetBelievable, unbelievableResetText, type QuotaWindow } from "../routing/uvi.ts";

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

/** OpenAI's reset durations: "1s", "6m0s", "1h2m3.5s", "20ms". */
export function parseResetDuration(text: string | undefined): number | undefined {
  if (!text) return undefined;
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
 * A request or token limit window. These limits are the model's (Anthropic's per model class, OpenAI's per model), so
 * with the answering model's id the window paces that model only: one model near its per-minute limit does not demote
 * or skip the provider's other models.
 */
function limitWindow(
  name: string,
  limit: number | undefined,
  remaining: number | undefined,
  resetInMs: number | undefined,
  now: number,
  modelId: string | undefined,
): QuotaWindow | undefined {
  if (limit === undefined || remaining === undefined || limit <= 0 || resetInMs === undefined) return undefined;
  const windowMs = resetInMs > MINUTE_WINDOW_MS ? DAY_MS : MINUTE_WINDOW_MS;
  const window: QuotaWindow = {
    name,
    usedFraction: Math.min(1, Math.max(0, 1 - remaining / limit)),
    windowMs,
    resetsAt: now + Math.max(0, resetInMs),
    source: "headers",
  };
  if (modelId) window.models = { id: modelId.toLowerCase() };
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
    const resetSeconds = finite(headers[`anthropic-ratelimit-unified-${windowName}-reset`]);
    const windowMs = windowLengthFromName(windowName);
    if (utilization === undefined || resetSeconds === undefined || windowMs === undefined) continue;
    const window: QuotaWindow = {
      name: windowName,
      usedFraction: Math.min(1, Math.max(0, utilization)),
      windowMs,
      resetsAt: resetSeconds * 1000,
      source: "headers",
    };
    const family = /^\d+[mhd]_([a-z]+)$/.exec(windowName)?.[1];
    if (family) window.models = { family };
    keep(windows, rejected, window, `anthropic-ratelimit-unified-${windowName}-reset`, "epoch seconds", now);
  }
  for (const kind of ["requests", "tokens", "input-tokens", "output-tokens"]) {
    const reset = headers[`anthropic-ratelimit-${kind}-reset`];
    const resetAt = reset ? Date.parse(reset) : NaN;
    const window = limitWindow(
      kind,
      finite(headers[`anthropic-ratelimit-${kind}-limit`]),
      finite(headers[`anthropic-ratelimit-${kind}-remaining`]),
      Number.isNaN(resetAt) ? undefined : resetAt - now,
      now,
      modelId,
    );
    if (window)
      keep(windows, rejected, window, `anthropic-ratelimit-${kind}-reset`, "an RFC 3339 time within a day", now);
  }
  return windows;
}

function openaiWindows(
  headers: Record<string, string>,
  now: number,
  rejected: RejectedHeader[],
  modelId: string | undefined,
): QuotaWindow[] {
  const windows: QuotaWindow[] = [];
  for (const kind of ["requests", "tokens"]) {
    const window = limitWindow(
      kind,
      finite(headers[`x-ratelimit-limit-${kind}`]),
      finite(headers[`x-ratelimit-remaining-${kind}`]),
      parseResetDuration(headers[`x-ratelimit-reset-${kind}`]),
      now,
      modelId,
    );
    if (window) keep(windows, rejected, window, `x-ratelimit-reset-${kind}`, "a duration of at most a day", now);
  }
  for (const slot of ["primary", "secondary"]) {
    const usedPercent = finite(headers[`x-codex-${slot}-used-percent`]);
    const windowMinutes = finite(headers[`x-codex-${slot}-window-minutes`]);
    if (usedPercent === undefined || windowMinutes === undefined || windowMinutes <= 0) continue;
    const resetAfter = finite(headers[`x-codex-${slot}-reset-after-seconds`]);
    const resetAt = finite(headers[`x-codex-${slot}-reset-at`]);
    const resetsAt =
      resetAfter !== undefined ? now + resetAfter * 1000 : resetAt !== undefined ? resetAt * 1000 : undefined;
    if (resetsAt === undefined) continue;
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

const isQuotaHeader = (name: string): boolean => {
  const lowered = name.toLowerCase();
  return lowered.includes("ratelimit") || lowered.startsWith("x-codex-");
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
  ];
}

/** Where a window is kept among its provider's: one per name and model scope (each model's own request limit). */
export const windowKey = (window: QuotaWindow): string =>
  window.models?.id ? `${window.name} ${window.models.id}` : window.name;
