// Wall-clock arithmetic in IANA time zones, in one place: the budget calendar, monthly windows, rule time windows and
// "resets at 15:00" retry hints all read the clock through here. Building an Intl.DateTimeFormat costs 70-100 µs, so
// one formatter is kept per zone for the life of the process, and a zone's validity is remembered; formatting with
// a kept formatter costs a few microseconds. Pure apart from those memos: `instant` and the zone are arguments.

export interface WallClock {
  year: number;
  /** 1-12. */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday. */
  weekday: number;
}

const WEEKDAY_INDEX: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** null = a zone name Intl does not know. */
const formatters = new Map<string, Intl.DateTimeFormat | null>();
let localZone: string | undefined;

function formatterFor(zone: string): Intl.DateTimeFormat | null {
  let formatter = formatters.get(zone);
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat("en-US", {
        timeZone: zone,
        hourCycle: "h23",
        weekday: "short",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch {
      formatter = null;
    }
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** The process's local zone (TZ or the OS setting), read once: it is the same for the life of the process. */
export function localTimeZone(): string {
  localZone ??= new Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  return localZone;
}

/** True when Intl knows the zone name. */
export function isValidTimeZone(zone: string): boolean {
  return formatterFor(zone) !== null;
}

/** The wall clock in `zone` at `instant`; undefined for a zone Intl does not know. */
export function wallClock(instant: number, zone: string): WallClock | undefined {
  const formatter = formatterFor(zone);
  if (!formatter) return undefined;
  const clock: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, weekday: 0 };
  for (const part of formatter.formatToParts(instant)) {
    switch (part.type) {
      case "year":
        clock.year = Number(part.value);
        break;
      case "month":
        clock.month = Number(part.value);
        break;
      case "day":
        clock.day = Number(part.value);
        break;
      case "hour":
        clock.hour = Number(part.value) % 24;
        break;
      case "minute":
        clock.minute = Number(part.value);
        break;
      case "second":
        clock.second = Number(part.value);
        break;
      case "weekday":
        clock.weekday = WEEKDAY_INDEX[part.value] ?? 0;
        break;
    }
  }
  return clock;
}

/** Local time of `instant` in `zone` read as if it were UTC, minus `instant` (whole seconds): the zone's offset. */
export function zoneOffsetMs(instant: number, zone: string): number | undefined {
  const clock = wallClock(instant, zone);
  if (!clock) return undefined;
  return (
    Date.UTC(clock.year, clock.month - 1, clock.day, clock.hour, clock.minute, clock.second) -
    Math.floor(instant / 1000) * 1000
  );
}

/**
 * The instant at which the wall clock in `zone` shows the given date and time (month 1-12; Date.UTC normalises
 * overflow, so day 32 is the next month's 1st). The offset is taken twice, so a DST change in between is right.
 */
export function wallClockToInstant(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  zone: string,
): number | undefined {
  const asIfUtc = Date.UTC(year, month - 1, day, hour, minute);
  const firstOffset = zoneOffsetMs(asIfUtc, zone);
  if (firstOffset === undefined) return undefined;
  const secondOffset = zoneOffsetMs(asIfUtc - firstOffset, zone);
  return secondOffset === undefined ? undefined : asIfUtc - secondOffset;
}
