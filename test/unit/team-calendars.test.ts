import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { otherZones } from "../../src/budget/team-calendars.ts";

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
});
