// A hard budget's last refusal, as `/auto-router budget` and status show it: it stands while the reservation's own
// check would still refuse a request expected to cost the same, and no longer once that request would fit.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { shortfallText, standingRefusal, standingRefusalNote } from "../../src/budget/budget-refusals.ts";
import { calendarKeys } from "../../src/budget/calendar.ts";
import { emptyLedger, recordUsageOperation, type UsageLedger } from "../../src/budget/usage-ledger.ts";
import type { EffectiveLimits } from "../../src/budget/budget-limits.ts";

const NOW = Date.UTC(2026, 11, 4, 12);
const TODAY = calendarKeys(NOW, "UTC");
const TOMORROW = calendarKeys(NOW + 24 * 3_600_000, "UTC");
const daily = (amount: number): EffectiveLimits => ({ daily: { amount, source: "config" } }) as EffectiveLimits;

function spent(costUsd: number): UsageLedger {
  const totals = { requests: 2, estimated: 0, input: 2600, output: 1000, cacheRead: 0, cacheWrite: 0, costUsd };
  return recordUsageOperation(TODAY, "mock-a", "model-a", totals)(emptyLedger());
}

describe("a hard budget's standing refusal", () => {
  it("stands while a request of the refused estimate would still not fit, though the spend is under the limit", () => {
    const standing = standingRefusal(
      { amountUsd: 3.268, at: NOW - 1_000 },
      { provider: "mock-a", ledger: emptyLedger(), calendar: TODAY, limits: daily(0.05), now: NOW },
    );
    assert.deepEqual(standing, {
      shortfall: { period: "daily", spentUsd: 0, reservedUsd: 0, amountUsd: 3.268, limitUsd: 0.05, source: "config" },
      at: NOW - 1_000,
    });
    assert.equal(shortfallText(standing!.shortfall), "a request's estimate ~$3.268 does not fit the $0.05 left");
  });

  it("counts the spend and the requests in flight into what is left", () => {
    const ledger = {
      ...spent(0.0228),
      reservations: { "other:1": { provider: "mock-a", amountUsd: 0.002, expiresAt: NOW + 60_000 } },
    };
    const standing = standingRefusal(
      { amountUsd: 0.0114, at: NOW },
      { provider: "mock-a", ledger, calendar: TODAY, limits: daily(0.03), now: NOW },
    );
    assert.equal(standing?.shortfall.reservedUsd, 0.002);
    assert.equal(shortfallText(standing!.shortfall), "a request's estimate ~$0.0114 does not fit the $0.0052 left");
  });

  it("says a limit was set by command wherever the refusal is told, as the budget audit does", () => {
    const limits = { daily: { amount: 0.06, source: "command" } } as EffectiveLimits;
    const standing = standingRefusal(
      { amountUsd: 0.026, at: NOW - 3_000 },
      { provider: "mock-a", ledger: spent(0.052), calendar: TODAY, limits, now: NOW },
    );
    assert.equal(
      shortfallText(standing!.shortfall),
      "a request's estimate ~$0.026 does not fit the $0.008 left of its daily limit set with /auto-router budget set",
    );
    assert.equal(
      standingRefusalNote("mock-a", standing!, NOW),
      "mock-a: BLOCKED: a request's estimate ~$0.026 does not fit the $0.008 left of its hard daily limit $0.06 set with /auto-router budget set (spent $0.052, in flight $0.00; last refused 3s ago)",
    );
  });

  it("lapses once the same request would fit: a raised limit, a new day, or no refusal at all", () => {
    const input = { provider: "mock-a", ledger: spent(0.0228), calendar: TODAY, limits: daily(0.03), now: NOW };
    const last = { amountUsd: 0.0114, at: NOW };
    assert.ok(standingRefusal(last, input));
    assert.equal(standingRefusal(last, { ...input, limits: daily(0.05) }), undefined);
    assert.equal(standingRefusal(last, { ...input, calendar: TOMORROW, now: NOW + 24 * 3_600_000 }), undefined);
    assert.equal(standingRefusal(last, { ...input, limits: {} as EffectiveLimits }), undefined);
    assert.equal(standingRefusal(undefined, input), undefined);
  });
});
