// "When can I retry?" read out of a provider's error text. Providers say it in many shapes (relative
// durations, clock times in a named zone, ISO timestamps, JSON fields); pi-ai hands us only the text.
// Only the failure classifier calls this: DESIGN.md rule 3 keeps every error-text match in one place.
// Everything is relative to the injected `now`, so tests never depend on the wall clock.
import { wallClock, wallClockToInstant } from "../time/zoned-time.ts";

const MILLISECONDS_PER_SECOND = 1_000;
const MILLISECONDS_PER_MINUTE = 60 * MILLISECONDS_PER_SECOND;
const MILLISECONDS_PER_HOUR = 60 * MILLISECONDS_PER_MINUTE;
const MILLISECONDS_PER_DAY = 24 * MILLISECONDS_PER_HOUR;
/** Where Google's daily quotas roll over. */
const GOOGLE_QUOTA_TIME_ZONE = "America/Los_Angeles";
/** A hint further away than this is a parsing accident or a provider bug, not a cooldown. */
export const MAXIMUM_RETRY_HINT_MS = 7 * MILLISECONDS_PER_DAY;

export interface RetryHintOptions {
  /** IANA zone for clock times that name no zone ("resets 3pm"); UTC when absent. */
  timeZone?: string;
}

// "30s", "1m30s", "2 hours 13 minutes", "12.5s", "250ms", "42 min". Longer unit spellings come first so that
// "ms" is not read as minutes and "min" is not read as "m" followed by garbage.
const UNIT = "(?:milliseconds?|millis|ms|seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d)(?![a-z])";
const DURATION_PART = `\\d+(?:\\.\\d+)?\\s*${UNIT}`;
const DURATION = `${DURATION_PART}(?:\\s*(?:,|and)?\\s*${DURATION_PART})*`;
const DURATION_PART_PATTERN = new RegExp(`(\\d+(?:\\.\\d+)?)\\s*(${UNIT})`, "gi");

/** Returns the delay in ms when its form matches (even an absurd one), undefined when it does not match. */
type Extractor = (text: string, now: number, timeZone: string) => number | undefined;

