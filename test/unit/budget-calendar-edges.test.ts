// The spend calendar's day and month keys at their edges: zones with 30- and 45-minute offsets, DST days of 23 and
// 25 hours (and Lord Howe's 30-minute shift), month ends and a leap February. Each key must change exactly at the
// local midnight and at no other instant.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { calendarKeys, nextDayStart, previousMonthKey } from "../../src/budget/calendar.ts";
import { monthBounds } from "../../src/budget/monthly-spend.ts";

const MINUTE = 60_000;

/** Every instant (minute by minute over `hours`) at which the day key changes, with the key it changes to. */
function dayChanges(zone: string, fromIso: string, hours: number): string[] {
  const changes: string[] = [];
  const start = Date.parse(fromIso);
  let previous = calendarKeys(start, zone).day;
  for (let at = start + MINUTE; at < start + hours * 60 * MINUTE; at += MINUTE) {
    const day = calendarKeys(at, zone).day;
    if (day !== previous) changes.push(`${new Date(at).toISOString().slice(0, 16)} ${day}`);
    previous = day;
  }
  return changes;
}

describe("the spend calendar at its edges", () => {
  it("starts each day at local midnight through DST days of 23 and 25 hours", () => {
    // Los Angeles: 2026-03-08 has 23 hours, 2026-11-01 has 25 (01:00-02:00 twice, both in Nov 1).
    assert.deepEqual(dayChanges("America/Los_Angeles", "2026-03-07T12:00:00Z", 48), [
      "2026-03-08T08:00 2026-03-08",
      "2026-03-09T07:00 2026-03-09",
    ]);
    assert.deepEqual(dayChanges("America/Los_Angeles", "2026-10-31T12:00:00Z", 48), [
      "2026-11-01T07:00 2026-11-01",
      "2026-11-02T08:00 2026-11-02",
    ]);
    // Lord Howe moves by 30 minutes: +10:30 to +11 on 2026-10-04, back on 2026-04-05.
    assert.deepEqual(dayChanges("Australia/Lord_Howe", "2026-10-03T00:00:00Z", 48), [
      "2026-10-03T13:30 2026-10-04",
      "2026-10-04T13:00 2026-10-05",
    ]);
    assert.deepEqual(dayChanges("Australia/Lord_Howe", "2026-04-04T00:00:00Z", 48), [
      "2026-04-04T13:00 2026-04-05",
      "2026-04-05T13:30 2026-04-06",
    ]);
    // Chatham: +13:45 to +12:45 on 2026-04-05.
    assert.deepEqual(dayChanges("Pacific/Chatham", "2026-04-04T00:00:00Z", 48), [
      "2026-04-04T10:15 2026-04-05",
      "2026-04-05T11:15 2026-04-06",
    ]);
  });

  it("changes month on the 1st at local midnight, a leap February's 29th included", () => {
    assert.deepEqual(dayChanges("Asia/Kolkata", "2028-02-28T12:00:00Z", 48), [
      "2028-02-28T18:30 2028-02-29",
      "2028-02-29T18:30 2028-03-01",
    ]);
    assert.deepEqual(calendarKeys(Date.parse("2028-02-29T18:29:00Z"), "Asia/Kolkata"), {
      day: "2028-02-29",
      month: "2028-02",
    });
    assert.deepEqual(calendarKeys(Date.parse("2026-01-31T10:15:00Z"), "Pacific/Chatham"), {
      day: "2026-02-01",
      month: "2026-02",
    });
    assert.deepEqual(monthBounds(Date.parse("2028-02-15T00:00:00Z"), "Asia/Kolkata"), {
      start: Date.parse("2028-01-31T18:30:00Z"),
      end: Date.parse("2028-02-29T18:30:00Z"),
    });
    // October on Lord Howe starts at +10:30 and ends at +11.
    assert.deepEqual(monthBounds(Date.parse("2026-10-15T00:00:00Z"), "Australia/Lord_Howe"), {
      start: Date.parse("2026-09-30T13:30:00Z"),
      end: Date.parse("2026-10-31T13:00:00Z"),
    });
  });

  it("names the month before a month, across a year's end", () => {
    assert.deepEqual(["2026-12", "2026-10", "2027-01", "2026-03"].map(previousMonthKey), [
      "2026-11",
      "2026-09",
      "2026-12",
      "2026-02",
    ]);
  });

  it("finds when a day ends in its zone, on a quarter-hour offset and across a DST change", () => {
    // 23:59 in Kolkata (+05:30) ends at 18:30 UTC; a minute after midnight, the next day's end is a day away.
    assert.equal(nextDayStart(Date.parse("2026-12-01T18:29:00Z"), "Asia/Kolkata"), Date.parse("2026-12-01T18:30:00Z"));
    assert.equal(nextDayStart(Date.parse("2026-12-01T18:31:00Z"), "Asia/Kolkata"), Date.parse("2026-12-02T18:30:00Z"));
    // Kathmandu is +05:45.
    assert.equal(
      nextDayStart(Date.parse("2026-12-01T12:00:00Z"), "Asia/Kathmandu"),
      Date.parse("2026-12-01T18:15:00Z"),
    );
    // 29 March 2026 in London is 23 hours long (clocks go forward at 01:00 UTC): it ends at 23:00 UTC.
    assert.equal(nextDayStart(Date.parse("2026-03-29T00:30:00Z"), "Europe/London"), Date.parse("2026-03-29T23:00:00Z"));
  });
});
