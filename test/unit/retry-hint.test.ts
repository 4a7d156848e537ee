import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MAXIMUM_RETRY_HINT_MS, parseRetryHint } from "../../src/runtime/retry-hint.ts";

const SECOND_MS = 1_000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
// Sunday 2026-11-22 12:00 UTC: 13:00 in Berlin (CET, UTC+1), 07:00 in New York (EST, UTC-5), 21:00 in Tokyo.
const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

describe("parseRetryHint: relative durations", () => {
  const cases: Array<[string, number]> = [
    ["retry after 30s", 30 * SECOND_MS],
    ["Retry-After: 30", 30 * SECOND_MS],
    ["retry-after: 30", 30 * SECOND_MS],
    ["429 Too Many Requests, retry after 30", 30 * SECOND_MS],
    ["Please try again in 20s", 20 * SECOND_MS],
    ["try again in 1m30s", 90 * SECOND_MS],
    ["Please retry in 12.5s", 12_500],
    ["try again in 2 hours 13 minutes", 2 * HOUR_MS + 13 * MINUTE_MS],
    ["try again in 250ms", 250],
    ["reset after 45s", 45 * SECOND_MS],
    ["resets in 3h", 3 * HOUR_MS],
    ["You have hit your ChatGPT usage limit (plus plan). Try again in ~42 min.", 42 * MINUTE_MS],
    [
      "Rate limit reached for gpt-4o on tokens per min (TPM): Limit 30000, Used 29877, Requested 1523. Please try again in 6ms.",
      6,
    ],
    ["Rate limit reached for o3 on requests per day (RPD): Limit 100. Please try again in 20m0s.", 20 * MINUTE_MS],
    [
      '{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay": "17s"}]}}',
      17 * SECOND_MS,
    ],
  ];
  for (const [text, expectedMs] of cases) {
    it(`reads ${JSON.stringify(text)} as ${expectedMs} ms`, () => {
      assert.equal(parseRetryHint(text, NOW), expectedMs);
    });
  }
});

describe("parseRetryHint: clock times in a named zone", () => {
  it("reads 'resets 3pm (Europe/Berlin)' as later today in Berlin", () => {
    assert.equal(parseRetryHint("You've hit your limit · resets 3pm (Europe/Berlin)", NOW), 2 * HOUR_MS);
  });

  it("reads 'resets at 3:05 PM (America/New_York)' as later today in New York", () => {
    assert.equal(parseRetryHint("resets at 3:05 PM (America/New_York)", NOW), 8 * HOUR_MS + 5 * MINUTE_MS);
  });

  it("wraps to tomorrow when the clock time has already passed in that zone", () => {
    // 11:00 Berlin was 10:00 UTC today; the next one is 10:00 UTC tomorrow.
    assert.equal(parseRetryHint("resets 11am (Europe/Berlin)", NOW), 22 * HOUR_MS);
  });

  it("accounts for a daylight-saving change between now and the reset", () => {
    // Saturday 2026-03-28 12:00 UTC = 13:00 CET; Berlin moves to CEST (UTC+2) on Sunday 02:00.
    const beforeSwitch = Date.UTC(2026, 2, 28, 12, 0, 0);
    assert.equal(parseRetryHint("resets 10am (Europe/Berlin)", beforeSwitch), 20 * HOUR_MS);
  });

  it("uses UTC for a clock time without a zone, or the zone given in the options", () => {
    assert.equal(parseRetryHint("limit resets at 15:00", NOW), 3 * HOUR_MS);
    assert.equal(parseRetryHint("limit resets at 15:00", NOW, { timeZone: "Asia/Tokyo" }), 18 * HOUR_MS);
  });

  it("gives no hint for an unknown zone or a bare number that is not a clock time", () => {
    assert.equal(parseRetryHint("resets 3pm (Mars/Olympus_Mons)", NOW), undefined);
    assert.equal(parseRetryHint("limit resets 3 times a day", NOW), undefined);
  });
});

describe("parseRetryHint: absolute timestamps", () => {
  it("reads 'reset at 11-22 15:00:00 UTC' as this year", () => {
    assert.equal(parseRetryHint("quota will reset at 11-22 15:00:00 UTC", NOW), 3 * HOUR_MS);
  });

  it("reads a month-day more than a day in the past as next year", () => {
    const december30 = Date.UTC(2026, 11, 30, 12, 0, 0);
    assert.equal(parseRetryHint("reset at 01-02 00:00:00 UTC", december30), 2 * DAY_MS + 12 * HOUR_MS);
  });

  it("rejects a month-day that passed less than a day ago instead of waiting a year", () => {
    assert.equal(parseRetryHint("reset at 11-21 15:00:00 UTC", NOW), undefined);
  });

  it("reads ISO timestamps and JSON reset fields", () => {
    assert.equal(parseRetryHint("resets at 2026-11-22T15:00:00Z", NOW), 3 * HOUR_MS);
    assert.equal(parseRetryHint('{"resets_at":"2026-11-22T13:30:00.000+01:00"}', NOW), 30 * MINUTE_MS);
  });

  it("reads epoch seconds from Codex JSON and Claude subscription messages", () => {
    const inFourHoursSeconds = (NOW + 4 * HOUR_MS) / SECOND_MS;
    assert.equal(
      parseRetryHint(`{"error":{"type":"usage_limit_reached","resets_at": ${inFourHoursSeconds}}}`, NOW),
      4 * HOUR_MS,
    );
    assert.equal(parseRetryHint(`Claude AI usage limit reached|${inFourHoursSeconds}`, NOW), 4 * HOUR_MS);
  });

  it("reads the HTTP-date form of Retry-After", () => {
    assert.equal(parseRetryHint("Retry-After: Sun, 22 Nov 2026 12:00:30 GMT", NOW), 30 * SECOND_MS);
  });
});

describe("parseRetryHint: no hint and absurd hints", () => {
  it("returns undefined when the text says nothing about retrying", () => {
    assert.equal(parseRetryHint("", NOW), undefined);
    assert.equal(parseRetryHint("429 Rate limit exceeded", NOW), undefined);
    assert.equal(parseRetryHint("the model took 500ms to answer", NOW), undefined);
    assert.equal(parseRetryHint("Please try again later.", NOW), undefined);
  });

  it("ignores a Retry-After value that is neither delta-seconds nor an HTTP-date", () => {
    for (const value of ["1e3", "30abc", "abc", "-5", "0x10"])
      assert.equal(parseRetryHint(`Retry-After: ${value}`, NOW), undefined, value);
    assert.equal(parseRetryHint(`{"retry_after": 2e1}`, NOW), undefined);
  });

  it("rejects hints in the past", () => {
    assert.equal(parseRetryHint("resets at 2026-11-22T11:00:00Z", NOW), undefined);
  });

  it("rejects hints longer than seven days, even when a laxer form would read a number out of them", () => {
    assert.equal(parseRetryHint("retry after 7 days", NOW), MAXIMUM_RETRY_HINT_MS);
    assert.equal(parseRetryHint("retry after 8 days", NOW), undefined);
    assert.equal(parseRetryHint("resets at 2027-01-22T12:00:00Z", NOW), undefined);
  });
});