// Ordered: the most specific, machine-written forms first.
const EXTRACTORS: readonly Extractor[] = [
  // Gemini's per-day quotas ("quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier") reset at midnight Pacific
  // time (ai.google.dev/gemini-api/docs/rate-limits); the retryDelay of seconds the same body carries cannot help.
  (text, now) => {
    if (!/"quotaId"\s*:\s*"[^"]*PerDay/i.test(text)) return undefined;
    const resetAt = nextWallClockTime(now, 0, 0, GOOGLE_QUOTA_TIME_ZONE);
    return resetAt === undefined ? undefined : resetAt - now;
  },
  // Gemini: ..."details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"17s"}]
  (text) => {
    const match = /"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"/i.exec(text);
    return match ? Number(match[1]) * MILLISECONDS_PER_SECOND : undefined;
  },
  // "resets at 2026-11-22T15:00:00Z", JSON "resets_at":"2026-11-22T15:00:00.000Z"
  (text, now) => {
    const match =
      /\b(?:resets?|retry|try again|available)(?:[_ ]?at)?["']?\s*[:=]?\s*(?:at\s+)?["']?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}))/i.exec(
        text,
      );
    return match ? Date.parse(match[1]!) - now : undefined;
  },
  // Codex JSON "resets_at": 1763823600, Claude subscription "Claude AI usage limit reached|1763823600"
  (text, now) => {
    const match = /(?:\bresets?[_ ]?at["']?\s*[:=]\s*|usage limit reached\|)(\d{10})(?!\d)/i.exec(text);
    return match ? Number(match[1]) * MILLISECONDS_PER_SECOND - now : undefined;
  },
  // "reset at 11-22 15:00:00 UTC": month-day without a year means this year, or next year once it lies
  // more than a day behind us (a reset that passed minutes ago is just stale and gets rejected).
  (text, now) => {
    const match = /\bresets?\s+(?:at\s+)?(\d{1,2})-(\d{1,2})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*UTC\b/i.exec(text);
    if (!match) return undefined;
    const [month, day, hour, minute, second] = match.slice(1).map((part) => Number(part ?? 0)) as number[];
    if (!isClock(hour!, minute!, second!) || month! < 1 || month! > 12 || day! < 1 || day! > 31) return undefined;
    const year = new Date(now).getUTCFullYear();
    let resetAt = Date.UTC(year, month! - 1, day!, hour!, minute!, second!);
    if (resetAt < now - MILLISECONDS_PER_DAY) resetAt = Date.UTC(year + 1, month! - 1, day!, hour!, minute!, second!);
    return resetAt - now;
  },
  // "resets 3pm (Europe/Berlin)", "resets at 3:05 PM (America/New_York)", "try again at 15:00 UTC"
  (text, now, defaultTimeZone) => {
    const pattern =
      /\b(?:resets?(?:\s+at)?|(?:try again|retry|available)\s+at)\s+(\d{1,2})(?::(\d{2}))?\s*([ap]\.?m\.?)?(?:\s*\(([A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)*)\)|\s+(UTC|GMT)\b)?/gi;
    for (const match of text.matchAll(pattern)) {
      const [, hourText, minuteText, meridiem, zoneName, utcName] = match;
      // A bare number ("resets 3") is too ambiguous to be a clock time.
      if (minuteText === undefined && meridiem === undefined) continue;
      const hour = toTwentyFourHour(Number(hourText), meridiem);
      const minute = Number(minuteText ?? 0);
      if (hour === undefined || !isClock(hour, minute, 0)) continue;
      const timeZone = zoneName ?? (utcName ? "UTC" : defaultTimeZone);
      const resetAt = nextWallClockTime(now, hour, minute, timeZone);
      if (resetAt !== undefined) return resetAt - now;
    }
    return undefined;
  },
  // "Please try again in 20s", "try again in 1m30s", "Please retry in 12.5s", "retry after 30s",
  // "reset after 45s", "resets in 3h", Codex "Try again in ~42 min."
  (text) => {
    const match = new RegExp(
      `\\b(?:retry|try again|resets?|wait)\\s+(?:(?:after|in)\\s+)?(?:~|about\\s+|approximately\\s+)?(${DURATION})`,
      "i",
    ).exec(text);
    return match ? durationToMs(match[1]!) : undefined;
  },
  // "Retry-After: 30", "retry-after: 30", "retry after 30", JSON "retry_after": 30 (seconds by HTTP convention).
  // The number must be the whole value: "1e3" or "30abc" is no delay in seconds, and its leading digit is not one.
  (text) => {
    const match = new RegExp(
      `\\bretry[-_ ]?after["']?\\s*[:=]?\\s*["']?(\\d+(?:\\.\\d+)?)(?![\\d.:a-z-]|\\s*${UNIT})`,
      "i",
    ).exec(text);
    return match ? Number(match[1]) * MILLISECONDS_PER_SECOND : undefined;
  },
  // "Retry-After: Wed, 21 Oct 2026 07:28:00 GMT" (the HTTP-date form of the header)
  (text, now) => {
    const match = /\bretry-after\s*:\s*([A-Z][a-z]{2}, \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT)/i.exec(text);
    return match ? Date.parse(match[1]!) - now : undefined;
  },
];

/** Milliseconds from `now` until the error text says the target can be retried, or undefined if it does not say. */
export function parseRetryHint(text: string, now: number, options?: RetryHintOptions): number | undefined {
  if (!text) return undefined;
  const timeZone = options?.timeZone ?? "UTC";
  for (const extract of EXTRACTORS) {
    const delayMs = extract(text, now, timeZone);
    // The first form that matches decides: "retry after 8 days" is absurd, not "8" seconds by a laxer form.
    if (delayMs !== undefined) return isSaneDelay(delayMs) ? Math.round(delayMs) : undefined;
  }
  return undefined;
}

function isSaneDelay(delayMs: number): boolean {
  return Number.isFinite(delayMs) && delayMs >= 0 && delayMs <= MAXIMUM_RETRY_HINT_MS;
}

function durationToMs(duration: string): number {
  let total = 0;
  for (const [, amount, unit] of duration.matchAll(DURATION_PART_PATTERN)) total += Number(amount) * unitToMs(unit!);
  return total;
}

function unitToMs(unit: string): number {
  const lower = unit.toLowerCase();
  if (lower === "ms" || lower.startsWith("milli")) return 1;
  if (lower.startsWith("s")) return MILLISECONDS_PER_SECOND;
  if (lower.startsWith("m")) return MILLISECONDS_PER_MINUTE;
  if (lower.startsWith("h")) return MILLISECONDS_PER_HOUR;
  return MILLISECONDS_PER_DAY;
}

function isClock(hour: number, minute: number, second: number): boolean {
  return hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59;
}

function toTwentyFourHour(hour: number, meridiem: string | undefined): number | undefined {
  if (meridiem === undefined) return hour;
  if (hour < 1 || hour > 12) return undefined;
  const isAfternoon = meridiem.toLowerCase().startsWith("p");
  return (hour % 12) + (isAfternoon ? 12 : 0);
}

/** The next instant after `now` at which the wall clock in `timeZone` shows hour:minute (today, else tomorrow). */
function nextWallClockTime(now: number, hour: number, minute: number, timeZone: string): number | undefined {
  const today = wallClock(now, timeZone);
  if (!today) return undefined;
  for (const dayOffset of [0, 1]) {
    const instant = wallClockToInstant(today.year, today.month, today.day + dayOffset, hour, minute, timeZone);
    if (instant === undefined) return undefined;
    if (instant > now) return instant;
  }
  return undefined;
}
