// A team counts its budgets on one calendar (UTC, or budgets.timeZone): a machine whose routes file sets another zone
// fills other days' totals, so the team's daily spend is split between two days and a daily limit can be passed.
// Each machine records the zone it counts on in the team's state; one that finds another machine on another zone
// says so, naming it, once per process and zone.
import { z } from "zod";
import { stateTime } from "../state/state-numbers.ts";
import { stateObject } from "../state/unknown-fields.ts";
import { formatDuration } from "../analytics/text-format.ts";
import type { PluginContext } from "../runtime/plugin.ts";
import { salvageRecords } from "../state/salvage.ts";

export const TEAM_CALENDARS_STORE_NAME = "budget-calendars";
/** A machine not seen for this long (retired, renamed) is no longer compared with. */
const FORGET_AFTER_MS = 30 * 24 * 3_600_000;
/** A machine says its zone again after this long (each process start would otherwise write the team's state). */
const REFRESH_AFTER_MS = 24 * 3_600_000;

const calendarsSchema = stateObject({
  v: z.literal(1),
  /** Per machine: the zone its budgets count on, and when it last said so. */
  machines: z.record(z.string(), stateObject({ zone: z.string(), at: stateTime() })),
});
type Calendars = z.infer<typeof calendarsSchema>;
const emptyCalendars = (): Calendars => ({ v: 1, machines: {} });

/** The machines (seen within FORGET_AFTER_MS) that count on another zone than `zone`, with how long ago they said so. */
export function otherZones(
  state: Calendars,
  machine: string,
  zone: string,
  now: number,
): Array<{ machine: string; zone: string; agoMs: number }> {
  return Object.entries(state.machines)
    .filter(([name, entry]) => name !== machine && entry.zone !== zone && now - entry.at < FORGET_AFTER_MS)
    .map(([name, entry]) => ({ machine: name, zone: entry.zone, agoMs: Math.max(0, now - entry.at) }))
    .sort((a, b) => a.machine.localeCompare(b.machine));
}

/**
 * The team's calendars with this machine's zone said now, without the machines not seen for FORGET_AFTER_MS: they are
 * no longer compared with, and a team whose machines come and go under new names (CI runners named after their host)
 * would otherwise add one to this state for as long as it runs.
 */
function withZone(state: Calendars, machine: string, zone: string, now: number): Calendars {
  const machines: Calendars["machines"] = {};
  for (const [name, entry] of Object.entries(state.machines))
    if (name !== machine && now - entry.at < FORGET_AFTER_MS) machines[name] = entry;
  // Said again: the machine's entry keeps what a newer version added to it (unknown-fields.ts).
  machines[machine] = { ...state.machines[machine], zone, at: now };
  return { ...state, machines };
}

/** The team's machines on another calendar, as the warning and `/auto-router budget` name them. */
export function otherZonesText(others: ReturnType<typeof otherZones>): string {
  return others
    .map((other) => `${other.machine} on ${other.zone}'s (said ${formatDuration(other.agoMs)} ago)`)
    .join(", ");
}

export interface TeamCalendars {
  /** Records this machine's zone (when it changed, or once a day) and warns about machines on another. */
  follow(zone: string, now: number): void;
  /** The team's machines that count on another zone than `zone` now (none outside team mode). */
  others(zone: string, now: number): ReturnType<typeof otherZones>;
}

/** Records this machine's zone and warns about the team's machines on another; a no-op outside team mode. */
export function openTeamCalendars(context: PluginContext): TeamCalendars {
  if (!context.teamMode) return { follow: () => undefined, others: () => [] };
  const store = context.openStore(
    TEAM_CALENDARS_STORE_NAME,
    emptyCalendars,
    (raw) => calendarsSchema.parse(raw),
    salvageRecords(calendarsSchema, emptyCalendars),
  );
  const machine = context.machine ?? "this machine";
  const warned = new Set<string>();
  return {
    others: (zone, now) => otherZones(store.read(), machine, zone, now),
    follow(zone, now) {
      const state = store.read();
      const others = otherZones(state, machine, zone, now);
      const own = state.machines[machine];
      if (own?.zone !== zone || now - own.at >= REFRESH_AFTER_MS)
        store.update((current) => withZone(current, machine, zone, now));
      const key = `${zone}|${others.map((other) => `${other.machine}=${other.zone}`).join(",")}`;
      if (others.length === 0 || warned.has(key)) return;
      warned.add(key);
      context.warn(
        `auto-router: this machine (${machine}) counts the team's budgets on ${zone}'s calendar, ${otherZonesText(others)}: the team's daily spend is then split between their days and a daily limit can be passed; set the same budgets.timeZone in every machine's routes file`,
      );
    },
  };
}
