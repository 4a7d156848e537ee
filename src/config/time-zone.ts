// A time zone name in the routes file is checked when the file loads: a zone Intl does not know ("Mars/Olympus",
// "Europe/Berln") would otherwise make every time window on it silently never match. Each distinct name is tried once,
// by the clock's own memo of formatters (src/time/zoned-time.ts), which the time windows then use.
import { z } from "zod";
import { isValidTimeZone } from "../time/zoned-time.ts";
import { closestWord } from "./spelling.ts";

/** The zone Intl knows that is closest in spelling, only worked out for a name that is wrong. */
function closestZone(name: string): string | undefined {
  const zones = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.("timeZone") ?? [];
  return closestWord(name, [...zones, "UTC"], Math.max(1, Math.floor(name.length / 4)));
}

export const timeZoneSchema = () =>
  z.string().refine(isValidTimeZone, {
    error: (issue) => {
      const name = String(issue.input);
      const near = closestZone(name);
      return `unknown time zone "${name}"; ${near ? `did you mean "${near}"?` : 'expected an IANA name such as "Europe/Berlin" or "UTC"'}`;
    },
  });
