import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openTeamCalendars, otherZones } from "../../src/budget/team-calendars.ts";
import type { PluginContext } from "../../src/runtime/plugin.ts";
import { createMemoryStore } from "../../src/state/memory-store.ts";

describe("team calendars", () => {
  it("names the machines seen in the last 30 days that count on another zone, not this one or a retired one", () => {
    const now = Date.parse("2026-12-04T06:00:00Z");
    const day = 24 * 3_600_000;
    const state = {
      v: 1 as const,
      machines: {
        laptop: { zone: "UTC", at: now - 1_000 },
        anchorage: { zone: "America/Anchorage", at: now - 2 * day },
        old: { zone: "Asia/Tokyo", at: now - 31 * day },
        same: { zone: "UTC", at: now - 5_000 },
      },
    };
    assert.deepEqual(otherZones(state, "laptop", "UTC", now), [
      { machine: "anchorage", zone: "America/Anchorage", agoMs: 2 * day },
    ]);
    assert.deepEqual(otherZones(state, "anchorage", "America/Anchorage", now), [
      { machine: "laptop", zone: "UTC", agoMs: 1_000 },
      { machine: "same", zone: "UTC", agoMs: 5_000 },
    ]);
  });

  it("records this machine's zone and forgets the machines not seen for 30 days, so the state does not grow with each new name", () => {
    const now = Date.parse("2026-12-04T06:00:00Z");
    const day = 24 * 3_600_000;
    const store = createMemoryStore({
      v: 1 as const,
      machines: {
        laptop: { zone: "UTC", at: now - 3 * day },
        "ci-runner-7f3a": { zone: "UTC", at: now - 29 * day },
        "ci-runner-01bc": { zone: "UTC", at: now - 31 * day },
        retired: { zone: "Asia/Tokyo", at: now - 90 * day },
      },
    });
    const warnings: string[] = [];
    const context = {
      teamMode: true,
      machine: "laptop",
      openStore: () => store,
      warn: (text: string) => warnings.push(text),
    };
    openTeamCalendars(context as unknown as PluginContext).follow("Europe/Berlin", now);
    assert.deepEqual(store.read(), {
      v: 1,
      machines: {
        "ci-runner-7f3a": { zone: "UTC", at: now - 29 * day },
        laptop: { zone: "Europe/Berlin", at: now },
      },
    });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /ci-runner-7f3a on UTC's/);
  });

  it("lists the machines on another calendar whenever asked, also those that appeared after this process said its zone", () => {
    const now = Date.parse("2026-12-04T06:00:00Z");
    const store = createMemoryStore({ v: 1 as const, machines: {} });
    const warnings: string[] = [];
    const context = {
      teamMode: true,
      machine: "first",
      openStore: () => store,
      warn: (text: string) => warnings.push(text),
    };
    const calendars = openTeamCalendars(context as unknown as PluginContext);
    calendars.follow("UTC", now);
    assert.deepEqual(calendars.others("UTC", now), []);
    // Another machine on another zone joins later; this process does not say its zone again.
    store.update((state) => ({
      ...state,
      machines: { ...state.machines, later: { zone: "Asia/Tokyo", at: now + 1_000 } },
    }));
    assert.deepEqual(calendars.others("UTC", now + 5_000), [{ machine: "later", zone: "Asia/Tokyo", agoMs: 4_000 }]);
    assert.deepEqual(warnings, [], "the warning was for when it said its zone: the list is what `budget` shows");
    const outside = openTeamCalendars({ ...context, teamMode: false } as unknown as PluginContext);
    assert.deepEqual(outside.others("UTC", now), [], "no team, no other calendars");
  });
});
