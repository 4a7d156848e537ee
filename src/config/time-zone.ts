// A time zone name in the routes file is checked when the file loads: a zone Intl does not know ("Mars/Olympus",
// "Europe/Berln") would otherwise make every time window on it silently never match. Each distinct name is tried once
// (a reload re-validates the whole file, and building a DateTimeFormat is not free).
import { z } from "zod";
import { closestWord } from "./spelling.ts";

const known = new Map<string, boolean>();

export function isTimeZone(name: string): boolean {
  let valid = known.get(name);
  if (valid === undefined) {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: name });
      valid = true;
    } catch {
      valid = false;
    }
    known.set(name, valid);
  }
  return valid;
}

/** The zone Intl knows that is closest in spelling, only worked out for a name that is wrong. */
function closestZone(name: string): string | undefined {
  const zones = (Intl as { supportedValuesOf?: (key: string) => string[] }).supportedValuesOf?.("timeZone") ?? [];
  return closestWord(name, [...zones, "UTC"], Math.max(1, Math.floor(name.length / 4)));
}

export const timeZoneSchema = () =>
  z.string().refine(isTimeZone, {
    error: (issue) => {
      const name = String(issue.input);
      const near = closestZone(name);
      return `unknown time zone "${name}"; ${near ? `did you mean "${near}"?` : 'expected an IANA name such as "Europe/Berlin" or "UTC"'}`;
    },
  });
