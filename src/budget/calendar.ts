// Day and month keys of the spend calendar. One convention everywhere (the earlier implementation keyed days in UTC
// but months in local time): both come from the same wall-clock date in one IANA time zone, the user's local zone
// unless budgets.timeZone says otherwise. Pure: `now` and the zone are arguments.
import { isValidTimeZone, localTimeZone, wallClock } from "../time/zoned-time.ts";

export { isValidTimeZone, localTimeZone };

export interface CalendarKeys {
  /** YYYY-MM-DD in the zone. */
  readonly day: string;
  /** YYYY-MM in the zone. */
  readonly month: string;
}

/** Every zone's offset is a multiple of 15 minutes, so a date never changes inside one aligned quarter hour. */
const QUARTER_HOUR_MS = 15 * 60_000;
const lastKeys = new Map<string, { slot: number; keys: CalendarKeys }>();
const pad = (value: number) => (value < 10 ? `0${value}` : String(value));

/** Calendar keys of `now` in `zone`; an unknown zone falls back to the local zone (the caller reports it). */
export function calendarKeys(now: number, zone: string | undefined): CalendarKeys {
  const resolved = zone && isValidTimeZone(zone) ? zone : localTimeZone();
  const slot = Math.floor(now / QUARTER_HOUR_MS);
  const cached = lastKeys.get(resolved);
  if (cached?.slot === slot) return cached.keys;
  const clock = wallClock(now, resolved)!;
  const month = `${clock.year}-${pad(clock.month)}`;
  const keys = { day: `${month}-${pad(clock.day)}`, month };
  lastKeys.set(resolved, { slot, keys });
  return keys;
}

/**
 * The instant `keys`'s day ends in `zone` (after `now`, which is on that day): dates change only at aligned quarter
 * hours, so it is the first of them with another day's key (at most a day and a quarter of them ahead, computed once
 * a day by whoever waits for it).
 */
export function nextDayStart(now: number, zone: string | undefined): number {
  const day = calendarKeys(now, zone).day;
  let slot = Math.floor(now / QUARTER_HOUR_MS) + 1;
  while (calendarKeys(slot * QUARTER_HOUR_MS, zone).day === day) slot++;
  return slot * QUARTER_HOUR_MS;
}

/** The month before `month` (YYYY-MM). */
export function previousMonthKey(month: string): string {
  const year = Number(month.slice(0, 4));
  const number = Number(month.slice(5, 7));
  return number === 1 ? `${year - 1}-12` : `${year}-${pad(number - 1)}`;
}
