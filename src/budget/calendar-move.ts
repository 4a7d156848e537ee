// Spend moved from one budget calendar to another: the earlier router's UTC dates when its file is imported, and this
// ledger's own dates when its zone changes (budgets.timeZone, or the machine's zone). A day still running counts in
// today; a day that has ended counts in the day it ended in (`endedDays: "end"`: a day that straddles two counts whole
// in the later one, never less spend today, for the one-time import) or in the day that holds its middle ("middle":
// moving A -> B -> A then puts every day back where it was, so two processes that disagree on the zone cannot push
// past days into today by turns). A month counts in the month that holds its middle, or in this month while its
// middle is still to come: months overlap by hours only, and counting a whole month in the next one would read last
// month's spend as this month's. Two that land on one key add up. Pure: `now` and the zones are arguments.
import { wallClockToInstant } from "../time/zoned-time.ts";
import type { CalendarKeys } from "./calendar.ts";
import { addedTotals, emptyTotals, type UsageLedger } from "./usage-ledger.ts";

export type Period = UsageLedger["days"];
export interface Periods {
  days: Period;
  months: Period;
}

const KEY = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/;

/** [first instant, the next one's first] of the day or month `key` in `zone`; undefined for a key that is no date. */
function bounds(key: string, zone: string): [number, number] | undefined {
  const match = KEY.exec(key);
  if (!match) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = match[3] === undefined ? undefined : Number(match[3]);
  // Date.UTC normalises overflow: month 13 is next year's January, day 32 the next month's 1st.
  const start = wallClockToInstant(year, month, day ?? 1, 0, 0, zone);
  const next =
    day === undefined
      ? wallClockToInstant(year, month + 1, 1, 0, 0, zone)
      : wallClockToInstant(year, month, day + 1, 0, 0, zone);
  return start === undefined || next === undefined ? undefined : [start, next];
}

/**
 * Adds `source`'s totals into a copy of `target`. A model's totals that land on a key of their own keep every field (a
 * newer version's too); of two that land on one key, the fields this version counts are added, and of the others
 * (which it cannot add up) the target's are kept, else the source's: each is kept once, under the new key only.
 */
export function mergePeriods(target: Period, source: Period): Period {
  const result: Period = { ...target };
  for (const [key, providers] of Object.entries(source)) {
    const bucket = { ...result[key] };
    for (const [provider, models] of Object.entries(providers)) {
      const existing = { ...bucket[provider] };
      for (const [modelId, totals] of Object.entries(models))
        existing[modelId] = { ...totals, ...addedTotals(existing[modelId] ?? emptyTotals(), totals) };
      bucket[provider] = existing;
    }
    result[key] = bucket;
  }
  return result;
}

/**
 * `periods`, dated in zone `from`, on the calendar of `keysAt` (the new zone's keys of an instant) at `now`. A key
 * that is no date stays as it is.
 */
export function moveToCalendar(
  periods: Periods,
  from: string,
  now: number,
  keysAt: (instant: number) => CalendarKeys,
  endedDays: "end" | "middle",
): Periods {
  const place = (period: Period, pick: "day" | "month"): Period => {
    let placed: Period = {};
    for (const [key, providers] of Object.entries(period)) {
      const span = bounds(key, from);
      let target = key;
      if (span) {
        const [start, next] = span;
        const middle = start + (next - start) / 2;
        const at = pick === "month" ? middle : next > now ? now : endedDays === "end" ? next - 1 : middle;
        target = keysAt(Math.min(now, at))[pick];
      }
      placed = mergePeriods(placed, { [target]: providers });
    }
    return placed;
  };
  return { days: place(periods.days, "day"), months: place(periods.months, "month") };
}

/**
 * The ledger on the calendar of zone `to`: its dates moved when they are another zone's, else only the zone recorded.
 * A ledger already on `to` is returned as it is, so every window (and a replay) can run it.
 */
export function calendarZoneOperation(to: string, now: number, keysAt: (instant: number) => CalendarKeys) {
  return (ledger: UsageLedger): UsageLedger => {
    if (ledger.timeZone === to) return ledger;
    if (ledger.timeZone === undefined) return { ...ledger, timeZone: to };
    return { ...ledger, ...moveToCalendar(ledger, ledger.timeZone, now, keysAt, "middle"), timeZone: to };
  };
}
