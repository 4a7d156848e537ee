// Day and month keys of the spend calendar. One convention everywhere (the earlier implementation keyed days in UTC
// but months in local time): both come from the same wall-clock date in one IANA time zone, the user's local zone
// unless budgets.timeZone says otherwise. Pure: `now` and the zone are arguments.

export interface CalendarKeys {
  /** YYYY-MM-DD in the zone. */
  day: string;
  /** YYYY-MM in the zone. */
  month: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The process's local zone (TZ or the OS setting). */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** True when Intl knows the zone name. */
export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function formatterFor(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** Calendar keys of `now` in `zone`; an unknown zone falls back to the local zone (the caller reports it). */
export function calendarKeys(now: number, zone: string | undefined): CalendarKeys {
  const resolved = zone && isValidTimeZone(zone) ? zone : localTimeZone();
  const parts = formatterFor(resolved).formatToParts(new Date(now));
  const part = (type: string) => parts.find((item) => item.type === type)?.value ?? "00";
  const month = `${part("year")}-${part("month")}`;
  return { day: `${month}-${part("day")}`, month };
}
