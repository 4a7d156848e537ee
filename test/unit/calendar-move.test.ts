import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { calendarZoneOperation, moveToCalendar, type Period } from "../../src/budget/calendar-move.ts";
import { calendarKeys } from "../../src/budget/calendar.ts";
import { emptyLedger, emptyTotals, type UsageLedger } from "../../src/budget/usage-ledger.ts";

const usd = (costUsd: number) => ({ ...emptyTotals(), requests: 1, costUsd });
/** key -> USD spent by provider p, model m. */
const period = (costs: Record<string, number>): Period =>
  Object.fromEntries(Object.entries(costs).map(([key, cost]) => [key, { p: { m: usd(cost) } }]));
const costs = (placed: Period) =>
  Object.fromEntries(Object.entries(placed).map(([key, providers]) => [key, providers.p!.m!.costUsd]));
const keysIn = (zone: string) => (instant: number) => calendarKeys(instant, zone);

describe("moving spend to another calendar", () => {
  // 00:30 on 3 December in Kolkata (+05:30) is 11:00 on 2 December in Los Angeles (-08:00).
  const now = Date.parse("2026-12-02T19:00:00Z");
  const ledger = (zone: string | undefined): UsageLedger => ({
    ...emptyLedger(),
    ...(zone ? { timeZone: zone } : {}),
    days: period({ "2026-12-03": 1, "2026-12-02": 2, "2026-11-30": 4, "2026-11-01": 8 }),
    months: period({ "2026-12": 1, "2026-11": 14 }),
  });

  it("counts today's spend today and every ended day and month where its middle is", () => {
    const moved = calendarZoneOperation(
      "America/Los_Angeles",
      now,
      keysIn("America/Los_Angeles"),
    )(ledger("Asia/Kolkata"));
    assert.equal(moved.timeZone, "America/Los_Angeles");
    // Kolkata's 3rd still runs: today there. Its 2nd's middle (12:00 IST) is 22:30 on the 1st in Los Angeles.
    assert.deepEqual(costs(moved.days), { "2026-12-02": 1, "2026-12-01": 2, "2026-11-29": 4, "2026-10-31": 8 });
    assert.deepEqual(costs(moved.months), { "2026-12": 1, "2026-11": 14 });
  });

  it("puts every key back where it was when the zone changes back (two processes that disagree cannot drift)", () => {
    let current = ledger("Asia/Kolkata");
    for (let round = 0; round < 5; round++) {
      current = calendarZoneOperation("America/Los_Angeles", now, keysIn("America/Los_Angeles"))(current);
      current = calendarZoneOperation("Asia/Kolkata", now, keysIn("Asia/Kolkata"))(current);
    }
    // Kolkata's 3rd went to Los Angeles' today (the 2nd) and comes back as Kolkata's today; the ended days are back.
    assert.deepEqual(costs(current.days), { "2026-12-03": 1, "2026-12-02": 2, "2026-11-30": 4, "2026-11-01": 8 });
    assert.deepEqual(costs(current.months), { "2026-12": 1, "2026-11": 14 });
  });

  it("records the zone of a ledger that has none without moving it, and leaves one on the zone as it is", () => {
    const unzoned = ledger(undefined);
    const recorded = calendarZoneOperation("Asia/Kolkata", now, keysIn("Asia/Kolkata"))(unzoned);
    assert.equal(recorded.timeZone, "Asia/Kolkata");
    assert.equal(recorded.days, unzoned.days);
    assert.equal(calendarZoneOperation("Asia/Kolkata", now, keysIn("Asia/Kolkata"))(recorded), recorded);
  });

  it("keeps last month's spend in last month when UTC months move east (a month ends hours apart, not a month)", () => {
    // 10:00 on 3 December in Tokyo (+09:00): UTC November ended at 09:00 on 1 December there.
    const at = Date.parse("2026-12-03T01:00:00Z");
    const placed = moveToCalendar(
      {
        days: period({ "2026-11-30": 1, "2026-12-02": 2, "2026-12-03": 4 }),
        months: period({ "2026-11": 3, "2026-12": 6 }),
      },
      "UTC",
      at,
      keysIn("Asia/Tokyo"),
      "end",
    );
    assert.deepEqual(costs(placed.months), { "2026-11": 3, "2026-12": 6 });
    // Days as the import places them: in the day each ended in (never less today), the running one today.
    assert.deepEqual(costs(placed.days), { "2026-12-01": 1, "2026-12-03": 6 });
  });

  it("leaves a key that is no date where it is", () => {
    const placed = moveToCalendar(
      { days: period({ "not-a-day": 1 }), months: period({}) },
      "Asia/Kolkata",
      now,
      keysIn("UTC"),
      "middle",
    );
    assert.deepEqual(costs(placed.days), { "not-a-day": 1 });
  });
});
